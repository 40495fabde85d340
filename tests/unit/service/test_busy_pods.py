"""service/busy_pods.py: before a workload shrinks its pods carry their rank by live calls as
pod-deletion-cost, busiest first, within the patch budget; a refusal is one Warning Event."""

from __future__ import annotations

from typing import Any

import pytest

from support.objects import vertical_body
from support.world import MemoryWorld, service_for
from voicecap.adapters.kube import Ref, RejectedError
from voicecap.api.models import VoiceCapacity
from voicecap.core.apply.busy_pods import DELETION_COST

LABELS = {"app": "healthcare-agent"}


def world_with_pods(calls: dict[str, float]) -> tuple[MemoryWorld, VoiceCapacity]:
    world = MemoryWorld()
    body = vertical_body(scaleDown={"stabilization": "0s", "protectBusyPods": True})
    world.add_capacity(body, ready=len(calls))
    world.children[("voice", "Deployment", "healthcare-agent")] = {
        "metadata": {"name": "healthcare-agent", "namespace": "voice"},
        "spec": {"selector": {"matchLabels": LABELS}},
    }
    for pod in calls:
        world.children[("voice", "Pod", pod)] = {"metadata": {"name": pod, "labels": LABELS}}
    return world, VoiceCapacity.model_validate(body)


def costs(world: MemoryWorld) -> dict[str, Any]:
    return {
        name: (body["metadata"].get("annotations") or {}).get(DELETION_COST)
        for (_, kind, name), body in world.children.items()
        if kind == "Pod"
    }


@pytest.mark.asyncio
async def test_pods_are_ranked_by_live_calls_and_only_changed_ranks_are_written() -> None:
    calls = {"a": 120.0, "b": 0.0, "c": 60.0, "d": 5.0}
    world, capacity = world_with_pods(calls)
    service = service_for(world)
    service.prometheus.pods = {("voice", pod): value for pod, value in calls.items()}
    hpa = {"spec": {"minReplicas": 4}}
    world.put_child(("voice", "HorizontalPodAutoscaler", "healthcare"), hpa)
    live = world.hpa("voice", "healthcare")
    await service.assembled.busy_pods.before_lowering(capacity, 2, live)
    assert costs(world) == {"a": "3", "b": "0", "c": "2", "d": "1"}
    patched = len(service.kube.writes)
    await service.assembled.busy_pods.before_lowering(capacity, 2, live)
    assert len(service.kube.writes) == patched, "the same ranks again write nothing"


@pytest.mark.asyncio
async def test_a_floor_that_does_not_drop_ranks_nothing() -> None:
    world, capacity = world_with_pods({"a": 1.0, "b": 2.0})
    service = service_for(world)
    world.put_child(
        ("voice", "HorizontalPodAutoscaler", "healthcare"), {"spec": {"minReplicas": 2}}
    )
    await service.assembled.busy_pods.before_lowering(capacity, 2, world.hpa("voice", "healthcare"))
    assert costs(world) == {"a": None, "b": None} and service.prometheus.queries == 0


@pytest.mark.asyncio
async def test_a_refusal_is_one_warning_event_and_forgotten_with_the_object() -> None:
    world, capacity = world_with_pods({"a": 1.0, "b": 2.0})
    service = service_for(world)
    service.prometheus.pods = {("voice", "a"): 1.0, ("voice", "b"): 2.0}

    def forbidden(verb: str, ref: Ref) -> RejectedError | None:
        return RejectedError("403 pods is forbidden") if ref.plural == "pods" else None

    service.kube.fault = forbidden
    world.put_child(
        ("voice", "HorizontalPodAutoscaler", "healthcare"), {"spec": {"minReplicas": 4}}
    )
    ranker = service.assembled.busy_pods
    for _ in range(3):
        await ranker.before_lowering(capacity, 2, world.hpa("voice", "healthcare"))
    warned = [e for e in service.kube.events if e["reason"] == "BusyPodsNotProtected"]
    assert len(warned) == 1
    ranker.forget_except(set())
    await ranker.before_lowering(capacity, 2, world.hpa("voice", "healthcare"))
    warned = [e for e in service.kube.events if e["reason"] == "BusyPodsNotProtected"]
    assert len(warned) == 2, "a deleted and re-created object is warned again"
