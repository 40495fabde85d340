"""core/peaks/forecast.py: which windows, how weekly values become a forecast, the burst factor, the
scorecard, and how the plan and its conditions use them (docs/api.md "Forecasts")."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from voicecap.api.models import Forecast, Peak
from voicecap.core.apply.outcome import Outcome
from voicecap.core.peaks.forecast import (
    PeakForecast,
    WeekValue,
    burst_factor,
    failed_forecast,
    forecast_from,
    forecast_window,
    last_closed_start,
    slots_of,
    week_value,
    weekly_windows,
)

MONDAY = Peak.model_validate(
    {
        "name": "monday-morning",
        "schedule": "0 9 * * MON",
        "duration": "2h",
        "timeZone": "America/New_York",
        "leadTime": "10m",
    }
)
# Monday 2026-11-09 09:00 EST = 14:00 UTC; US DST ended on Sunday 2026-11-01.
NOV_9_0900 = datetime(2026, 11, 9, 14, 0, tzinfo=UTC)

OK = Outcome("Reconciled", "")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def week(sessions: float | None, k: int = 1) -> WeekValue:
    start = NOV_9_0900 - timedelta(weeks=k)
    return WeekValue(start, start + timedelta(hours=2), sessions)


# ---------------------------------------------------------------- windows


def test_weekly_windows_keep_the_local_wall_time_across_dst() -> None:
    windows = weekly_windows(MONDAY, NOV_9_0900, 3)
    assert [start for start, _ in windows] == [
        at("2026-11-02T09:00:00-05:00"),  # EST
        at("2026-10-26T09:00:00-04:00"),  # EDT: 13:00 UTC, not 14:00
        at("2026-10-19T09:00:00-04:00"),
    ]
    assert all(end - start == timedelta(hours=2) for start, end in windows)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-11-09T08:55:00-05:00", "2026-11-09T09:00:00-05:00"),  # lead time: today's
        ("2026-11-09T10:30:00-05:00", "2026-11-09T09:00:00-05:00"),  # open: today's
        ("2026-11-09T11:00:00-05:00", "2026-11-16T09:00:00-05:00"),  # closed: next week's
    ],
)
def test_the_forecast_is_for_the_open_window_else_the_next(now: str, expected: str) -> None:
    assert forecast_window(MONDAY, at(now)) == at(expected)


def test_last_closed_window() -> None:
    assert last_closed_start(MONDAY, at("2026-11-09T10:59:00-05:00")) == at(
        "2026-11-02T09:00:00-05:00"
    )
    assert last_closed_start(MONDAY, at("2026-11-09T11:00:00-05:00")) == NOV_9_0900


# ---------------------------------------------------------------- forecast


def test_forecast_is_the_median_week_times_growth() -> None:
    settings = Forecast(growth=1.1)
    weeks = [week(100, 1), week(None, 2), week(120, 3), week(math.nan, 4), week(90, 5)]
    result = forecast_from(MONDAY, settings, weeks, window_start=NOV_9_0900, at=NOV_9_0900)
    assert result.reason == "Forecast"
    assert result.sessions == 110.0  # the median of 90, 100, 120 is 100; x 1.1
    assert result.weeks_used == 3  # None and NaN are weeks without data
    assert result.quantile == 0.99 and result.window_start == NOV_9_0900


def test_weeks_quantile_one_is_the_largest_week_the_old_rule() -> None:
    settings = Forecast(growth=1.1, weeksQuantile=1)
    weeks = [week(100, 1), week(None, 2), week(120, 3), week(90, 5)]
    result = forecast_from(MONDAY, settings, weeks, window_start=NOV_9_0900, at=NOV_9_0900)
    assert result.sessions == 132.0  # 120 x 1.1


def test_a_one_off_spike_week_does_not_move_the_median() -> None:
    weeks = [week(100, 1), week(104, 2), week(250, 3), week(98, 4), week(102, 5)]
    result = forecast_from(
        MONDAY, Forecast(trend="Off"), weeks, window_start=NOV_9_0900, at=NOV_9_0900
    )
    assert result.sessions == 102.0
    followed = forecast_from(MONDAY, Forecast(), weeks, window_start=NOV_9_0900, at=NOV_9_0900)
    assert followed.trend == pytest.approx(0.0008, abs=1e-4)  # Theil-Sen ignores the spike too
    assert followed.sessions == pytest.approx(102.41, abs=0.01)


def test_the_profile_is_the_window_slot_by_slot() -> None:
    """A 09:00 surge decaying within the hour: each slot's weekly values combine on their own,
    so the forecast keeps the shape (and a slot without data takes the largest of the rest)."""
    slots = slots_of(NOV_9_0900, NOV_9_0900 + MONDAY.duration)
    assert len(slots) == 24 and slots[0][1] - slots[0][0] == timedelta(minutes=5)

    def thirds(*values: float | None) -> list[float | None]:
        return [value for value in values for _ in range(3)]  # 8 quarter-hours, 24 slots

    weeks = [
        week_value(start, start + MONDAY.duration, thirds(1000, 800, 600, 500, 450, 420, 400, None))
        for start, _ in weekly_windows(MONDAY, NOV_9_0900, 3)
    ]
    weeks[1] = week_value(
        weeks[1].start, weeks[1].end, thirds(1100, 900, 500, 500, 400, 400, 400, 380)
    )
    result = forecast_from(MONDAY, Forecast(), weeks, window_start=NOV_9_0900, at=NOV_9_0900)
    assert result.profile == tuple(thirds(1000, 800, 600, 500, 450, 420, 400, 380))
    assert result.sessions == 1000
    assert weeks[0].sessions == 1000  # a week's value is its largest slot
    assert result.shape(24) == result.profile
    assert result.shape(8) is None  # another window length: no shape to follow


def test_only_the_last_weeks_count() -> None:
    weeks = [week(100, 1), week(110, 2), week(500, 3)]  # week 3 is beyond forecast.weeks
    result = forecast_from(MONDAY, Forecast(weeks=2), weeks, window_start=NOV_9_0900, at=NOV_9_0900)
    assert (result.sessions, result.weeks_used) == (105, 2)  # the median of 100 and 110


def test_fewer_weeks_than_min_weeks_is_insufficient_history() -> None:
    result = forecast_from(
        MONDAY, Forecast(), [week(100, 1), week(None, 2)], window_start=NOV_9_0900, at=NOV_9_0900
    )
    assert result.reason == "InsufficientHistory"
    assert result.sessions is None and result.weeks_used == 1


def test_a_failed_refresh_keeps_the_last_numbers() -> None:
    last = PeakForecast("monday-morning", 400, 12, 0.99, NOV_9_0900, NOV_9_0900, "Forecast")
    kept = failed_forecast(
        MONDAY, Forecast(), "PrometheusUnreachable", window_start=NOV_9_0900, previous=last
    )
    assert (kept.sessions, kept.weeks_used, kept.reason) == (400, 12, "PrometheusUnreachable")
    fresh = failed_forecast(MONDAY, Forecast(), "QueryError", window_start=None, previous=None)
    assert fresh.sessions is None and fresh.reason == "QueryError"


@pytest.mark.parametrize(
    ("largest", "median", "expected"),
    [(500, 100, 5.0), (0, 0, None), (300, 0, None), (None, 10, None), (math.inf, 10, None)],
)
def test_burst_factor(largest: float | None, median: float | None, expected: float | None) -> None:
    assert burst_factor(largest, median) == expected


# ---------------------------------------------------------------- trend and backtest


def growing_weeks(rate: float, weeks: int = 13) -> list[WeekValue]:
    """A window whose calls grew `rate` a week: 1,000 last week."""
    return [week(1000.0 / (1 + rate) ** (k - 1), k) for k in range(1, weeks + 1)]


def test_a_growing_business_is_forecast_at_its_level_with_trend_weekly() -> None:
    weeks = growing_weeks(0.05)
    off = forecast_from(
        MONDAY, Forecast(trend="Off"), weeks, window_start=NOV_9_0900, at=NOV_9_0900
    )
    on = forecast_from(MONDAY, Forecast(), weeks, window_start=NOV_9_0900, at=NOV_9_0900)
    assert Forecast().trend == "Weekly"  # the default
    assert off.trend is None and off.sessions == pytest.approx(1000 / 1.05**6, rel=1e-3)
    assert on.trend == pytest.approx(0.05, abs=1e-4)
    assert on.sessions == pytest.approx(1050, rel=1e-3)  # this week: last week's x 1.05


def test_the_backtest_says_how_far_to_trust_the_forecast() -> None:
    flat = forecast_from(
        MONDAY, Forecast(trend="Off"), [week(1000.0, k) for k in range(1, 14)],
        window_start=NOV_9_0900, at=NOV_9_0900,
    )  # fmt: skip
    assert flat.backtest is not None
    assert (flat.backtest.weeks, flat.backtest.mean_absolute_error) == (11, 0.0)
    assert flat.backtest.under_forecast_weeks == 0
    grown = forecast_from(
        MONDAY, Forecast(trend="Off"), growing_weeks(0.05), window_start=NOV_9_0900, at=NOV_9_0900
    )
    assert grown.backtest is not None
    assert grown.backtest.under_forecast_weeks == grown.backtest.weeks == 11  # always short
    followed = forecast_from(
        MONDAY, Forecast(trend="Weekly"), growing_weeks(0.05),
        window_start=NOV_9_0900, at=NOV_9_0900,
    )  # fmt: skip
    assert followed.backtest is not None
    assert followed.backtest.mean_absolute_error < grown.backtest.mean_absolute_error / 3
