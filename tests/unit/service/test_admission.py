"""The admission ConfigMap: one per (namespace, name) shared by the VoiceCapacities naming it,
written only when a published limit changes; steady cycles write nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from support.objects import capacity_body
from support.world import MemoryWorld, service_for


def vertical(name: str, ready: int) -> tuple[dict[str, Any], int]:
    body = capacity_body(admission={"configMapRef": {"name": "voice-admission"}})
    body["spec"].pop("model")
    body["spec"]["peaks"] = []
    body["metadata"]["name"] = name
    body["spec"]["targetRef"]["name"] = f"{name}-agent"
    return body, ready


def limits(world: MemoryWorld) -> dict[str, Any]:
    config_map = world.children[("voice", "ConfigMap", "voice-admission")]
    return dict(json.loads(config_map["data"]["limits.json"])["verticals"])


def configmap_writes(writes: list[tuple[str, str]]) -> int:
    return sum(1 for _, resource in writes if resource == "configmaps")


@pytest.mark.asyncio
async def test_one_config_map_for_the_namespace_written_only_on_changes() -> None:
    world = MemoryWorld()
    for body, ready in (vertical("healthcare", 20), vertical("sales", 2)):
        world.add_capacity(body, ready=ready)
    service = service_for(world, {"healthcare": 100.0, "sales": 50.0})
    await service.fleet.cycle()
    assert limits(world) == {
        "healthcare": {"maxSessions": 4000, "reason": "Pods", "overflow": "Reject", "pods": 20},
        "sales": {"maxSessions": 400, "reason": "Pods", "overflow": "Reject", "pods": 2},
    }
    writes = configmap_writes(service.kube.writes)
    await service.fleet.cycle()
    await service.fleet.cycle()
    assert configmap_writes(service.kube.writes) == writes, "steady cycles write nothing"

    world.ready[("voice", "Deployment", "healthcare-agent")] = 21  # +5 % exactly: written
    await service.fleet.cycle()
    assert limits(world)["healthcare"]["maxSessions"] == 4200
    world.ready[("voice", "Deployment", "healthcare-agent")] = 22  # +4.8 %, but a pod more:
    await service.fleet.cycle()  # each worker's share (limit // pods) must follow at once
    assert (limits(world)["healthcare"]["maxSessions"], limits(world)["healthcare"]["pods"]) == (
        4400,
        22,
    )
    world.ready[("voice", "Deployment", "healthcare-agent")] = 19  # lower: at once
    await service.fleet.cycle()
    assert limits(world)["healthcare"]["maxSessions"] == 3800
    assert configmap_writes(service.kube.writes) == writes + 3

    world.capacity_bodies.pop("voice/sales")  # sales goes: its entry goes
    await service.fleet.cycle()
    assert set(limits(world)) == {"healthcare"}


@pytest.mark.asyncio
async def test_tiers_are_published_beside_the_limit_and_shown_in_status() -> None:
    """healthcare: 20 ready pods x 200 = 4,000 calls, 100 kept for vip, queue past the limit, a
    dial pace of 3,900 general calls over the declared 4-minute call (16.25 a second)."""
    world = MemoryWorld()
    body, ready = vertical("healthcare", 20)
    body["spec"]["sessions"]["callDuration"] = "4m"
    body["spec"]["admission"] |= {
        "reserve": [{"name": "vip", "sessions": 100}],
        "overflow": "Queue",
        "outbound": {"enabled": True},
    }
    world.add_capacity(body, ready=ready)
    service = service_for(world, {"healthcare": 100.0})
    await service.fleet.cycle()
    assert limits(world)["healthcare"] == {
        "maxSessions": 4000,
        "reason": "Pods",
        "overflow": "Queue",
        "reserve": {"vip": 100},
        "outbound": {"callsPerSecond": 16.25},
        "pods": 20,
    }
    document = json.loads(
        world.children[("voice", "ConfigMap", "voice-admission")]["data"]["limits.json"]
    )
    assert document["version"] == 1
    status = world.capacity_bodies["voice/healthcare"]["status"]["admission"]
    assert status["reserve"] == [{"name": "vip", "sessions": 100}]
    assert (status["generalSessions"], status["overflow"]) == (3900, "Queue")
    assert status["outbound"] == {"callsPerSecond": 16.25, "callSeconds": 240.0, "from": "Declared"}

    world.ready[("voice", "Deployment", "healthcare-agent")] = 19  # lower: the pace follows
    await service.fleet.cycle()
    document = json.loads(
        world.children[("voice", "ConfigMap", "voice-admission")]["data"]["limits.json"]
    )
    assert document["version"] == 2
    assert document["verticals"]["healthcare"]["outbound"] == {"callsPerSecond": 15.416}


@pytest.mark.asyncio
async def test_tenant_caps_are_published_summarized_and_their_bad_lines_named() -> None:
    world = MemoryWorld()
    body, ready = vertical("healthcare", 20)
    body["spec"]["admission"]["tenantCaps"] = {"configMapRef": {"name": "tenant-caps"}}
    world.add_capacity(body, ready=ready)
    world.children[("voice", "ConfigMap", "tenant-caps")] = {
        "metadata": {"name": "tenant-caps", "namespace": "voice"},
        "data": {"plans": "acme: 50\ninitech: 200\nhooli: lots\n"},
    }
    service = service_for(world, {"healthcare": 100.0})
    await service.fleet.cycle()
    assert limits(world)["healthcare"]["tenants"] == {"acme": 50, "initech": 200}
    status = world.capacity_bodies["voice/healthcare"]["status"]
    assert status["admission"]["tenants"] == {
        "configMap": "tenant-caps",
        "tenants": 2,
        "totalSessions": 250,
        "largestSessions": 200,
        "invalidLines": 1,
    }
    (ready_condition,) = [c for c in status["conditions"] if c["type"] == "TenantCapsReady"]
    assert (ready_condition["status"], ready_condition["reason"]) == ("False", "TenantCapsInvalid")
    assert "plans line 3: hooli's cap must be a non-negative integer" in ready_condition["message"]
    assert "spec.admission.tenantCaps.configMapRef.name" in ready_condition["message"]
