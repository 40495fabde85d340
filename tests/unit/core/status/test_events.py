"""core/status/events.py: lastTransitionTime moves only with a status, and Events only on transitions, as each condition's row says."""

from __future__ import annotations

from datetime import timedelta

import pytest

from support.planned import NOW, OK, applied_capacity, evaluate
from voicecap.api.models import Condition, VoiceCapacityStatus
from voicecap.core.apply.outcome import Outcome
from voicecap.core.planner.observation import Observation
from voicecap.core.planner.plan import plan
from voicecap.core.status.capacity import build_status
from voicecap.core.status.events import transitions


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


def status_with(*conditions: tuple[str, str, str]) -> VoiceCapacityStatus:
    return VoiceCapacityStatus(
        conditions=[Condition(type=t, status=s, reason=r, message="m") for t, s, r in conditions]  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # a first evaluation reports only what needs attention
        (None, ("MetricsAvailable", "True", "SessionsKnown"), []),
        (None, ("MetricsAvailable", "False", "NoData"), [("Warning", "MetricsLost")]),
        (None, ("PeakActive", "True", "InPeakWindow"), [("Normal", "PeakEntered")]),
        # problems recover to their good status; a new reason of the same status is no change
        (
            ("MetricsAvailable", "False", "NoData"),
            ("MetricsAvailable", "True", "SessionsKnown"),
            [("Normal", "MetricsRestored")],
        ),
        (("MetricsAvailable", "False", "NoData"), ("MetricsAvailable", "False", "Stale"), []),
        (
            ("HPAMetrics", "Unknown", "NotReported"),
            ("HPAMetrics", "True", "ValidMetricFound"),
            [("Normal", "HPAMetricAvailable")],
        ),
        (("RulesApplied", "True", "ConfigMap"), ("RulesApplied", "Unknown", "Paused"), []),
        # Ready and HeadroomLow change with their reason
        (
            ("Ready", "False", "TargetNotFound"),
            ("Ready", "False", "ApplyFailed"),
            [("Warning", "ApplyFailed")],
        ),
        (
            ("Ready", "False", "ApplyFailed"),
            ("Ready", "True", "Reconciled"),
            [("Normal", "Reconciled")],
        ),
        (
            ("HeadroomLow", "True", "Warning"),
            ("HeadroomLow", "True", "Critical"),
            [("Warning", "HeadroomCritical")],
        ),
        # NearCeiling: its own True and leaving it, never Unknown -> False
        (
            ("NearCeiling", "True", "NearCeiling"),
            ("NearCeiling", "Unknown", "SessionsUnknown"),
            [("Normal", "CeilingHeadroomRestored")],
        ),
        (
            ("NearCeiling", "Unknown", "SessionsUnknown"),
            ("NearCeiling", "False", "BelowPlanningLevel"),
            [],
        ),
        (
            ("PeakActive", "True", "InPeakWindow"),
            ("PeakActive", "False", "NoActivePeak"),
            [("Normal", "PeakLeft")],
        ),
    ],
)
def test_each_rows_events(
    old: tuple[str, str, str] | None, new: tuple[str, str, str], expected: list[tuple[str, str]]
) -> None:
    previous = status_with(old) if old is not None else None
    events = transitions(previous, status_with(new))
    assert [(event.type, event.reason) for event in events] == expected
