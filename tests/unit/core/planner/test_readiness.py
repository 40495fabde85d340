"""Scale-ups to Ready pods, and whether a window's pre-scale was Ready when it opened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support.objects import capacity_body
from voicecap.api.models import VoiceCapacity
from voicecap.core.apply.outcome import Outcome
from voicecap.core.planner.observation import Observation
from voicecap.core.planner.plan import Plan, plan
from voicecap.core.planner.readiness import Readiness, ScaleUp, track
from voicecap.core.status.peak_conditions import prescale_late

T0 = datetime(2026, 11, 23, 13, 50, tzinfo=UTC)  # Monday 08:50 New York: the lead time begins


def test_a_scale_up_is_timed_from_the_raised_floor_to_ready_pods() -> None:
    state = track(Readiness(), last_floor=2, floor=5, ready=2, now=T0)
    assert state.pending == ScaleUp(T0, 5)
    state = track(state, last_floor=5, floor=5, ready=4, now=T0 + timedelta(minutes=3))
    assert state.pending == ScaleUp(T0, 5)
    state = track(state, last_floor=5, floor=6, ready=4, now=T0 + timedelta(minutes=4))
    assert state.pending == ScaleUp(T0, 6), "raised again: the same start, the new target"
    state = track(state, last_floor=6, floor=6, ready=6, now=T0 + timedelta(minutes=7, seconds=30))
    assert (state.pending, state.last_seconds, state.last_target) == (None, 450.0, 6)
    dropped = track(
        Readiness(ScaleUp(T0, 5)), last_floor=5, floor=2, ready=3, now=T0 + timedelta(minutes=1)
    )
    assert dropped.pending is None and dropped.last_seconds is None
    unknown = track(Readiness(ScaleUp(T0, 5)), last_floor=5, floor=5, ready=None, now=T0)
    assert unknown.pending == ScaleUp(T0, 5)


def walk(ready_at: list[tuple[int, int]]) -> Plan:
    """The healthcare example's Monday window (lead 10m, floor 5 from 600 expected calls),
    evaluated each minute from 08:49 to 09:01 New York with the ready pods given by minute."""
    capacity = VoiceCapacity.model_validate(capacity_body())
    memory = None
    ready = 2
    decided = None
    for minute in range(-1, 12):  # 08:49: the floor is still 2
        ready = dict(ready_at).get(minute, ready)
        now = T0 + timedelta(minutes=minute)
        seen = Observation(sessions=100, sampled_at=now, ready_replicas=ready, granted_tpm=None)
        decided = plan(capacity, seen, now, memory)
        memory = decided.memory
    assert decided is not None
    return decided


def test_pods_ready_before_the_window_opened_are_on_time() -> None:
    decided = walk([(0, 2), (3, 5)])
    (card,) = decided.scorecards
    assert (card.planned_floor, card.ready_at_open, card.shortfall) == (5, 5, 0)
    condition = prescale_late(decided, Outcome("Reconciled", ""))
    assert condition is not None
    assert (condition.status, condition.reason) == ("False", "ReadyOnTime")
    assert decided.memory.readiness.last_seconds == 180.0


def test_pods_still_starting_when_the_window_opened_are_late() -> None:
    decided = walk([(0, 2), (10, 3), (11, 5)])  # 3 at 09:00, 5 at 09:01: 11 minutes
    (card,) = decided.scorecards
    assert (card.planned_floor, card.ready_at_open, card.shortfall) == (5, 3, 2)
    condition = prescale_late(decided, Outcome("Reconciled", ""))
    assert condition is not None
    assert (condition.status, condition.reason) == ("True", "ReadyPodsShort")
    assert condition.message == (
        "monday-morning: 3 of 5 pods Ready when the window opened at 2026-11-23T14:00:00Z "
        "(leadTime 10m); the last scale-up took 11m to Ready pods: raise leadTime "
        "(voicecap forecast suggests one)"
    )


def test_the_last_ten_scale_ups_are_kept_and_their_90th_percentile_is_the_start_up() -> None:
    readiness = Readiness()
    start = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
    for k, seconds in enumerate([100, 120, 600, 130, 110, 125, 140, 135, 115, 120, 130]):
        asked = start + timedelta(hours=k)
        readiness = track(readiness, last_floor=2, floor=4, ready=2, now=asked)
        readiness = track(
            readiness, last_floor=4, floor=4, ready=4, now=asked + timedelta(seconds=seconds)
        )
    assert len(readiness.recent) == 10 and readiness.recent[0] == 120  # the first one dropped
    assert readiness.last_seconds == 130
    # nearest rank 9 of the 10 kept: 140 s (the 600 s one is the 10th), + 15 s sync + 60 s lag
    assert readiness.startup() == timedelta(seconds=215)
    assert Readiness().startup() is None
