"""core/planner/records.py: what the stages return: the forecasts a plan reads, and the floor
candidates (which bind, which is wanted)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from support.objects import capacity
from voicecap.core.peaks.forecast import History, PeakForecast
from voicecap.core.planner import floor_rules
from voicecap.core.planner.observation import Memory, Observation
from voicecap.core.planner.records import Asked, Floors, FloorTerm, Given

NOW = datetime(2026, 11, 21, 10, tzinfo=UTC)


def test_a_plan_reads_fresh_forecasts_else_the_kept_ones_of_declared_peaks_only() -> None:
    kept = PeakForecast("monday-morning", 640, 13, 0.99, reason="Forecast")
    gone = PeakForecast("old-peak", 10, 13, 0.99, reason="Forecast")
    failed = PeakForecast("monday-morning", reason="PrometheusUnreachable")
    given = Given(
        capacity(),
        Observation(history=History(forecasts={"monday-morning": failed})),
        Memory(forecasts=(kept, gone)),
        NOW,
    )
    assert list(given.forecasts) == ["monday-morning"]
    assert given.forecasts["monday-morning"].sessions == 640  # the numbers kept through a failure
    assert given.forecasts["monday-morning"].reason == "PrometheusUnreachable"


def terms(*asked: Asked) -> Floors:
    names = ["min", "sessions", "peak"]
    return Floors(
        tuple(FloorTerm(n, None, "demand", a) for n, a in zip(names, asked, strict=False))
    )


def test_the_wanted_floor_is_the_largest_term_that_binds() -> None:
    floors = terms(Asked(2), Asked(9, counts=False), Asked(5))
    assert floors.wanted == 5, "a term the HPA follows is reported, not taken"
    assert floors.of(floor_rules.SESSIONS).value == 9
    assert floors.of(floor_rules.SESSIONS).binding is None


def test_a_rule_not_asked_is_an_error_not_a_silent_none() -> None:
    with pytest.raises(KeyError, match="no floor term 'hold'"):
        terms(Asked(2)).of(floor_rules.HOLD)
