"""One reconcile: guards, invalid objects (nothing lost, counted once), children."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from support.objects import capacity_body
from support.world import MemoryWorld, counter, service_for
from voicecap.core.planner.pod_fit import PodRequests


def plain_capacity(name: str = "healthcare") -> dict:
    """The healthcare example's peak, no TPM reservation, serving from healthcare-agent."""
    body = capacity_body()
    body["spec"].pop("model")
    body["metadata"]["name"] = name
    return body


@pytest.mark.asyncio
async def test_an_invalid_object_is_counted_when_it_turns_invalid_not_every_cycle() -> None:
    world = MemoryWorld()
    key = world.add_capacity(plain_capacity())
    service = service_for(world, {"healthcare": 100.0})
    await service.fleet.cycle()
    floor = world.body(key)["status"]["replicas"]["floor"]

    world.edit_capacity(key, lambda body: body["spec"]["replicas"].update(min=50))  # min > max
    for _ in range(5):
        await service.fleet.cycle()
    errors = counter(service.metrics, "voicecap_reconcile_errors_total", reason="InvalidSpec")
    assert errors == 1
    ready = {c["type"]: c for c in world.body(key)["status"]["conditions"]}["Ready"]
    assert (ready["status"], ready["reason"]) == ("False", "InvalidSpec")
    assert "spec.replicas" in ready["message"]
    assert world.body(key)["status"]["replicas"]["floor"] == floor, "nothing is lost"

    world.edit_capacity(key, lambda body: body["spec"]["replicas"].update(min=60, max=70))
    await service.fleet.cycle()
    assert counter(service.metrics, "voicecap_reconcile_errors_total", reason="InvalidSpec") == 1
    world.edit_capacity(key, lambda body: body["spec"]["replicas"].update(min=80))
    await service.fleet.cycle()
    assert counter(service.metrics, "voicecap_reconcile_errors_total", reason="InvalidSpec") == 2


@pytest.mark.asyncio
async def test_a_broken_object_never_stops_the_others() -> None:
    world = MemoryWorld()
    broken = world.add_capacity(plain_capacity("broken"))
    world.edit_capacity(broken, lambda body: body["spec"]["sessions"].update(perPod=0))
    good = world.add_capacity(plain_capacity("healthcare"))
    service = service_for(world, {"healthcare": 700.0, "broken": 1.0})
    await service.fleet.cycle()
    assert world.body(good)["status"]["replicas"]["floor"] == 5  # ceil(700 / 140)
    assert ("voice", "HorizontalPodAutoscaler", "healthcare") in world.children
    assert ("voice", "HorizontalPodAutoscaler", "broken") not in world.children


@pytest.mark.asyncio
async def test_another_autoscaler_of_the_target_stops_the_hpa_with_an_event() -> None:
    world = MemoryWorld()
    key = world.add_capacity(plain_capacity())
    world.foreign_autoscalers[("voice", "Deployment", "healthcare-agent")] = [
        ("ScaledObject", "legacy")
    ]
    service = service_for(world, {"healthcare": 100.0})
    await service.fleet.cycle()
    ready = {c["type"]: c for c in world.body(key)["status"]["conditions"]}["Ready"]
    assert ready["reason"] == "ConflictingAutoscaler"
    assert ("voice", "HorizontalPodAutoscaler", "healthcare") not in world.children
    assert [e["reason"] for e in service.kube.events] == ["ConflictingAutoscaler"]


@pytest.mark.asyncio
async def test_a_spec_change_moves_the_hpa_by_one_patch() -> None:
    world = MemoryWorld()
    key = world.add_capacity(plain_capacity())
    service = service_for(world, {"healthcare": 100.0})
    await service.fleet.cycle()
    before = len(service.kube.writes)
    world.edit_capacity(key, lambda body: body["spec"]["replicas"].update(min=7))
    await service.reconcile(key)
    hpa = world.children[("voice", "HorizontalPodAutoscaler", "healthcare")]
    assert hpa["spec"]["minReplicas"] == 7
    writes = service.kube.writes[before:]
    assert ("patch", "horizontalpodautoscalers") in writes
    assert writes.count(("patch", "horizontalpodautoscalers")) == 1


