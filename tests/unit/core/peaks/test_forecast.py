"""core/peaks/forecast.py: which windows, how weekly values become a forecast, the burst factor, the
scorecard, and how the plan and its conditions use them (docs/api.md "Forecasts")."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from support.objects import capacity_body
from voicecap.api.models import Forecast, Peak, VoiceCapacity
from voicecap.core.apply.outcome import Outcome
from voicecap.core.peaks.forecast import (
    History,
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
from voicecap.core.peaks.scorecard import Scorecard, score
from voicecap.core.planner.observation import Memory, Observation
from voicecap.core.planner.plan import plan
from voicecap.core.status import peak_conditions
from voicecap.core.status.capacity import build_status
from voicecap.core.status.memory import memory_from_status

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
    result = forecast_from(MONDAY, Forecast(), weeks, window_start=NOV_9_0900, at=NOV_9_0900)
    assert result.sessions == 102.0


def test_the_profile_is_the_window_slot_by_slot() -> None:
    """A 09:00 surge decaying within the hour: each slot's weekly values combine on their own,
    so the forecast keeps the shape (and a slot without data takes the largest of the rest)."""
    slots = slots_of(NOV_9_0900, NOV_9_0900 + MONDAY.duration)
    assert len(slots) == 8 and slots[0][1] - slots[0][0] == timedelta(minutes=15)
    weeks = [
        week_value(start, start + MONDAY.duration, [1000, 800, 600, 500, 450, 420, 400, None])
        for start, _ in weekly_windows(MONDAY, NOV_9_0900, 3)
    ]
    weeks[1] = week_value(weeks[1].start, weeks[1].end, [1100, 900, 500, 500, 400, 400, 400, 380])
    result = forecast_from(MONDAY, Forecast(), weeks, window_start=NOV_9_0900, at=NOV_9_0900)
    assert result.profile == (1000, 800, 600, 500, 450, 420, 400, 380)
    assert result.sessions == 1000
    assert weeks[0].sessions == 1000  # a week's value is its largest slot
    assert result.shape(8) == result.profile
    assert result.shape(4) is None  # another window length: no shape to follow


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


# ---------------------------------------------------------------- scorecard


def scored(
    now: datetime, previous: tuple[Scorecard, ...] = (), **kwargs: Any
) -> tuple[Scorecard, ...]:
    options: dict[str, Any] = {
        "baselines": {"monday-morning": (400.0, "forecast")},
        "over_capacity": False,
        "actuals": {},
    }
    options.update(kwargs)
    return score([MONDAY], previous, now=now, **options)


def test_a_card_opens_with_the_baseline_when_the_floor_is_raised() -> None:
    assert scored(at("2026-11-09T08:49:00-05:00")) == ()  # before the lead time
    (card,) = scored(at("2026-11-09T08:50:00-05:00"), over_capacity=True)
    assert (card.window_start, card.baseline, card.baseline_source) == (
        NOV_9_0900,
        400.0,
        "forecast",
    )
    assert card.over_capacity_minutes == 0  # lead time is not the window


def test_minutes_over_capacity_count_once_per_minute() -> None:
    cards = scored(at("2026-11-09T08:55:00-05:00"))
    for moment, over in [
        ("09:10:05", True),
        ("09:10:20", True),  # the same minute
        ("09:11:00", True),
        ("09:12:00", False),
        ("09:40:30", True),
    ]:
        cards = scored(at(f"2026-11-09T{moment}-05:00"), cards, over_capacity=over)
    assert cards[0].over_capacity_minutes == 3
    assert cards[0].last_over_capacity == at("2026-11-09T09:40:00-05:00")


def test_a_closed_window_takes_its_actual_and_error_ratio() -> None:
    cards = scored(at("2026-11-09T10:00:00-05:00"))
    wrong_week = {"monday-morning": (NOV_9_0900 - timedelta(weeks=1), 999.0)}
    cards = scored(at("2026-11-09T11:01:00-05:00"), cards, actuals=wrong_week)
    assert cards[0].actual is None  # another window's value is not this one's
    cards = scored(
        at("2026-11-09T11:02:00-05:00"), cards, actuals={"monday-morning": (NOV_9_0900, 500.0)}
    )
    assert cards[0].actual == 500.0
    assert cards[0].error_ratio == 0.25  # (500 - 400) / 400: 25 % more calls than planned for
    # a week later the next window opens a new card
    (card,) = scored(at("2026-11-16T08:51:00-05:00"), cards)
    assert card.window_start == NOV_9_0900 + timedelta(weeks=1) and card.actual is None


# ---------------------------------------------------------------- the plan


def forecasting_capacity(**forecast: Any) -> VoiceCapacity:
    body = capacity_body(forecast=forecast) if forecast else capacity_body()
    del body["spec"]["peaks"][0]["expectedSessions"]
    return VoiceCapacity.model_validate(body)


def history(sessions: float | None, reason: str = "Forecast") -> History:
    forecast = PeakForecast(
        "monday-morning",
        sessions,
        12,
        0.99,
        NOV_9_0900,
        NOV_9_0900,
        reason,  # type: ignore[arg-type]
    )
    return History(forecasts={"monday-morning": forecast}, burst_factor=2.5, burst_known=True)


LEAD = at("2026-11-09T08:55:00-05:00")


def test_the_plan_prescales_from_the_forecast_and_reports_it() -> None:
    vcap = forecasting_capacity()
    result = plan(vcap, Observation(sessions=50, sampled_at=LEAD, history=history(1000)), LEAD)
    assert result.peak_floor == 8  # ceil(1.5 x 1000 / 200)
    assert "1000 calls (forecast" in result.reasons["peakFloor"]
    assert result.burst_factor == 2.5
    ready = peak_conditions.forecast_ready(result, OK)
    assert (ready.status, ready.reason) == ("True", "Forecast")
    # The 28-day burst factor (2.5) is above the factor, but it is not what the factor covers:
    # no window has closed to judge yet.
    assert peak_conditions.burst_above_factor(result, OK) is None


def test_a_failure_keeps_the_forecast_from_memory_and_the_floor() -> None:
    vcap = forecasting_capacity()
    first = plan(vcap, Observation(sessions=50, sampled_at=LEAD, history=history(1000)), LEAD)
    outage = History(
        forecasts={"monday-morning": PeakForecast("monday-morning", reason="PrometheusUnreachable")}
    )
    later = LEAD + timedelta(minutes=2)
    result = plan(
        vcap, Observation(sessions=50, sampled_at=later, history=outage), later, first.memory
    )
    assert result.peak_floor == 8  # the kept forecast, not current sessions (50)
    assert result.burst_factor == 2.5  # not refreshed: the last one
    ready = peak_conditions.forecast_ready(result, OK)
    assert (ready.status, ready.reason) == ("False", "PrometheusUnreachable")
    assert "keeping 1000" in ready.message


def test_insufficient_history_falls_back_to_current_sessions() -> None:
    vcap = forecasting_capacity()
    thin = history(None, "InsufficientHistory")
    result = plan(vcap, Observation(sessions=300, sampled_at=LEAD, history=thin), LEAD)
    assert result.peak_floor == 3  # ceil(1.5 x 300 / 200)
    ready = peak_conditions.forecast_ready(result, OK)
    assert (ready.status, ready.reason) == ("False", "InsufficientHistory")
    assert "current sessions" in ready.message


def test_expected_sessions_win_and_need_no_forecast() -> None:
    vcap = VoiceCapacity.model_validate(capacity_body())  # expectedSessions 600
    thin = history(None, "InsufficientHistory")
    result = plan(vcap, Observation(sessions=300, sampled_at=LEAD, history=thin), LEAD)
    assert result.peak_floor == 5  # ceil(1.5 x 600 / 200)
    assert peak_conditions.forecast_ready(result, OK).status == "True"


def test_a_refresh_with_the_same_numbers_keeps_computed_at() -> None:
    """computedAt moves only when the forecast changes: an hourly refresh writes no status."""
    vcap = forecasting_capacity()
    first = plan(vcap, Observation(sessions=50, sampled_at=LEAD, history=history(1000)), LEAD)
    later = LEAD + timedelta(hours=1)
    again = History(
        forecasts={
            "monday-morning": PeakForecast(
                "monday-morning", 1000, 12, 0.99, NOV_9_0900, later, "Forecast"
            )
        },
        burst_factor=2.5,
        burst_known=True,
    )
    second = plan(
        vcap, Observation(sessions=50, sampled_at=later, history=again), later, first.memory
    )
    assert second.forecasts[0].computed_at == NOV_9_0900
    assert second.memory.forecasts == first.memory.forecasts


def test_pending_is_unknown_not_a_problem() -> None:
    result = plan(forecasting_capacity(), Observation(sessions=10, sampled_at=LEAD), LEAD)
    ready = peak_conditions.forecast_ready(result, OK)
    assert (ready.status, ready.reason) == ("Unknown", "Pending")
    assert peak_conditions.burst_above_factor(result, OK) is None  # no burst factor known


def test_forecast_and_scorecard_survive_a_restart_through_status() -> None:
    vcap = forecasting_capacity()
    inside = at("2026-11-09T09:30:00-05:00")
    observed = Observation(
        sessions=2000, sampled_at=inside, ready_replicas=4, history=history(1000)
    )
    result = plan(vcap, observed, inside, Memory())
    status = build_status(
        result, Outcome("Reconciled", "ok"), previous=None, generation=1, now=inside
    )
    memory = memory_from_status(status)
    assert memory.forecasts == result.memory.forecasts
    assert memory.scorecards == result.memory.scorecards
    assert memory.scorecards[0].over_capacity_minutes == 1  # 2000 calls > 4 pods x 200
    assert status.forecast[0].sessions == 1000 and status.burst_factor == 2.5


# ---------------------------------------------------------------- the burst the factor covers


@pytest.mark.parametrize(
    ("actual", "status", "fragment"),
    [
        (1000.0, "True", "1000 calls, 1.67x the 600 planned for (factor 1.5)"),
        (850.0, "False", "1.42x the forecast, within factor 1.5"),
    ],
)
def test_burst_above_factor_judges_the_last_window_against_what_it_planned_for(
    actual: float, status: str, fragment: str
) -> None:
    vcap = VoiceCapacity.model_validate(capacity_body())  # expectedSessions 600, factor 1.5
    card = Scorecard(
        "monday-morning",
        NOV_9_0900,
        NOV_9_0900 + timedelta(hours=2),
        baseline=600.0,
        baseline_source="expected",
        actual=actual,
    )
    later = NOV_9_0900 + timedelta(hours=3)
    result = plan(
        vcap, Observation(sessions=50, sampled_at=later), later, Memory(scorecards=(card,))
    )
    burst = peak_conditions.burst_above_factor(result, OK)
    assert burst is not None and burst.status == status
    assert fragment in burst.message


def test_no_closed_window_no_burst_condition() -> None:
    vcap = VoiceCapacity.model_validate(capacity_body())
    result = plan(vcap, Observation(sessions=50, sampled_at=LEAD, history=history(1000)), LEAD)
    assert (
        peak_conditions.burst_above_factor(result, OK) is None
    )  # 2.5 x the median is not the factor's job
