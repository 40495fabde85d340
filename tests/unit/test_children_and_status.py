"""What the operator writes: the HPA, Events, status and conditions, and when it writes nothing."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import kubernetes_validate
import pytest

from support.objects import capacity_body
from voicecap.adapters import children
from voicecap.adapters.objects import hpa_report, live_child
from voicecap.api.models import ObjectMeta, VoiceCapacity, dump
from voicecap.core.autoscaler import HPACondition, HPAReport, max_replicas
from voicecap.core.events import transitions
from voicecap.core.memory import memory_from_status, parse_status
from voicecap.core.observation import Observation
from voicecap.core.outcome import Outcome, Transition
from voicecap.core.plan import Plan, plan
from voicecap.core.status import build_status, invalid_status
from voicecap.service.clock import Clock
from voicecap.service.peering import writer_allowed

KUBERNETES = "1.32.0"
NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)  # a Saturday: no peak
OK = Outcome("Reconciled", "HorizontalPodAutoscaler healthcare: minReplicas 3, maxReplicas 40")


def capacity(**spec: object) -> VoiceCapacity:
    body = capacity_body(**spec)
    body["metadata"].update(uid="0b7c5d3e-1111-2222-3333-444455556666", generation=3)
    body["metadata"]["labels"] = {
        "app.kubernetes.io/part-of": "voice",
        "app.kubernetes.io/instance": "argo-app",
        "team": "care",
    }
    return VoiceCapacity.model_validate(body)


def evaluate(vcap: VoiceCapacity, sessions: float | None, ready: int | None = 3, **kw: object):  # type: ignore[no-untyped-def]
    observation = Observation(sessions=sessions, sampled_at=kw.pop("at", NOW), ready_replicas=ready)  # type: ignore[arg-type]
    return plan(vcap, observation, kw.pop("now", NOW), kw.pop("memory", None))  # type: ignore[arg-type]


def hpa_for(vcap: VoiceCapacity, decided: Plan) -> dict[str, Any]:
    """The HPA as the operator renders it while the HPA reads its metric (maxReplicas = ceiling)."""
    return children.render_hpa(vcap, decided, max_replicas(decided.floor, decided.ceiling, None))


# ---------------------------------------------------------------- the HPA


def test_rendered_hpa_is_a_valid_autoscaling_v2_object() -> None:
    vcap = capacity()
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


def test_only_allow_listed_labels_reach_children() -> None:
    labels = children.child_labels(capacity())
    assert labels == {
        "app.kubernetes.io/part-of": "voice",
        "app.kubernetes.io/managed-by": "voicecap-operator",
        "voicecap.io/capacity": "healthcare",
        "voicecap.io/vertical": "healthcare",
    }


@pytest.mark.parametrize(
    ("value", "text"),
    [(Fraction(140), "140"), (Fraction(225, 2), "112500m"), (Fraction(1, 3), "333m"), (2.0, "2")],
)
def test_quantities_are_canonical(value: Fraction | float, text: str) -> None:
    assert children.quantity(value) == text


def test_an_hpa_with_server_defaults_needs_no_patch() -> None:
    vcap = capacity()
    desired = hpa_for(vcap, evaluate(vcap, 300))
    live = copy.deepcopy(desired)
    live["metadata"].update(
        uid="x", resourceVersion="9", labels={**desired["metadata"]["labels"], "extra": "kept"}
    )
    live["spec"]["behavior"]["scaleDown"].update(
        selectPolicy="Max", policies=[{"type": "Percent", "value": 100, "periodSeconds": 15}]
    )
    live["status"] = {"currentReplicas": 3}
    assert children.child_patch(desired, live) is None


def test_an_hpa_patch_carries_only_what_differs() -> None:
    vcap = capacity()
    desired = hpa_for(vcap, evaluate(vcap, 1000))
    live = hpa_for(vcap, evaluate(vcap, 300))
    live["metadata"]["labels"].pop("voicecap.io/vertical")
    assert children.child_patch(desired, live) == {
        "metadata": {"labels": desired["metadata"]["labels"]},
        "spec": {"minReplicas": 8},
    }


def test_ownership_is_by_uid_when_both_sides_have_one() -> None:
    vcap = capacity()
    mine = hpa_for(vcap, evaluate(vcap, 300))
    assert live_child(mine).owned_by(vcap)
    theirs = copy.deepcopy(mine)
    theirs["metadata"]["ownerReferences"][0]["uid"] = "another-object-same-name"
    assert not live_child(theirs).owned_by(vcap)
    theirs["metadata"].pop("ownerReferences")
    assert not live_child(theirs).owned_by(vcap)


def test_merge_patch_removes_keys_and_replaces_lists() -> None:
    old = {"a": 1, "b": {"c": 2, "d": 3}, "l": [1, 2], "gone": True}
    new = {"a": 1, "b": {"c": 2, "d": 4}, "l": [1]}
    assert children.merge_patch(old, new) == {"gone": None, "b": {"d": 4}, "l": [1]}
    assert children.merge_patch(new, new) == {}


def test_events_are_valid_and_uniquely_named() -> None:
    meta = ObjectMeta.model_validate(capacity_body()["metadata"] | {"uid": "u-1"})
    event = children.render_event(
        meta, Transition("Warning", "MetricsLost", "x"), now=NOW, instance="op"
    )
    kubernetes_validate.validate(event, KUBERNETES, strict=True)
    again = children.render_event(
        meta, Transition("Warning", "MetricsLost", "x"), now=NOW, instance="op"
    )
    assert event["metadata"]["name"] != again["metadata"]["name"]
    assert event["regarding"]["uid"] == "u-1" and event["type"] == "Warning"


# ---------------------------------------------------------------- status


def test_status_round_trips_into_the_same_memory() -> None:
    vcap = capacity(scaleDown={"stabilization": "10m"})
    first = evaluate(vcap, 1000)
    second = evaluate(vcap, 100, now=NOW + timedelta(minutes=1), memory=first.memory)
    status = build_status(second, OK, previous=None, generation=3, now=NOW)
    memory = memory_from_status(parse_status(dump(status)))
    assert memory.floor == second.floor == 8
    assert memory.recommendations == second.memory.recommendations
    assert memory.sessions == 100


def test_a_steady_evaluation_produces_an_identical_status() -> None:
    """The operator writes differences only: same inputs, later time, same status."""
    vcap = capacity(
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
    vcap = capacity(replicas={"min": 2, "max": 4})
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
    vcap = capacity()
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
    vcap = capacity()
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
    vcap = capacity()
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


# ---------------------------------------------------------------- peering and clock


def peer(priority: int, seconds_ago: float, lifetime: int = 60) -> dict[str, object]:
    seen = (NOW - timedelta(seconds=seconds_ago)).isoformat()
    return {"priority": priority, "lastseen": seen, "lifetime": lifetime}


@pytest.mark.parametrize(
    ("peers", "allowed"),
    [
        ({}, True),
        ({"me": peer(10, 0)}, True),
        ({"me": peer(10, 0), "low": peer(5, 0)}, True),
        ({"me": peer(10, 0), "high": peer(20, 0)}, False),
        ({"me": peer(10, 0), "twin": peer(10, 0)}, False),  # Kopf pauses both on a tie
        ({"me": peer(10, 0), "dead": peer(20, 61)}, True),
    ],
)
def test_only_the_highest_live_priority_writes(peers: dict[str, object], allowed: bool) -> None:
    assert writer_allowed(peers, "me", 10, NOW) is allowed


def test_a_shifted_clock_keeps_the_real_age_of_samples() -> None:
    start = datetime(2026, 11, 23, 13, 48, tzinfo=UTC)
    clock = Clock(start, speed=60)
    assert abs((clock.now() - start).total_seconds()) < 60
    sampled = clock.sampled(datetime.now(UTC) - timedelta(seconds=5))
    assert sampled is not None
    assert 4 <= (clock.now() - sampled).total_seconds() <= 6
    assert Clock().sampled(None) is None


# ---------------------------------------------------------------- what the HPA reports


def _hpa_live(active: tuple[str, str] | None, current: int = 6) -> dict[str, Any]:
    conditions = [{"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale"}]
    if active is not None:
        conditions.append(
            {"type": "ScalingActive", "status": active[0], "reason": active[1], "message": "m"}
        )
    conditions.append({"type": "SomethingNew", "status": "True"})  # unknown types are ignored
    return {
        "status": {"currentReplicas": current, "desiredReplicas": current, "conditions": conditions}
    }


@pytest.mark.parametrize(
    ("active", "expected_max"),
    [
        (None, 40),  # no status yet: the ceiling
        (("True", "ValidMetricFound"), 40),
        (("False", "FailedGetPodsMetric"), 3),  # the floor drives scale-down
        (("False", "FailedGetObjectMetric"), 3),
        (("False", "ScalingDisabled"), 40),  # scaled to zero by hand: not a metrics problem
    ],
)
def test_max_replicas_is_held_at_the_floor_only_while_the_hpa_cannot_read_its_metric(
    active: tuple[str, str] | None, expected_max: int
) -> None:
    vcap = capacity()
    decided = evaluate(vcap, 300)
    assert (decided.floor, decided.ceiling) == (3, 40)
    report = hpa_report(_hpa_live(active))
    assert [c.type for c in report.conditions] == ["AbleToScale"] + (
        ["ScalingActive"] if active else []
    )
    assert max_replicas(decided.floor, decided.ceiling, report) == expected_max
    assert children.render_hpa(vcap, decided, expected_max)["spec"]["maxReplicas"] == expected_max


def test_max_replicas_never_below_one_or_the_floor() -> None:
    report = HPAReport((HPACondition("ScalingActive", "False", "FailedGetPodsMetric"),))
    assert max_replicas(0, 5, report) == 1
    assert max_replicas(4, 2, None) == 4


def test_the_hpa_report_is_in_status_with_a_condition_and_events_on_transitions() -> None:
    vcap = capacity()
    decided = evaluate(vcap, 300)
    good = hpa_report(_hpa_live(("True", "ValidMetricFound")))
    bad = hpa_report(_hpa_live(("False", "FailedGetPodsMetric")))
    first = build_status(decided, OK, previous=None, generation=3, now=NOW)
    assert first.hpa is None  # no HPA yet: nothing to report
    fine = build_status(
        decided, Outcome("Reconciled", "ok", hpa=good, hpa_max_replicas=40),
        previous=first, generation=3, now=NOW,
    )  # fmt: skip
    assert fine.hpa is not None and fine.hpa.max_replicas == 40
    assert [c.type for c in fine.hpa.conditions] == ["AbleToScale", "ScalingActive"]
    metrics = next(c for c in fine.conditions if c.type == "HPAMetrics")
    assert (metrics.status, metrics.reason) == ("True", "ValidMetricFound")
    assert transitions(first, fine) == []  # first report, and good: no Event
    held = build_status(
        decided, Outcome("Reconciled", "ok", hpa=bad, hpa_max_replicas=3),
        previous=fine, generation=3, now=NOW + timedelta(minutes=1),
    )  # fmt: skip
    metrics = next(c for c in held.conditions if c.type == "HPAMetrics")
    assert (metrics.status, metrics.reason) == ("False", "FloorDrivesScaleDown")
    assert "FailedGetPodsMetric" in metrics.message and "floor (3)" in metrics.message
    assert [(t.type, t.reason) for t in transitions(fine, held)] == [
        ("Warning", "HPAMetricUnavailable")
    ]
    again = build_status(
        decided, Outcome("Reconciled", "ok", hpa=good, hpa_max_replicas=40),
        previous=held, generation=3, now=NOW + timedelta(minutes=2),
    )  # fmt: skip
    assert [(t.type, t.reason) for t in transitions(held, again)] == [
        ("Normal", "HPAMetricAvailable")
    ]
    assert parse_status(dump(again)) == again  # survives the API server's round trip
    # the HPA rewording its message (prometheus-adapter relisting) changes nothing: no write
    reworded = hpa_report(_hpa_live(("False", "FailedGetPodsMetric")))
    reworded = HPAReport(
        tuple(
            HPACondition(c.type, c.status, c.reason, "no metrics returned")
            for c in reworded.conditions
        ),
        reworded.current_replicas,
        reworded.desired_replicas,
    )
    same = build_status(
        decided, Outcome("Reconciled", "ok", hpa=reworded, hpa_max_replicas=3),
        previous=held, generation=3, now=NOW + timedelta(minutes=1),
    )  # fmt: skip
    assert dump(same) == dump(held)


def test_near_ceiling_is_a_condition_an_event_and_it_survives_a_restart() -> None:
    vcap = capacity(replicas={"min": 2, "max": 5})  # the ceiling carries 1,000 calls
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
