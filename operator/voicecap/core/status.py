"""Status is the user interface: a Plan and what applying it did, as the object's status.

Pure functions of (plan, outcome, previous status, now). The status doubles as the operator's
memory across restarts (last floor, last known sessions, headroom clocks, stabilization history),
so `memory_from_status` reads back exactly what `build_status` wrote. Nothing here changes from one
cycle to the next unless something real changed: a steady cycle must produce the same status,
because the operator writes only differences.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Literal, TypeVar

from pydantic import ValidationError

from voicecap.api.models import (
    AdmissionStatus,
    Condition,
    ForecastStatus,
    HeadroomStatus,
    HPAConditionStatus,
    HPAStatus,
    LastWindowStatus,
    NextPeak,
    ReplicasStatus,
    ScaleUpStatus,
    SessionsStatus,
    TokenBudgetStatus,
    TPMStatus,
    VoiceCapacityStatus,
)
from voicecap.api.models import Recommendation as RecommendationStatus
from voicecap.api.timefmt import iso, iso_or_none, parse_iso
from voicecap.core import conditions as decide
from voicecap.core import events, peak_conditions
from voicecap.core.autoscaler import HPA_CONDITION_TYPES, HPAReport
from voicecap.core.forecast import FORECAST_REASONS, PeakForecast
from voicecap.core.headroom import HeadroomState
from voicecap.core.observation import Memory
from voicecap.core.outcome import Outcome
from voicecap.core.plan import Plan
from voicecap.core.readiness import Readiness, ScaleUp
from voicecap.core.scorecard import Scorecard
from voicecap.core.stabilization import Recommendation


def build_status(
    plan: Plan,
    outcome: Outcome,
    *,
    previous: VoiceCapacityStatus | None,
    generation: int | None,
    now: datetime,
) -> VoiceCapacityStatus:
    conditions = [
        decide.ready_condition(outcome),
        decide.metrics_condition(plan),
        decide.peak_condition(plan),
        decide.headroom_condition(plan),
        decide.near_ceiling_condition(plan),
        decide.capacity_limited_condition(plan),
    ]
    budget = decide.budget_condition(plan, outcome)
    if budget is not None:
        conditions.append(budget)
    if outcome.rules is not None:
        conditions.append(decide.rules_condition(outcome.rules))
    if outcome.hpa is not None:
        conditions.append(decide.hpa_metrics_condition(plan, outcome.hpa))
    conditions.append(peak_conditions.forecast_condition(plan))
    for optional in (
        decide.burst_condition(plan),
        peak_conditions.calendars_condition(plan),
        decide.pod_undersized_condition(plan),
        peak_conditions.prescale_late_condition(plan),
    ):
        if optional is not None:
            conditions.append(optional)
    memory = plan.memory
    cards = {card.peak: card for card in memory.scorecards}
    return VoiceCapacityStatus(
        observed_generation=generation,
        vertical=plan.vertical,
        mode=plan.mode,
        sessions=SessionsStatus(
            active=_rounded(plan.sessions, 2),
            capacity=plan.capacity,
            utilization=_rounded(plan.utilization, 3),
            ceiling_sessions=plan.ceiling_sessions,
            ceiling_utilization=_rounded(plan.near_ceiling.ratio, 3),
        ),
        replicas=ReplicasStatus(
            current=plan.ready_replicas,
            floor=plan.floor,
            ceiling=plan.ceiling,
            sessions=memory.session_replicas,
            scale_up=_scale_up_status(memory.readiness),
        ),
        active_peak=plan.active_peak,
        next_peak=NextPeak(name=plan.next_peak[0], starts_at=iso(plan.next_peak[1]))
        if plan.next_peak
        else None,
        tpm=TPMStatus(
            requested=plan.tpm.requested,
            granted=plan.tpm.granted,
            projected=plan.tpm.projected,
            ceiling_sessions=plan.tpm.ceiling_sessions,
        )
        if plan.tpm.requested is not None
        else None,
        headroom=HeadroomStatus(
            level=plan.headroom_level,
            warning_since=iso_or_none(memory.headroom.warning_since),
            critical_since=iso_or_none(memory.headroom.critical_since),
            near_ceiling_since=iso_or_none(memory.headroom.near_ceiling_since),
        ),
        hpa=_hpa_status(outcome.hpa, outcome.hpa_max_replicas) if outcome.hpa is not None else None,
        admission=AdmissionStatus(
            max_sessions=plan.admission.max_sessions,
            headroom_sessions=plan.admission.headroom_sessions,
            reason=plan.admission.reason,
        )
        if plan.admission is not None
        else None,
        forecast=[
            _forecast_status(forecast, cards.get(forecast.peak)) for forecast in memory.forecasts
        ],
        burst_factor=plan.burst_factor,
        recommendations=[
            RecommendationStatus(at=iso(r.at), floor=r.floor) for r in memory.recommendations
        ],
        last_evaluated=previous.last_evaluated if previous else None,
        conditions=events.dated(conditions, previous, generation, now),
    )


def invalid_status(
    message: str,
    *,
    previous: VoiceCapacityStatus | None,
    generation: int | None,
    now: datetime,
) -> VoiceCapacityStatus:
    """Ready=False InvalidSpec; everything else stays as last decided (nothing is lost)."""
    base = previous or VoiceCapacityStatus()
    ready = Condition(type="Ready", status="False", reason="InvalidSpec", message=message)
    others = [c for c in base.conditions if c.type != "Ready"]
    return base.model_copy(
        update={
            "observed_generation": generation,
            "conditions": events.dated([ready, *others], previous, generation, now),
        }
    )


def parse_status(raw: Mapping[str, Any] | None) -> VoiceCapacityStatus | None:
    return parsed(VoiceCapacityStatus, raw)


Status = TypeVar("Status", VoiceCapacityStatus, TokenBudgetStatus)


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


def _forecast_status(forecast: PeakForecast, card: Scorecard | None) -> ForecastStatus:
    return ForecastStatus(
        peak=forecast.peak,
        sessions=forecast.sessions,
        weeks_used=forecast.weeks_used,
        profile=list(forecast.profile),
        quantile=forecast.quantile,
        window_start=iso_or_none(forecast.window_start),
        computed_at=iso_or_none(forecast.computed_at),
        reason=forecast.reason,
        last_window=_last_window(card) if card is not None else None,
        replaced_weeks=[day.isoformat() for day in forecast.replaced],
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


def _last_window(card: Scorecard) -> LastWindowStatus:
    return LastWindowStatus(
        start=iso(card.window_start),
        end=iso(card.window_end),
        forecast=card.baseline,
        source=card.baseline_source,
        actual=card.actual,
        error_ratio=card.error_ratio,
        over_capacity_minutes=card.over_capacity_minutes,
        last_over_capacity=iso_or_none(card.last_over_capacity),
        planned_floor=card.planned_floor,
        ready_at_open=card.ready_at_open,
        shortfall=card.shortfall,
    )


def _scale_up_status(readiness: Readiness) -> ScaleUpStatus | None:
    if readiness == Readiness():
        return None
    pending = readiness.pending
    return ScaleUpStatus(
        last_seconds=readiness.last_seconds,
        last_target=readiness.last_target,
        pending_since=iso(pending.started) if pending else None,
        pending_target=pending.target if pending else None,
    )


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


_CONDITION_STATUS: dict[str, Literal["True", "False"]] = {"True": "True", "False": "False"}


def _hpa_status(report: HPAReport, max_replicas: int | None) -> HPAStatus:
    return HPAStatus(
        current_replicas=report.current_replicas,
        desired_replicas=report.desired_replicas,
        max_replicas=max_replicas,
        conditions=[
            HPAConditionStatus(
                type=c.type,
                status=_CONDITION_STATUS.get(c.status, "Unknown"),
                reason=c.reason,
            )
            for kind in HPA_CONDITION_TYPES
            if (c := report.condition(kind)) is not None
        ],
    )


# ---------------------------------------------------------------- small helpers


def _rounded(value: float | None, digits: int) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    value = round(value, digits)
    return int(value) if float(value).is_integer() else value
