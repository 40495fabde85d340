"""The status blocks that double as the operator's memory across restarts, each written and read
back side by side: a field added to one of them is added here, in both directions.

    sessions         last known calls                    -> Memory.sessions
    replicas         last floor, the session pods held,  -> Memory.floor, session_replicas,
                     a scale-up waiting for Ready pods      readiness
    headroom         when each level began               -> Memory.headroom
    recommendations  the floors stabilization remembers  -> Memory.recommendations
    latency          the live guard's clocks and pods    -> Memory.latency
    calibration      what was last measured              -> Memory.calibration
    forecast         each peak's forecast and scorecard  -> Memory.forecasts, scorecards
    burstFactor                                          -> Memory.burst_factor

`memory_from_status(parse_status(dump(build_status(plan, ...))))` is `plan.memory` (a test holds
it so). Unreadable status (older or hand-edited) reads as none.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any, TypeVar

from pydantic import ValidationError

from voicecap.api.models import (
    BacktestStatus,
    CalibrationStatus,
    ForecastStatus,
    HeadroomStatus,
    LastWindowStatus,
    LatencyStatus,
    PerPodCalibrationStatus,
    ReplicasStatus,
    ScaleUpStatus,
    SessionsStatus,
    TokenBudgetStatus,
    TokensCalibrationStatus,
    VoiceCapacityStatus,
    WeekStatus,
)
from voicecap.api.models import Recommendation as RecommendationStatus
from voicecap.api.timefmt import iso, iso_or_none, parse_iso
from voicecap.core.measured.calibration import Calibration, per_pod_verdict, verdict
from voicecap.core.measured.knee import PerPodEstimate
from voicecap.core.measured.tokens import TokenEstimate
from voicecap.core.peaks.forecast import FORECAST_REASONS, Backtest, PeakForecast, WeekValue
from voicecap.core.peaks.scorecard import Scorecard
from voicecap.core.planner.headroom import HeadroomState
from voicecap.core.planner.latency import LatencyState
from voicecap.core.planner.observation import Memory
from voicecap.core.planner.plan import Plan
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
    """What the last evaluation decided, as its status says."""
    if status is None:
        return Memory()
    replicas = status.replicas or ReplicasStatus()
    return Memory(
        floor=replicas.floor,
        session_replicas=replicas.sessions,
        readiness=_read_scale_up(replicas.scale_up),
        sessions=status.sessions.active if status.sessions else None,
        headroom=_read_headroom(status.headroom or HeadroomStatus()),
        recommendations=_read_recommendations(status.recommendations),
        forecasts=tuple(_read_forecast(item) for item in status.forecast),
        burst_factor=status.burst_factor,
        latency=_read_latency(status.latency),
        calibration=_read_calibration(status.calibration),
        scorecards=tuple(
            card
            for item in status.forecast
            if item.last_window is not None
            and (card := _read_scorecard(item.peak, item.last_window)) is not None
        ),
    )


# ---------------------------------------------------------------- sessions


def sessions_block(plan: Plan) -> SessionsStatus:
    return SessionsStatus(
        active=rounded(plan.sessions, 2),
        capacity=plan.capacity,
        utilization=rounded(plan.utilization, 3),
        ceiling_sessions=plan.ceiling_sessions,
        ceiling_utilization=rounded(plan.near_ceiling.ratio, 3),
    )


# ---------------------------------------------------------------- replicas


def replicas_block(plan: Plan) -> ReplicasStatus:
    memory = plan.memory
    return ReplicasStatus(
        current=plan.ready_replicas,
        floor=plan.floor,
        ceiling=plan.ceiling,
        sessions=memory.session_replicas,
        scale_up=_scale_up_block(memory.readiness),
    )


def _scale_up_block(readiness: Readiness) -> ScaleUpStatus | None:
    if readiness == Readiness():
        return None
    pending = readiness.pending
    return ScaleUpStatus(
        last_seconds=readiness.last_seconds,
        last_target=readiness.last_target,
        recent_seconds=list(readiness.recent),
        pending_since=iso(pending.started) if pending else None,
        pending_target=pending.target if pending else None,
    )


def _read_scale_up(status: ScaleUpStatus | None) -> Readiness:
    if status is None:
        return Readiness()
    since = parse_iso(status.pending_since)
    pending = (
        ScaleUp(since, status.pending_target)
        if since is not None and status.pending_target is not None
        else None
    )
    recent = tuple(s for s in status.recent_seconds if math.isfinite(s) and s >= 0)
    return Readiness(pending, status.last_seconds, status.last_target, recent[-10:])


# ---------------------------------------------------------------- headroom


def headroom_block(plan: Plan) -> HeadroomStatus:
    state = plan.memory.headroom
    return HeadroomStatus(
        level=plan.headroom_level,
        warning_since=iso_or_none(state.warning_since),
        critical_since=iso_or_none(state.critical_since),
        near_ceiling_since=iso_or_none(state.near_ceiling_since),
    )


def _read_headroom(status: HeadroomStatus) -> HeadroomState:
    return HeadroomState(
        warning_since=parse_iso(status.warning_since),
        critical_since=parse_iso(status.critical_since),
        near_ceiling_since=parse_iso(status.near_ceiling_since),
    )


# ---------------------------------------------------------------- latency


def latency_block(plan: Plan) -> LatencyStatus | None:
    verdict = plan.pressure.latency
    if verdict.target is None:
        return None
    state = verdict.state
    return LatencyStatus(
        seconds=rounded(verdict.seconds, 3),
        target=verdict.target,
        above_since=iso_or_none(state.above_since),
        below_since=iso_or_none(state.below_since),
        guard_pods=state.guard_pods,
        guard_raised_at=iso_or_none(state.raised_at),
    )


def _read_latency(status: LatencyStatus | None) -> LatencyState:
    if status is None:
        return LatencyState()
    return LatencyState(
        above_since=parse_iso(status.above_since),
        below_since=parse_iso(status.below_since),
        guard_pods=status.guard_pods,
        raised_at=parse_iso(status.guard_raised_at),
    )


# ---------------------------------------------------------------- recommendations


def recommendations_block(plan: Plan) -> list[RecommendationStatus]:
    return [RecommendationStatus(at=iso(r.at), floor=r.floor) for r in plan.memory.recommendations]


def _read_recommendations(items: list[RecommendationStatus]) -> tuple[Recommendation, ...]:
    return tuple(
        Recommendation(at=moment, floor=r.floor)
        for r in items
        if (moment := parse_iso(r.at)) is not None
    )


# ---------------------------------------------------------------- calibration


def calibration_block(plan: Plan) -> CalibrationStatus | None:
    """Declared inputs against what was measured, where something can be measured."""
    measured = plan.inputs.calibration
    per_pod = None
    if plan.spec_latency_target is not None and measured.per_pod is not None:
        estimate = measured.per_pod
        per_pod = PerPodCalibrationStatus.model_validate(
            {
                "declared": plan.declared_per_pod,
                "measured": rounded(estimate.measured, 2),
                "method": estimate.method,
                "samples": estimate.samples,
                "from": rounded(estimate.load_from, 1),
                "to": rounded(estimate.load_to, 1),
                "reason": per_pod_verdict(plan.declared_per_pod, estimate),
                "message": estimate.why,
            }
        )
    tokens = None
    declared = plan.declared_tokens_per_session_minute
    if declared is not None and measured.tokens is not None:
        used = measured.tokens
        tokens = TokensCalibrationStatus(
            declared=declared,
            measured=rounded(used.measured, 2),
            samples=round(used.call_minutes),
            reason=verdict(declared, used.measured),
            message=used.why,
        )
    if per_pod is None and tokens is None:
        return None
    return CalibrationStatus(
        per_pod=per_pod,
        tokens_per_session_minute=tokens,
        computed_at=iso_or_none(measured.computed_at),
    )


def _read_calibration(status: CalibrationStatus | None) -> Calibration:
    if status is None:
        return Calibration()
    per_pod = status.per_pod
    tokens = status.tokens_per_session_minute
    return Calibration(
        per_pod=PerPodEstimate(
            per_pod.measured,
            per_pod.method,
            per_pod.samples,
            per_pod.from_,
            per_pod.to,
            per_pod.message,
        )
        if per_pod is not None
        else None,
        tokens=TokenEstimate(tokens.measured, float(tokens.samples), tokens.message)
        if tokens is not None
        else None,
        computed_at=parse_iso(status.computed_at),
    )


# ---------------------------------------------------------------- forecasts and scorecards


def forecast_block(plan: Plan) -> list[ForecastStatus]:
    memory = plan.memory
    cards = {card.peak: card for card in memory.scorecards}
    return [_forecast_status(forecast, cards.get(forecast.peak)) for forecast in memory.forecasts]


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
        weeks=[_week_status(week) for week in forecast.weeks],
        trend=forecast.trend,
        backtest=BacktestStatus(
            weeks=forecast.backtest.weeks,
            mean_absolute_error=forecast.backtest.mean_absolute_error,
            under_forecast_weeks=forecast.backtest.under_forecast_weeks,
        )
        if forecast.backtest is not None
        else None,
    )


def _week_status(week: WeekValue) -> WeekStatus:
    return WeekStatus(
        start=iso(week.start),
        end=iso(week.end),
        sessions=rounded(week.sessions, 1),
        offered=week.offered,
        censored=week.censored,
    )


def _read_weeks(items: list[WeekStatus]) -> Iterator[WeekValue]:
    for item in items:
        start, end = parse_iso(item.start), parse_iso(item.end)
        if start is not None and end is not None:  # status is ours, but never trust it to crash
            yield WeekValue(start, end, item.sessions, (), item.offered, item.censored)


def _read_forecast(item: ForecastStatus) -> PeakForecast:
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
        weeks=tuple(_read_weeks(item.weeks)),
        trend=item.trend,
        backtest=Backtest(
            item.backtest.weeks,
            item.backtest.mean_absolute_error,
            item.backtest.under_forecast_weeks,
        )
        if item.backtest is not None
        else None,
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


def _read_scorecard(peak: str, item: LastWindowStatus) -> Scorecard | None:
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


def rounded(value: float | None, digits: int) -> float | None:
    """A status number: rounded, an integer where it is one, none where it is not finite."""
    if value is None or not math.isfinite(value):
        return None
    value = round(value, digits)
    return int(value) if float(value).is_integer() else value
