"""core/status/capacity.py and core/status/events.py: status and conditions from a plan, what is read back as memory, and the Events their changes make."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import kubernetes_validate

from support.planned import KUBERNETES, NOW, OK, applied_capacity, evaluate, hpa_for
from voicecap.api.models import dump
from voicecap.core.apply.autoscaler import HPACondition, HPAReport, max_replicas
from voicecap.core.apply.outcome import Outcome
from voicecap.core.planner.observation import Observation
from voicecap.core.planner.plan import plan
from voicecap.core.status.capacity import build_status, invalid_status
from voicecap.core.status.events import transitions
from voicecap.core.status.memory import memory_from_status, parse_status
from voicecap.service.clock import Clock


def test_rendered_hpa_is_a_valid_autoscaling_v2_object() -> None:
    vcap = applied_capacity()
    hpa = hpa_for(vcap, evaluate(vcap, 300))
    kubernetes_validate.validate(hpa, KUBERNETES, strict=True)
    assert hpa["spec"]["minReplicas"] == 3 and hpa["spec"]["maxReplicas"] == 40
    assert hpa["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "voicecap.io/v1alpha1",
            "kind": "VoiceCapacity",
            "name": "healthcare",
            "uid": "0b7c5d3e-1111-2222-3333-444455556666",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]


def test_status_round_trips_into_the_same_memory() -> None:
    vcap = applied_capacity(scaleDown={"stabilization": "10m"})
    first = evaluate(vcap, 1000)
    second = evaluate(vcap, 100, now=NOW + timedelta(minutes=1), memory=first.memory)
    status = build_status(second, OK, previous=None, generation=3, now=NOW)
    memory = memory_from_status(parse_status(dump(status)))
    assert memory.floor == second.floor == 8
    assert memory.recommendations == second.memory.recommendations
    assert memory.sessions == 100


def test_a_steady_evaluation_produces_an_identical_status() -> None:
    """The operator writes differences only: same inputs, later time, same status."""
    vcap = applied_capacity(
        sessions={"perPod": 200, "targetUtilization": 0.2},  # so that 0.3 is above its band
        headroom={"warning": 0.3, "critical": 0.9, "for": "1m"},
    )
    previous = None
    memory = None
    written = []
    for minute in range(5):
        now = NOW + timedelta(minutes=minute)
        decided = evaluate(vcap, 300, at=now, now=now, memory=memory)
        status = build_status(decided, OK, previous=previous, generation=3, now=now)
        written.append(dump(status))
        previous, memory = (
            parse_status(dump(status)),
            memory_from_status(parse_status(dump(status))),
        )
    # Minute 1 crosses the sustained headroom warning; from then on nothing changes.
    assert written[2] == written[3] == written[4]
    assert {c["type"]: c["reason"] for c in written[4]["conditions"]}["HeadroomLow"] == "Warning"


def test_conditions_say_what_an_sre_needs() -> None:
    vcap = applied_capacity(replicas={"min": 2, "max": 4})
    decided = evaluate(vcap, None)  # sessions unknown, budget unknown
    status = dump(build_status(decided, OK, previous=None, generation=3, now=NOW))
    by_type = {c["type"]: c for c in status["conditions"]}
    assert list(by_type) == [
        "Ready",
        "MetricsAvailable",
        "PeakActive",
        "HeadroomLow",
        "NearCeiling",
        "CapacityLimited",
        "BudgetGranted",
        "ForecastReady",
    ]
    assert (by_type["NearCeiling"]["status"], by_type["NearCeiling"]["reason"]) == (
        "Unknown",
        "SessionsUnknown",
    )
    assert (
        by_type["MetricsAvailable"]["status"] == "False"
        and by_type["MetricsAvailable"]["reason"] == "NoData"
    )
    assert by_type["BudgetGranted"]["reason"] == "BudgetNotFound"
    assert (
        by_type["PeakActive"]["message"] == "next peak monday-morning starts 2026-11-23T14:00:00Z"
    )
    assert all(
        c["observedGeneration"] == 3 and c["lastTransitionTime"] for c in status["conditions"]
    )

    limited = evaluate(vcap, 1000)  # wants 8, ceiling 4
    status = dump(build_status(limited, OK, previous=None, generation=3, now=NOW))
    capped = {c["type"]: c for c in status["conditions"]}["CapacityLimited"]
    assert capped["status"] == "True" and capped["reason"] == "MaxReplicas"
    assert capped["message"].startswith("wants 8 replicas, ceiling 4")


def test_last_transition_time_moves_only_when_the_status_changes() -> None:
    vcap = applied_capacity()
    later = NOW + timedelta(minutes=5)
    first = build_status(evaluate(vcap, 300), OK, previous=None, generation=3, now=NOW)
    same = build_status(evaluate(vcap, 310, now=later), OK, previous=first, generation=3, now=later)
    lost = build_status(
        evaluate(vcap, None, now=later), OK, previous=first, generation=3, now=later
    )
    stamp = {c.type: c.last_transition_time for c in first.conditions}
    assert {c.type: c.last_transition_time for c in same.conditions} == stamp
    moved = {c.type: c.last_transition_time for c in lost.conditions}
    assert moved["MetricsAvailable"] == "2026-11-21T15:05:00Z" and moved["Ready"] == stamp["Ready"]


def test_events_only_on_transitions() -> None:
    vcap = applied_capacity()
    healthy = build_status(evaluate(vcap, 300), OK, previous=None, generation=3, now=NOW)
    # A first evaluation reports only what needs attention (here: the budget that does not exist).
    assert [t.reason for t in transitions(None, healthy)] == ["BudgetShort"]
    assert transitions(healthy, healthy) == []
    blind = build_status(evaluate(vcap, None), OK, previous=healthy, generation=3, now=NOW)
    assert [(t.type, t.reason) for t in transitions(healthy, blind)] == [("Warning", "MetricsLost")]
    # Another cause of the same outage is not another Event.
    unreachable = Observation(failure="PrometheusUnreachable", ready_replicas=3)
    still_blind = build_status(
        plan(vcap, unreachable, NOW), OK, previous=blind, generation=3, now=NOW
    )
    assert transitions(blind, still_blind) == []
    back = build_status(evaluate(vcap, 300), OK, previous=blind, generation=3, now=NOW)
    assert [(t.type, t.reason) for t in transitions(blind, back)] == [("Normal", "MetricsRestored")]
    conflict = Outcome("ConflictingAutoscaler", "HorizontalPodAutoscaler x already scales it")
    fought = build_status(evaluate(vcap, 300), conflict, previous=back, generation=3, now=NOW)
    assert [(t.type, t.reason) for t in transitions(back, fought)] == [
        ("Warning", "ConflictingAutoscaler")
    ]


def test_invalid_spec_keeps_the_last_decision() -> None:
    vcap = applied_capacity()
    good = build_status(evaluate(vcap, 300), OK, previous=None, generation=3, now=NOW)
    bad = invalid_status(
        "spec.peaks[0].timeZone: unknown IANA time zone", previous=good, generation=4, now=NOW
    )
    assert bad.replicas == good.replicas and bad.sessions == good.sessions
    ready = {c.type: c for c in bad.conditions}["Ready"]
    assert (ready.status, ready.reason, ready.observed_generation) == ("False", "InvalidSpec", 4)
    assert bad.observed_generation == 4


def test_unreadable_status_is_no_memory() -> None:
    assert parse_status({"replicas": {"floor": "many"}}) is None
    assert memory_from_status(None).floor is None


def test_a_shifted_clock_keeps_the_real_age_of_samples() -> None:
    start = datetime(2026, 11, 23, 13, 48, tzinfo=UTC)
    clock = Clock(start, speed=60)
    assert abs((clock.now() - start).total_seconds()) < 60
    sampled = clock.sampled(datetime.now(UTC) - timedelta(seconds=5))
    assert sampled is not None
    assert 4 <= (clock.now() - sampled).total_seconds() <= 6
    assert Clock().sampled(None) is None


def test_max_replicas_never_below_one_or_the_floor() -> None:
    report = HPAReport((HPACondition("ScalingActive", "False", "FailedGetPodsMetric"),))
    assert max_replicas(0, 5, report) == 1
    assert max_replicas(4, 2, None) == 4


def test_near_ceiling_is_a_condition_an_event_and_it_survives_a_restart() -> None:
    vcap = applied_capacity(replicas={"min": 2, "max": 5})  # the ceiling carries 1,000 calls
    first = build_status(evaluate(vcap, 750, ready=5), OK, previous=None, generation=3, now=NOW)
    near = {c.type: c for c in first.conditions}["NearCeiling"]
    assert (near.status, near.reason) == ("False", "BelowPlanningLevel")
    assert first.sessions is not None and first.sessions.ceiling_utilization == 0.75
    assert transitions(None, first) == [
        t for t in transitions(None, first) if t.reason != "NearCeiling"
    ]
    later = NOW + timedelta(minutes=10)
    memory = memory_from_status(parse_status(dump(first)))  # across a restart
    second = build_status(
        evaluate(vcap, 760, ready=5, now=later, at=later, memory=memory),
        OK,
        previous=first,
        generation=3,
        now=later,
    )
    near = {c.type: c for c in second.conditions}["NearCeiling"]
    assert (near.status, near.reason) == ("True", "NearCeiling")
    assert "76% of the 1000 calls (MaxReplicas)" in near.message
    assert [(t.type, t.reason) for t in transitions(first, second)] == [("Warning", "NearCeiling")]
    back = build_status(
        evaluate(vcap, 300, ready=5, now=later), OK, previous=second, generation=3, now=later
    )
    assert ("Normal", "CeilingHeadroomRestored") in [
        (t.type, t.reason) for t in transitions(second, back)
    ]
