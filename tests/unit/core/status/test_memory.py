"""core/status/memory.py: the status blocks that double as memory read back into the memory that wrote them."""

from __future__ import annotations

import dataclasses
import math
from datetime import timedelta

import pytest

from support.planned import NOW, OK, applied_capacity, evaluate
from voicecap.api.models import VoiceCapacityStatus, dump
from voicecap.core.measured.calibration import Calibration
from voicecap.core.measured.knee import PerPodEstimate
from voicecap.core.peaks.forecast import Backtest, History, PeakForecast, week_value
from voicecap.core.planner.latency import LatencyState
from voicecap.core.planner.observation import Memory
from voicecap.core.planner.readiness import Readiness
from voicecap.core.status.capacity import build_status
from voicecap.core.status.memory import memory_from_status, parse_status, rounded


def test_status_round_trips_into_the_same_memory() -> None:
    vcap = applied_capacity(scaleDown={"stabilization": "10m"})
    first = evaluate(vcap, 1000)
    second = evaluate(vcap, 100, now=NOW + timedelta(minutes=1), memory=first.memory)
    status = build_status(second, OK, previous=None, generation=3, now=NOW)
    memory = memory_from_status(parse_status(dump(status)))
    assert memory.floor == second.floor == 8
    assert memory.recommendations == second.memory.recommendations
    assert memory.sessions == 100


def test_unreadable_status_is_no_memory() -> None:
    assert parse_status({"replicas": {"floor": "many"}}) is None
    assert memory_from_status(None).floor is None


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [(0.6399999, 3, 0.64), (4.0, 2, 4), (None, 2, None), (math.inf, 2, None), (math.nan, 3, None)],
)
def test_status_numbers_are_rounded_integers_where_they_are_and_none_where_not_finite(
    value: float | None, digits: int, expected: float | None
) -> None:
    result = rounded(value, digits)
    assert result == expected and type(result) is type(expected)


def test_a_hand_edited_timestamp_is_left_out_not_a_crash() -> None:
    status = VoiceCapacityStatus.model_validate(
        {"recommendations": [{"at": "not a time", "floor": 5}], "replicas": {"floor": 3}}
    )
    memory = memory_from_status(status)
    assert memory.recommendations == () and memory.floor == 3


def test_the_latency_guard_survives_a_restart() -> None:
    vcap = applied_capacity(latency={"target": "800ms"})
    since = NOW - timedelta(minutes=5)
    guarded = Memory(latency=LatencyState(above_since=since, guard_pods=6, raised_at=since))
    decided = evaluate(vcap, 300, memory=guarded, latency=1.1)
    status = build_status(decided, OK, previous=None, generation=1, now=NOW)
    assert status.latency is not None and status.latency.guard_pods == 8  # raised again
    assert memory_from_status(parse_status(dump(status))).latency == decided.memory.latency


def test_the_weeks_a_forecast_read_survive_a_restart_with_their_flags() -> None:
    start = NOW - timedelta(weeks=1)
    weeks = (
        week_value(start, start + timedelta(hours=2), [410.0, 380.0], censored=True),
        week_value(start - timedelta(weeks=1), start, [None]),
    )
    forecast = PeakForecast("monday-morning", 410.0, 1, 0.99, NOW, NOW, "CensoredHistory")
    learned = dataclasses.replace(
        forecast, weeks=weeks, trend=0.05, backtest=Backtest(11, 0.119, 6)
    )
    history = History(forecasts={"monday-morning": learned})
    decided = evaluate(applied_capacity(), 100, history=history)
    status = build_status(decided, OK, previous=None, generation=1, now=NOW)
    (written,) = status.forecast
    assert [(w.sessions, w.censored, w.offered) for w in written.weeks] == [
        (410, True, False),
        (None, False, False),
    ]
    assert written.trend == 0.05 and written.backtest is not None
    (read,) = memory_from_status(parse_status(dump(status))).forecasts
    assert read.reason == "CensoredHistory"
    assert (read.trend, read.backtest) == (0.05, Backtest(11, 0.119, 6))
    assert [(w.start, w.end, w.sessions, w.censored) for w in read.weeks] == [
        (w.start, w.end, w.sessions, w.censored) for w in weeks
    ]


def test_the_recent_scale_ups_survive_a_restart() -> None:
    recent = (170.0, 180.5, 160.0)
    memory = Memory(readiness=Readiness(None, 160.0, 4, recent))
    decided = evaluate(applied_capacity(), 100, memory=memory)
    status = build_status(decided, OK, previous=None, generation=1, now=NOW)
    assert status.replicas is not None and status.replicas.scale_up is not None
    assert status.replicas.scale_up.recent_seconds == list(recent)
    assert memory_from_status(parse_status(dump(status))).readiness.recent == recent


def test_what_was_measured_survives_a_restart_and_plans_the_same() -> None:
    estimate = PerPodEstimate(115.83, "Observed", 900, 20.0, 190.0, "latency reaches 800ms")
    measured = Calibration(per_pod=estimate, computed_at=NOW)
    vcap = applied_capacity(
        latency={"target": "800ms"}, sessions={"perPod": 200, "perPodFrom": "Measured"}
    )
    decided = evaluate(vcap, 300, calibration=measured)
    status = build_status(decided, OK, previous=None, generation=1, now=NOW)
    kept = memory_from_status(parse_status(dump(status))).calibration
    assert kept.per_pod is not None and kept.per_pod.measured == 115.83
    assert kept.computed_at == NOW
    again = evaluate(vcap, 300, memory=decided.memory)  # a new process: nothing measured yet
    assert again.per_pod == decided.per_pod == 115