@pytest.mark.asyncio
async def test_the_other_rules_kind_is_removed_once_replaced() -> None:
    world = MemoryWorld(rules_kind="ConfigMap")
    key = world.add_capacity(plain_capacity())
    service = service_for(world, {"healthcare": 100.0})
    await service.fleet.cycle()
    assert ("voice", "ConfigMap", "voicecap-healthcare-rules") in world.children
    world.kind = "PrometheusRule"  # prometheus-operator got installed
    await service.reconcile(key)
    assert ("voice", "PrometheusRule", "voicecap-healthcare") in world.children
    assert ("voice", "ConfigMap", "voicecap-healthcare-rules") not in world.children


def _hpa_scaling_active(world: MemoryWorld, status: str, *, ago: float) -> None:
    """The HPA controller's ScalingActive condition on the owned HPA, `ago` seconds old."""
    where = ("voice", "HorizontalPodAutoscaler", "healthcare")
    body = world.children[where]
    stamp = (datetime.now(UTC) - timedelta(seconds=ago)).isoformat()
    reason = "ValidMetricFound" if status == "True" else "FailedGetPodsMetric"
    body["status"] = {
        "currentReplicas": 2,
        "desiredReplicas": 2,
        "conditions": [
            {
                "type": "ScalingActive",
                "status": status,
                "reason": reason,
                "lastTransitionTime": stamp,
            },
        ],
    }
    world.put_child(where, body)


@pytest.mark.asyncio
async def test_a_metric_blip_writes_nothing_and_a_lasting_loss_holds_the_ceiling() -> None:
    world = MemoryWorld()
    key = world.add_capacity(plain_capacity())
    service = service_for(world, {"healthcare": 100.0})
    hpa = ("voice", "HorizontalPodAutoscaler", "healthcare")
    await service.fleet.cycle()
    _hpa_scaling_active(world, "True", ago=600)
    await service.fleet.cycle()
    ceiling = world.children[hpa]["spec"]["maxReplicas"]
    before, events = len(service.kube.writes), len(service.kube.events)

    _hpa_scaling_active(world, "False", ago=15)  # one failed HPA sync
    await service.fleet.cycle()
    _hpa_scaling_active(world, "True", ago=0)  # and the next one reads the metric again
    await service.fleet.cycle()
    assert service.kube.writes[before:] == []
    assert len(service.kube.events) == events

    _hpa_scaling_active(world, "False", ago=60)  # a loss past the grace counts
    await service.fleet.cycle()
    floor = world.body(key)["status"]["replicas"]["floor"]
    assert world.children[hpa]["spec"]["maxReplicas"] == floor < ceiling
    metrics = {c["type"]: c for c in world.body(key)["status"]["conditions"]}["HPAMetrics"]
    assert (metrics["status"], metrics["reason"]) == ("False", "FloorDrivesScaleDown")


