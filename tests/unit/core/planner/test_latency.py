"""core/planner/latency.py: the live guard: it acts after the latency has stayed above target for
`for`, raises the pods by a quarter each `for` it lasts, lets go after `for` under 90 % of the
target, and keeps its clocks while the latency is unknown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from voicecap.core.planner.latency import LatencyState, evaluate, raised

T0 = datetime(2026, 11, 23, 14, tzinfo=UTC)
TARGET = timedelta(milliseconds=800)
FOR = timedelta(minutes=2)


def step(seconds: float | None, state: LatencyState, minute: float, pods: int = 8) -> LatencyState:
    at = T0 + timedelta(minutes=minute)
    return evaluate(seconds, target=TARGET, sustain=FOR, pods=pods, previous=state, now=at).state


def test_the_guard_acts_after_for_and_raises_a_quarter_each_for() -> None:
    state = step(1.0, LatencyState(), 0)
    assert state.above_since == T0 and state.guard_pods is None
    state = step(1.0, state, 1.5)
    assert state.guard_pods is None, "not yet `for` above target"
    state = step(1.0, state, 2)
    assert state.guard_pods == 10  # ceil(8 x 1.25)
    state = step(1.0, state, 3)
    assert state.guard_pods == 10, "the next raise waits `for`"
    state = step(1.0, state, 4)
    assert state.guard_pods == 13


def test_it_lets_go_after_for_under_ninety_percent_and_not_at_the_target() -> None:
    state = LatencyState(above_since=T0, guard_pods=10, raised_at=T0)
    state = step(0.79, state, 1)  # under target, but not under 720ms
    assert state.below_since is None and state.guard_pods == 10
    state = step(0.7, state, 2)
    state = step(0.7, state, 3.9)
    assert state.guard_pods == 10
    state = step(0.7, state, 4)
    assert state.guard_pods is None


def test_unknown_latency_keeps_the_clocks() -> None:
    state = step(1.0, LatencyState(), 0)
    assert step(None, state, 5) == state


def test_a_raise_is_a_quarter_and_at_least_one_pod() -> None:
    assert (raised(1), raised(2), raised(8), raised(100)) == (2, 3, 10, 125)
