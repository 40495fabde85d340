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
        "healthcare": {"maxSessions": 4000, "reason": "Pods"},
        "sales": {"maxSessions": 400, "reason": "Pods"},
    }
    writes = configmap_writes(service.kube.writes)
    await service.fleet.cycle()
    await service.fleet.cycle()
    assert configmap_writes(service.kube.writes) == writes, "steady cycles write nothing"

    world.ready[("voice", "Deployment", "healthcare-agent")] = 21  # +5 % exactly: written
    await service.fleet.cycle()
    assert limits(world)["healthcare"]["maxSessions"] == 4200
    world.ready[("voice", "Deployment", "healthcare-agent")] = 22  # +4.8 %: not yet
    await service.fleet.cycle()
    assert limits(world)["healthcare"]["maxSessions"] == 4200
    world.ready[("voice", "Deployment", "healthcare-agent")] = 19  # lower: at once
    await service.fleet.cycle()
    assert limits(world)["healthcare"]["maxSessions"] == 3800
    assert configmap_writes(service.kube.writes) == writes + 2

    world.capacity_bodies.pop("voice/sales")  # sales goes: its entry goes
    await service.fleet.cycle()
    assert set(limits(world)) == {"healthcare"}
