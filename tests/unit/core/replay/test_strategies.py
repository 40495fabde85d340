"""The replay core: each strategy over recorded calls, what users lose (blocked call-minutes,
minutes short) and pay (pod-hours), and the HPA model the strategies share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from support.objects import capacity_body
from voicecap.api.models import VoiceCapacity
from voicecap.core.peaks.forecast import PeakForecast
from voicecap.core.replay.strategies import (
    STRATEGIES,
    WEEK,
    Point,
    cron_minimum,
    replay,
    week_before,
)

# Monday 2026-11-23: 08:30 New York; the healthcare peak opens at 09:00 (14:00 UTC).
START = datetime(2026, 11, 23, 13, 30, tzinfo=UTC)
OPEN = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
STEP = timedelta(minutes=1)


def capacity(**spec: object) -> VoiceCapacity:
    body = capacity_body(replicas={"min": 1, "max": 40}, model=None, **spec)
    return VoiceCapacity.model_validate(body)


def surge(minutes: int = 120) -> list[Point]:
    """40 calls until 09:00, then 600 for an hour, then 40 again."""
    return [
        Point(at, 600.0 if OPEN <= at < OPEN + timedelta(hours=1) else 40.0)
        for at in (START + index * STEP for index in range(minutes))
    ]


def test_every_strategy_sees_the_same_calls() -> None:
    result = replay(capacity(), surge(), step=STEP, forecasts={})
    assert set(result) == set(STRATEGIES)
    for totals in result.values():
        assert [step.sessions for step in totals.steps] == [p.sessions for p in surge()]


def test_the_oracle_has_exactly_the_pods_the_calls_need_and_loses_nothing() -> None:
    oracle = replay(capacity(), surge(), step=STEP, forecasts={})["oracle"]
    assert {step.pods for step in oracle.steps} == {1, 5}  # ceil(40 / 140), ceil(600 / 140)
    assert (oracle.blocked_call_minutes, oracle.over_capacity_minutes) == (0, 0)
    assert oracle.pod_hours == pytest.approx((90 * 1 + 60 * 5 - 30) / 60, abs=0.01)


def test_blocked_call_minutes_integrate_the_calls_above_ready_capacity() -> None:
    """The HPA alone: 09:00's 600 calls meet one ready pod (200 slots) until its new pods are
    ready 2 minutes later: 400 calls blocked for each of those minutes."""
    reactive = replay(capacity(peaks=[]), surge(), step=STEP, forecasts={})["reactive"]
    assert reactive.over_capacity_minutes == 2
    assert reactive.blocked_call_minutes == 800


def test_voicecap_prescales_so_nothing_is_blocked_at_a_fraction_of_the_old_cost() -> None:
    """expectedSessions 600: 5 pods from 08:50 (1.5 x 600 / 200), where the HPA alone is short
    for two minutes at 09:00."""
    result = replay(capacity(), surge(), step=STEP, forecasts={})
    voicecap, oracle = result["voicecap"], result["oracle"]
    assert voicecap.blocked_call_minutes == 0 and voicecap.over_capacity_minutes == 0
    assert max(step.floor or 0 for step in voicecap.steps) == 5
    # The declared peak is flat without history (5 pods from 08:50 to 11:00, an hour past the
    # calls); the old rule held 8 pods for those 130 minutes.
    assert oracle.pod_hours < voicecap.pod_hours < 130 / 60 * 8


def test_keda_cron_holds_the_peak_size_from_the_window_start_without_lead_time() -> None:
    result = replay(capacity(), surge(), step=STEP, forecasts={})
    keda = result["keda-cron"]
    floors = {step.at: step.floor for step in keda.steps}
    assert floors[OPEN - timedelta(minutes=5)] == 1  # no lead time
    assert floors[OPEN] == floors[OPEN + timedelta(minutes=89)] == 5
    assert keda.blocked_call_minutes > 0  # the minimum arrives with the calls, not before


def test_cron_minimum_uses_the_forecast_of_the_window() -> None:
    body = capacity_body()
    del body["spec"]["peaks"][0]["expectedSessions"]
    vcap = VoiceCapacity.model_validate(body)
    forecasts = {
        ("monday-morning", OPEN): PeakForecast("monday-morning", 1000.0, reason="Forecast")
    }
    assert cron_minimum(vcap, forecasts, OPEN) == 8  # 1.5 x 1000 / 200
    assert cron_minimum(vcap, forecasts, OPEN - timedelta(minutes=1)) is None
    assert cron_minimum(vcap, {}, OPEN) is None  # no forecast, nothing declared: no minimum


def test_cost_prices_pod_hours() -> None:
    fixed = replay(capacity(), surge(60), step=STEP, forecasts={})["fixed"]
    assert fixed.pod_hours == 1.0
    assert fixed.cost(2.5) == 2.5 and fixed.cost(None) is None


def test_a_zero_stabilization_window_replays() -> None:
    """It raised IndexError in the HPA model (an empty window) before."""
    totals = replay(capacity(scaleDown={"stabilization": "0s"}), surge(30), step=STEP, forecasts={})
    assert set(totals) == set(STRATEGIES)


def test_week_before_is_the_most_calls_of_the_half_hour_that_followed_a_week_ago() -> None:
    recorded = [
        Point(at - WEEK, sessions) for at, sessions in ((p.at, p.sessions) for p in surge())
    ]
    recorded[5] = Point(recorded[5].at, None)  # a scrape missed
    recipe = week_before(recorded)
    assert recipe(OPEN - timedelta(minutes=30)) == 600  # [08:30, 09:00] a week ago: 09:00's 600
    assert recipe(OPEN - timedelta(minutes=31)) == 40  # [08:29, 08:59]
    assert recipe(START - timedelta(hours=2)) is None  # nothing recorded then


def test_keda_week_scales_ahead_on_last_weeks_calls_and_the_live_metric_after() -> None:
    """Last week was this week: 600 calls from 09:00. KEDA's recipe reads them from 08:30 on,
    so the HPA asks for 5 pods (600 / 140) half an hour before the calls come, and nothing is
    blocked; without a last week it is the HPA alone."""
    last_week = [Point(p.at - WEEK, p.sessions) for p in surge()]
    result = replay(capacity(peaks=[]), surge(), step=STEP, forecasts={}, last_week=last_week)
    week, reactive = result["keda-week"], result["reactive"]
    assert (week.blocked_call_minutes, week.over_capacity_minutes) == (0, 0)
    pods = {step.at: step.pods for step in week.steps}
    assert pods[START] == 1 and pods[START + STEP] == 5
    assert reactive.blocked_call_minutes == 800
    alone = replay(capacity(peaks=[]), surge(), step=STEP, forecasts={})["keda-week"]
    assert alone.blocked_call_minutes == reactive.blocked_call_minutes
    assert alone.pod_hours == reactive.pod_hours
