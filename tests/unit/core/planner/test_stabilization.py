"""core/planner/stabilization.py: the floor never drops below its highest value within the window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from voicecap.core.planner.stabilization import Recommendation, stabilize

T0 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def test_floor_never_drops_within_the_window() -> None:
    window = timedelta(minutes=10)
    floor, history = stabilize(10, (), window=window, now=T0)
    assert floor == 10
    # 10 stays the recommendation until +5m, so the window runs from +5m to +15m.
    floor, history = stabilize(4, history, window=window, now=T0 + timedelta(minutes=5))
    assert floor == 10
    floor, history = stabilize(
        4, history, window=window, now=T0 + timedelta(minutes=14, seconds=59)
    )
    assert floor == 10
    floor, history = stabilize(4, history, window=window, now=T0 + timedelta(minutes=15))
    assert floor == 4
    assert history == (Recommendation(T0 + timedelta(minutes=5), 4),)


def test_a_steady_recommendation_leaves_the_history_unchanged() -> None:
    """The history lives in status: a cycle that changes nothing must not rewrite it."""
    window = timedelta(minutes=10)
    _, history = stabilize(10, (), window=window, now=T0)
    _, history = stabilize(6, history, window=window, now=T0 + timedelta(minutes=1))
    for minutes in range(2, 11):
        floor, again = stabilize(6, history, window=window, now=T0 + timedelta(minutes=minutes))
        assert (floor, again) == (10, history)


def test_steps_down_through_intermediate_recommendations() -> None:
    window = timedelta(minutes=10)
    _, history = stabilize(10, (), window=window, now=T0)
    _, history = stabilize(7, history, window=window, now=T0 + timedelta(minutes=4))
    floor, history = stabilize(3, history, window=window, now=T0 + timedelta(minutes=11))
    assert floor == 10  # 10 was recommended until +4m: held until +14m
    floor, history = stabilize(3, history, window=window, now=T0 + timedelta(minutes=14))
    assert floor == 7  # 7 was recommended until +11m
    floor, _ = stabilize(3, history, window=window, now=T0 + timedelta(minutes=21))
    assert floor == 3


def test_scaling_up_is_immediate_and_history_stays_short() -> None:
    window = timedelta(minutes=10)
    history: tuple[Recommendation, ...] = ()
    for step in range(100):
        floor, history = stabilize(
            step, history, window=window, now=T0 + timedelta(seconds=15 * step)
        )
        assert floor == step
        assert len(history) == 1  # rising recommendations dominate every earlier one


def test_zero_window_disables_stabilization() -> None:
    floor, history = stabilize(3, (Recommendation(T0, 10),), window=timedelta(0), now=T0)
    assert (floor, history) == (3, ())
