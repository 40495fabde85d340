"""core/status/capacity.py: the status a plan and its outcome make, identical for a steady
evaluation, and what an invalid spec leaves of it."""

from __future__ import annotations

from datetime import timedelta

from support.planned import NOW, OK, applied_capacity, evaluate
from voicecap.api.models import dump
from voicecap.core.status.capacity import build_status, invalid_status
from voicecap.core.status.events import transitions
from voicecap.core.status.memory import memory_from_status, parse_status


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
        "TokensCalibrated",
        "ModelRateLimited",
    ]
    assert (by_type["ModelRateLimited"]["status"], by_type["ModelRateLimited"]["reason"]) == (
        "Unknown",
        "NotMeasured",
    )  # no counter: it says what is missing, and raises nothing
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
