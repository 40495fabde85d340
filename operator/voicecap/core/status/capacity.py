"""Status is the user interface: a Plan and what applying it did, as the object's status.

Pure functions of (plan, outcome, previous status, now). The status doubles as the operator's memory
across restarts (last floor, last known sessions, headroom clocks, stabilization history), so
core/status/memory.py's `memory_from_status` reads back exactly what `build_status` wrote. Nothing
here changes from one cycle to the next unless something real changed: a steady cycle must produce
the same status, because the operator writes only differences."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Literal

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
    TPMStatus,
    VoiceCapacityStatus,
)
from voicecap.api.models import Recommendation as RecommendationStatus
from voicecap.api.timefmt import iso, iso_or_none
from voicecap.core.apply.autoscaler import HPA_CONDITION_TYPES, HPAReport
from voicecap.core.apply.outcome import Outcome
from voicecap.core.peaks.forecast import PeakForecast
from voicecap.core.peaks.scorecard import Scorecard
from voicecap.core.planner.plan import Plan
from voicecap.core.planner.readiness import Readiness
from voicecap.core.status import conditions as decide
from voicecap.core.status import events, peak_conditions


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
