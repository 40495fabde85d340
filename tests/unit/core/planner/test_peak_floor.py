"""The peak floor moment by moment: the forecast's shape where pods asked for now carry calls
(the lead time, or the measured start-up), the declared peak scaled to that shape, and the
factor as headroom at perPod."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from support.objects import capacity_body
from voicecap.api.models import VoiceCapacity
from voicecap.core.peaks.forecast import History, PeakForecast
from voicecap.core.peaks.windows import active_window
from voicecap.core.planner.observation import Observation
from voicecap.core.planner.peak_floor import calls_ahead, peak_term
from voicecap.core.planner.plan import plan

# Monday 2026-11-23, 09:00 New York = 14:00 UTC; the window is 2h in 24 slots of 5 minutes.
OPEN = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
QUARTERS = (1000.0, 900.0, 700.0, 600.0, 500.0, 450.0, 420.0, 400.0)  # each quarter-hour
SURGE = tuple(value for value in QUARTERS for _ in range(3))


def capacity(expected: int | None = None, **peak: Any) -> VoiceCapacity:
    body = capacity_body()
    monday = body["spec"]["peaks"][0]
    monday.pop("expectedSessions")
    if expected is not None:
        monday["expectedSessions"] = expected
    monday.update(peak)
    return VoiceCapacity.model_validate(body)


def forecast(profile: tuple[float, ...] = SURGE) -> dict[str, PeakForecast]:
    return {
        "monday-morning": PeakForecast(
            "monday-morning",
            sessions=max(profile),
            profile=profile,
            weeks_used=13,
            reason="Forecast",
        )
    }


def floor_at(vcap: VoiceCapacity, at: datetime, forecasts: dict[str, PeakForecast]) -> int | None:
    term = peak_term(vcap, forecasts=forecasts, last_known=40, now=at, per_pod=200)
    return term.floor if term is not None else None


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (-10, 8),  # lead time: the first slot's 1,000 calls, 1.5 x 1000 / 200 = 7.5 -> 8
        (0, 8),  # 09:00: pods asked for now carry calls at 09:10, still the first quarter
        (6, 7),  # 09:06 plans for 09:16: the second quarter (900) -> 6.75 -> 7
        (35, 5),  # 09:35 plans for 09:45: the fourth quarter (600) -> 4.5 -> 5
        (110, 3),  # 10:50 plans for 11:00, past the end: the last slot (400) -> 3
        (120, None),  # the window is over
    ],
)
def test_the_floor_covers_the_shape_where_pods_asked_for_now_carry_calls(
    minutes: int, expected: int | None
) -> None:
    assert floor_at(capacity(), OPEN + timedelta(minutes=minutes), forecast()) == expected


def test_a_declared_peak_takes_the_shape_of_history() -> None:
    """expectedSessions 600 where history peaked at 1,000: every slot x 0.6."""
    vcap = capacity(expected=600)
    assert floor_at(vcap, OPEN, forecast()) == 5  # 1.5 x 600 / 200 = 4.5
    assert floor_at(vcap, OPEN + timedelta(minutes=110), forecast()) == 2  # 1.5 x 240 / 200
    term = peak_term(vcap, forecasts=forecast(), last_known=40, now=OPEN, per_pod=200)
    assert term is not None and "expected peak, history's shape" in term.reason


def test_without_history_a_declared_peak_is_flat() -> None:
    vcap = capacity(expected=600)
    assert floor_at(vcap, OPEN + timedelta(minutes=110), {}) == 5


def test_a_forecast_without_a_profile_is_flat_at_its_sessions() -> None:
    """Status written before profiles existed: the forecast still counts, flat."""
    old = {"monday-morning": PeakForecast("monday-morning", sessions=1000, reason="Forecast")}
    assert floor_at(capacity(), OPEN + timedelta(minutes=110), old) == 8


def test_a_profile_with_another_slot_count_is_not_followed() -> None:
    """The peak became 20 minutes long (4 slots of 5m) since the 8-slot forecast: flat."""
    vcap = capacity(duration="20m")
    assert floor_at(vcap, OPEN + timedelta(minutes=15), forecast()) == 8  # flat at 1,000


def test_calls_ahead_reads_the_slots_that_meet_the_horizon() -> None:
    window = active_window(capacity().spec.peaks[0], OPEN)
    assert window is not None
    lead = timedelta(minutes=10)
    assert calls_ahead(window, SURGE, 1.0, OPEN + timedelta(minutes=4), lead) == 1000  # 09:14
    assert calls_ahead(window, SURGE, 1.0, OPEN + timedelta(minutes=6), lead) == 900  # 09:16
    assert calls_ahead(window, SURGE, 0.5, OPEN + timedelta(minutes=40), lead) == 300  # 09:50 / 2


def test_a_measured_start_up_shortens_the_look_ahead_inside_the_window_not_before_it() -> None:
    window = active_window(capacity().spec.peaks[0], OPEN)
    assert window is not None
    ramp = tuple(float(100 * (slot + 1)) for slot in range(24))  # 100 more every 5 minutes
    four, ten = timedelta(minutes=4), timedelta(minutes=10)
    at = OPEN + timedelta(minutes=8)
    assert calls_ahead(window, ramp, 1.0, at, ten) == 400  # 09:18: the fourth slot
    assert calls_ahead(window, ramp, 1.0, at, four) == 300  # 09:12: what pods can be late for
    # before the window: its first slot from the lead time on, whatever the look-ahead
    assert calls_ahead(window, ramp, 1.0, OPEN - timedelta(minutes=9), four) == 100


def test_the_plan_reports_the_shaped_floor_and_its_reason() -> None:
    history = History(forecasts=forecast())
    result = plan(
        capacity(), Observation(sessions=40, sampled_at=OPEN, history=history), OPEN, None
    )
    assert result.peak_floor == 8 and result.floor == 8
    assert (
        "1.429 (1/targetUtilization, below factor 1.5 once open) x 1000 calls"
        " (forecast shape, next 10m) at 200 per pod = 8 pods" in (result.reasons["peakFloor"])
    )


def test_the_plan_brings_the_floor_down_as_the_surge_decays_within_stabilization() -> None:
    """The floor follows the shape down, never faster than scaleDown.stabilization (10m)."""
    history = History(forecasts=forecast())
    memory = None
    floors = []
    for minute in range(0, 120, 5):
        at = OPEN + timedelta(minutes=minute)
        observed = Observation(sessions=40, sampled_at=at, history=history, hpa_scaling=True)
        decided = plan(capacity(), observed, at, memory)
        memory = decided.memory
        floors.append(decided.floor)
    assert floors[0] == 8 and floors[-1] == 3  # 10:55: the last slot, 1.5 x 400 / 200
    assert floors == sorted(floors, reverse=True)
    assert floors[2] == 8  # 09:10 wants 6, but 09:00's 8 is within the last 10 minutes


def test_blocking_target_sizes_the_peak_floor_with_erlang_b() -> None:
    body = capacity_body()
    body["spec"]["sessions"]["blockingTarget"] = 0.001
    vcap = VoiceCapacity.model_validate(body)
    term = peak_term(vcap, forecasts={}, last_known=40, now=OPEN, per_pod=200)
    assert term is not None and term.floor == 5  # 900 Erlangs need 968 slots at 0.1 %
    assert "Erlang B slots at 0.001 blocking" in term.reason