@pytest.mark.asyncio
async def test_busy_pods_are_ranked_before_the_floor_is_written_lower() -> None:
    """The ranking is awaited inside the reconcile, before the HPA patch that lowers the floor:
    the ReplicaSet controller cannot delete pods by a ranking that does not exist yet."""
    world = MemoryWorld()
    body = plain_capacity()
    body["spec"]["replicas"]["min"] = 5
    body["spec"]["scaleDown"] = {"stabilization": "0s", "protectBusyPods": True}
    key = world.add_capacity(body, ready=5)
    service = service_for(world, {"healthcare": 100.0})
    seen: list[tuple[int, int]] = []  # (floor asked about, HPA writes before the ranking)

    async def rank_first(capacity: object, floor: int, live: object) -> None:
        live_min = live.body["spec"]["minReplicas"] if live is not None else None  # type: ignore[attr-defined]
        if live_min is not None and floor < live_min:
            seen.append(
                (floor, len([w for w in service.kube.writes if w[1] == "horizontalpodautoscalers"]))
            )

    service.assembled.busy_pods.before_lowering = rank_first  # type: ignore[method-assign]
    await service.fleet.cycle()
    hpa_writes = [w for w in service.kube.writes if w[1] == "horizontalpodautoscalers"]
    assert seen == [], "the first HPA is created, not lowered"
    world.edit_capacity(key, lambda body: body["spec"]["replicas"].update(min=2))
    await service.fleet.cycle()
    assert seen == [(2, len(hpa_writes))], "ranked before the HPA patch, once"
    after = [w for w in service.kube.writes if w[1] == "horizontalpodautoscalers"]
    assert len(after) == len(hpa_writes) + 1


def _conditions(world: MemoryWorld, key: str) -> dict[str, dict]:
    return {c["type"]: c for c in world.body(key)["status"]["conditions"]}


@pytest.mark.asyncio
async def test_a_missing_calendar_is_a_condition_naming_the_field_and_others_go_on() -> None:
    world = MemoryWorld()
    body = plain_capacity()
    body["spec"]["peaks"][0]["calendarRef"] = {"name": "us-holidays"}
    key = world.add_capacity(body)
    other = world.add_capacity(plain_capacity("sales"))
    service = service_for(world, {"healthcare": 100.0})
    await service.fleet.cycle()
    calendar = _conditions(world, key)["CalendarsReady"]
    assert (calendar["status"], calendar["reason"]) == ("False", "CalendarNotFound")
    assert calendar["message"].startswith(
        "spec.peaks[0].calendarRef.name: ConfigMap voice/us-holidays not found"
    )
    assert _conditions(world, key)["Ready"]["status"] == "True"
    assert "CalendarsReady" not in _conditions(world, other)

    world.children[("voice", "ConfigMap", "us-holidays")] = {
        "metadata": {"name": "us-holidays", "namespace": "voice"},
        "data": {"2026": "2026-12-25\n2026-12-31/2027-01-01\n"},
    }
    service.assembled.calendars.read_every = 0  # read it again now, not in a minute
    await service.fleet.cycle()
    calendar = _conditions(world, key)["CalendarsReady"]
    assert (calendar["status"], calendar["reason"]) == ("True", "Resolved")
    assert calendar["message"] == "us-holidays: 3 days"


@pytest.mark.asyncio
async def test_pods_whose_requests_cannot_carry_per_pod_calls_are_undersized() -> None:
    world = MemoryWorld()
    body = plain_capacity()
    body["spec"]["sessionCost"] = {"cpu": "50m", "memory": "120Mi"}  # x 200 calls per pod
    key = world.add_capacity(body)
    world.requests[("voice", "Deployment", "healthcare-agent")] = PodRequests(
        cpu=Decimal(2), memory=Decimal(4 * 2**30)
    )
    service = service_for(world, {"healthcare": 100.0})
    await service.fleet.cycle()
    undersized = _conditions(world, key)["PodUndersized"]
    assert (undersized["status"], undersized["reason"]) == ("True", "RequestsBelowCalls")
    assert undersized["message"] == (
        "cpu requests 2, 200 calls need 10; memory requests 4Gi, 200 calls need 23.4Gi: "
        "lower sessions.perPod or raise the containers' requests"
    )
    assert ("Warning", "PodUndersized") in [(e["type"], e["reason"]) for e in service.kube.events]
    world.requests[("voice", "Deployment", "healthcare-agent")] = PodRequests(
        cpu=Decimal(10), memory=Decimal(24 * 2**30)
    )
    await service.fleet.cycle()
    sized = _conditions(world, key)["PodUndersized"]
    assert (sized["status"], sized["reason"]) == ("False", "RequestsCoverCalls")
