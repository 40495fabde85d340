"""core/planner/headroom.py: headroom levels, sustained before they count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from voicecap.core.planner.headroom import HeadroomState, evaluate

T0 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def _headroom(utilization: float | None, previous: HeadroomState, minutes: float):  # type: ignore[no-untyped-def]
    return evaluate(
        utilization,
        warning=0.7,
        critical=0.9,
        sustain=timedelta(minutes=10),
        previous=previous,
        now=T0 + timedelta(minutes=minutes),
    )


def test_warning_counts_only_when_sustained() -> None:
    verdict = _headroom(0.75, HeadroomState(), 0)
    assert (verdict.level, verdict.instantaneous) == ("Normal", "Warning")
    verdict = _headroom(0.71, verdict.state, 9.9)
    assert verdict.level == "Normal"
    verdict = _headroom(0.70, verdict.state, 10)  # exactly at warning still counts (>=)
    assert verdict.level == "Warning"


def test_a_dip_under_warning_resets_the_clock() -> None:
    verdict = _headroom(0.8, HeadroomState(), 0)
    verdict = _headroom(0.69, verdict.state, 5)
    verdict = _headroom(0.8, verdict.state, 6)
    assert _headroom(0.8, verdict.state, 15).level == "Normal"
    assert _headroom(0.8, verdict.state, 16).level == "Warning"


def test_critical_needs_its_own_sustained_period() -> None:
    verdict = _headroom(0.8, HeadroomState(), 0)
    verdict = _headroom(0.95, verdict.state, 8)
    verdict = _headroom(0.95, verdict.state, 12)
    assert (verdict.level, verdict.instantaneous) == ("Warning", "Critical")
    assert _headroom(0.95, verdict.state, 18).level == "Critical"


def test_unknown_utilization_keeps_the_clock() -> None:
    """GapKeepsClock: a scrape gap neither resets nor starts the sustained period."""
    verdict = _headroom(0.8, HeadroomState(), 0)
    gap = _headroom(None, verdict.state, 5)
    assert gap.state == verdict.state
    assert _headroom(0.8, gap.state, 10).level == "Warning"
    assert _headroom(None, HeadroomState(), 30).level == "Normal"
