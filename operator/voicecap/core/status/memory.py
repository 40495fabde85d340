"""Status read back: the operator's memory across restarts is what the last status said (last
floor, last known sessions, headroom clocks, stabilization history, forecasts, scorecards, a
scale-up waiting for Ready pods); `memory_from_status` reads exactly what core/status/capacity.py's
`build_status` wrote."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import date
from typing import Any, TypeVar

from pydantic import ValidationError

from voicecap.api.models import (
    ForecastStatus,
    HeadroomStatus,
    LastWindowStatus,
    ScaleUpStatus,
    TokenBudgetStatus,
    VoiceCapacityStatus,
)
from voicecap.api.timefmt import parse_iso
from voicecap.core.peaks.forecast import FORECAST_REASONS, PeakForecast
from voicecap.core.peaks.scorecard import Scorecard
from voicecap.core.planner.headroom import HeadroomState
from voicecap.core.planner.observation import Memory
from voicecap.core.planner.readiness import Readiness, ScaleUp
from voicecap.core.planner.stabilization import Recommendation

Status = TypeVar("Status", VoiceCapacityStatus, TokenBudgetStatus)


def parse_status(raw: Mapping[str, Any] | None) -> VoiceCapacityStatus | None:
    return parsed(VoiceCapacityStatus, raw)


def parsed(model: type[Status], raw: Mapping[str, Any] | None) -> Status | None:
    """A status as written; unreadable (older or hand-edited) status is treated as none."""
    if not raw:
        return None
    try:
        return model.model_validate(raw)
    except ValidationError:
        return None


def memory_from_status(status: VoiceCapacityStatus | None) -> Memory:
    if status is None:
        return Memory()
    headroom = status.headroom or HeadroomStatus()
    return Memory(
        floor=status.replicas.floor if status.replicas else None,
        session_replicas=status.replicas.sessions if status.replicas else None,
        readiness=_readiness_from(status.replicas.scale_up if status.replicas else None),
        sessions=status.sessions.active if status.sessions else None,
        headroom=HeadroomState(
            warning_since=parse_iso(headroom.warning_since),
            critical_since=parse_iso(headroom.critical_since),
            near_ceiling_since=parse_iso(headroom.near_ceiling_since),
        ),
        recommendations=tuple(
            Recommendation(at=moment, floor=r.floor)
            for r in status.recommendations
            if (moment := parse_iso(r.at)) is not None
        ),
        forecasts=tuple(_forecast_from(item) for item in status.forecast),
        burst_factor=status.burst_factor,
        scorecards=tuple(
            card
            for item in status.forecast
            if item.last_window is not None
            and (card := _scorecard_from(item.peak, item.last_window)) is not None
        ),
    )


def _forecast_from(item: ForecastStatus) -> PeakForecast:
    reason = item.reason if item.reason in FORECAST_REASONS else "Pending"
    return PeakForecast(
        peak=item.peak,
        sessions=item.sessions,
        weeks_used=item.weeks_used,
        profile=tuple(item.profile),
        quantile=item.quantile,
        window_start=parse_iso(item.window_start),
        computed_at=parse_iso(item.computed_at),
        reason=reason,  # type: ignore[arg-type]
        replaced=tuple(_days(item.replaced_weeks)),
    )


def _days(texts: list[str]) -> list[date]:
    days = []
    for text in texts:
        with contextlib.suppress(ValueError):  # status is ours, but never trust it to crash
            days.append(date.fromisoformat(text))
    return days


def _readiness_from(status: ScaleUpStatus | None) -> Readiness:
    if status is None:
        return Readiness()
    since = parse_iso(status.pending_since)
    pending = (
        ScaleUp(since, status.pending_target)
        if since is not None and status.pending_target is not None
        else None
    )
    return Readiness(pending, status.last_seconds, status.last_target)


def _scorecard_from(peak: str, item: LastWindowStatus) -> Scorecard | None:
    start, end = parse_iso(item.start), parse_iso(item.end)
    if start is None or end is None:
        return None
    return Scorecard(
        peak=peak,
        window_start=start,
        window_end=end,
        baseline=item.forecast,
        baseline_source=item.source,
        actual=item.actual,
        over_capacity_minutes=item.over_capacity_minutes,
        last_over_capacity=parse_iso(item.last_over_capacity),
        planned_floor=item.planned_floor,
        ready_at_open=item.ready_at_open,
    )
