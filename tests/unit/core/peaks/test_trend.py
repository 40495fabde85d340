"""core/peaks/trend.py: the weekly growth learned from past weeks, robust to a spike week and a
quiet holiday, bounded, and nothing from too few weeks."""

from __future__ import annotations

import pytest

from voicecap.core.peaks.trend import MAX_TREND, weekly_growth


def growing(rate: float, weeks: int = 13, today: float = 1000.0) -> list[tuple[int, float]]:
    """Week k before at today / (1 + rate)^k, newest first."""
    return [(k, today / (1 + rate) ** k) for k in range(1, weeks + 1)]


@pytest.mark.parametrize("rate", [0.0, 0.02, 0.05, -0.03])
def test_a_steady_trend_is_found(rate: float) -> None:
    assert weekly_growth(growing(rate)) == pytest.approx(rate, abs=1e-9)


def test_one_spike_week_and_one_holiday_move_it_little() -> None:
    weeks = growing(0.05)
    weeks[2] = (3, weeks[2][1] * 2.5)  # a one-off event
    weeks[6] = (7, 80.0)  # a holiday Monday
    assert weekly_growth(weeks) == pytest.approx(0.05, abs=0.01)


def test_a_wild_slope_is_bounded_and_too_few_weeks_say_nothing() -> None:
    assert weekly_growth(growing(0.4)) == MAX_TREND
    assert weekly_growth(growing(-0.4)) == -MAX_TREND
    assert weekly_growth(growing(0.05, weeks=3)) == 0.0
    assert weekly_growth([(1, 0.0), (2, 0.0), (3, 10.0), (4, 10.0)]) == 0.0  # no data is not 0
