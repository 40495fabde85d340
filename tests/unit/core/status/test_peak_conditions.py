"""core/status/peak_conditions.py: PeakActive, ForecastReady, BurstAboveFactor, CalendarsReady
and PrescaleLate, from plans made with and without forecasts."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from support.objects import at, capacity_body
from voicecap.api.models import VoiceCapacity
from voicecap.core.apply.outcome import Outcome
from voicecap.core.peaks.forecast import History, PeakForecast, week_value
from voicecap.core.peaks.scorecard import Scorecard
from voicecap.core.planner.observation import Memory, Observation
from voicecap.core.planner.plan import plan
from voicecap.core.status import peak_conditions
from voicecap.core.status.capacity import build_status
from voicecap.core.status.memory import memory_from_status

OK = Outcome("Reconciled", "")
NOV_9_0900 = at("2026-11-09T09:00:00-05:00")


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


def test_a_forecast_from_weeks_served_at_their_limit_is_ready_but_named_a_lower_bound() -> None:
    vcap = forecasting_capacity()
    censored = history(1000, "CensoredHistory")
    week = week_value(NOV_9_0900, NOV_9_0900 + timedelta(hours=2), [1000.0], censored=True)
    forecast = censored.forecasts["monday-morning"]
    censored.forecasts["monday-morning"] = dataclasses.replace(forecast, weeks=(week,))
    result = plan(vcap, Observation(sessions=50, sampled_at=LEAD, history=censored), LEAD)
    assert result.peak_floor == 8  # a lower bound is still planned for
    ready = peak_conditions.forecast_ready(result, OK)
    assert (ready.status, ready.reason) == ("True", "CensoredHistory")
    assert "1 of them served at their limit: a lower bound" in ready.message
    assert "sessions.rejectedQuery" in ready.message


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
