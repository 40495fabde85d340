"""The writing of children and status: nothing when nothing changed, and back to what is
wanted when someone else changed it (the shortcuts that skip comparisons must not hide that)."""

from __future__ import annotations

import pytest

from support.objects import capacity_body
from support.world import MemoryWorld, Service, service_for

HPA = ("voice", "HorizontalPodAutoscaler", "healthcare")
RULES = ("voice", "ConfigMap", "voicecap-healthcare-rules")


async def steady() -> tuple[MemoryWorld, str, Service]:
    body = capacity_body()
    body["spec"].pop("model")
    world = MemoryWorld()
    key = world.add_capacity(body)
    service = service_for(world, {"healthcare": 100.0})
    for _ in range(3):
        await service.fleet.cycle()
    return world, key, service


@pytest.mark.asyncio
async def test_an_hpa_edited_by_hand_is_put_back_on_the_next_cycle() -> None:
    world, _, service = await steady()
    before = len(service.kube.writes)
    edited = dict(world.children[HPA])
    edited["spec"] = {**edited["spec"], "minReplicas": 30}
    edited["metadata"] = {**edited["metadata"], "resourceVersion": "edited-1"}
    world.put_child(HPA, edited)
    await service.fleet.cycle()
    assert world.children[HPA]["spec"]["minReplicas"] == 2
    assert service.kube.writes[before:] == [("patch", "horizontalpodautoscalers")]


@pytest.mark.asyncio
async def test_a_status_edited_by_hand_is_rewritten_on_the_next_cycle() -> None:
    world, key, service = await steady()
    body = world.body(key)
    body["status"] = {"vertical": "healthcare"}
    body["metadata"]["resourceVersion"] = "edited-2"
    await service.fleet.cycle()
    assert {c["type"] for c in world.body(key)["status"]["conditions"]} >= {"Ready"}


@pytest.mark.asyncio
async def test_a_label_change_without_a_new_generation_relabels_the_rules() -> None:
    world, key, service = await steady()
    body = world.body(key)
    body["metadata"].setdefault("labels", {})["app.kubernetes.io/part-of"] = "voice-platform"
    body["metadata"]["resourceVersion"] = "relabelled"  # labels do not move the generation
    await service.fleet.cycle()
    labels = world.children[RULES]["metadata"]["labels"]
    assert labels["app.kubernetes.io/part-of"] == "voice-platform"


@pytest.mark.asyncio
async def test_a_steady_cycle_writes_nothing_and_posts_no_event() -> None:
    _, _, service = await steady()
    writes, events = len(service.kube.writes), len(service.kube.events)
    for _ in range(3):
        await service.fleet.cycle()
    assert len(service.kube.writes) == writes
    assert len(service.kube.events) == events
