"""The conditions a VoiceCapacity shows, how each is decided, and the Events their changes make.

Ready and HeadroomLow change with their reason; the others with their status. A first
evaluation reports only what needs attention. lastTransitionTime moves only on a status change.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from voicecap.api.models import (
    Condition,
    TokenBudgetStatus,
    VoiceCapacityStatus,
)
from voicecap.api.timefmt import iso, iso_or_none
from voicecap.api.types import format_duration
from voicecap.core.autoscaler import HPAReport
from voicecap.core.numbers import num
from voicecap.core.outcome import Outcome, RulesOutcome, Transition
from voicecap.core.plan import Plan

CONDITION_TYPES = (
    "Ready",
    "MetricsAvailable",
    "PeakActive",
    "HeadroomLow",
    "NearCeiling",
    "CapacityLimited",
    "BudgetGranted",
    "RulesApplied",
    "HPAMetrics",
    "ForecastReady",
    "BurstAboveFactor",
    "CalendarsReady",
    "PodUndersized",
    "PrescaleLate",
)


def condition(
    status: VoiceCapacityStatus | TokenBudgetStatus | None, kind: str
) -> Condition | None:
    for item in status.conditions if status else ():
        if item.type == kind:
            return item
    return None


def transitions(
    previous: VoiceCapacityStatus | None, current: VoiceCapacityStatus
) -> list[Transition]:
    """Events for what changed. A first evaluation reports only what needs attention."""
    events: list[Transition] = []
    for new in current.conditions:
        old = condition(previous, new.type)
        if old is not None and _same(old, new):
            continue
        event = _event_for(new, old)
        if event is not None:
            events.append(event)
    return events


def _same(old: Condition, new: Condition) -> bool:
    """Ready and HeadroomLow change with their reason (another problem, another level); the
    others with their status only (NoData -> PrometheusUnreachable is still the same outage)."""
    if new.type in {"Ready", "HeadroomLow"}:
        return (old.status, old.reason) == (new.status, new.reason)
    return old.status == new.status


# ---------------------------------------------------------------- conditions


def ready_condition(outcome: Outcome) -> Condition:
    good = outcome.result in {"Reconciled", "Paused"}
    return Condition(
        type="Ready",
        status="True" if good else "False",
        reason=outcome.result,
        message=outcome.message,
    )


def metrics_condition(plan: Plan) -> Condition:
    return Condition(
        type="MetricsAvailable",
        status="True" if plan.sessions_known else "False",
        reason="SessionsKnown" if plan.sessions_known else plan.sessions_state,
        message=plan.reasons["sessions"],
    )


def peak_condition(plan: Plan) -> Condition:
    if plan.active_peak is not None:
        return Condition(
            type="PeakActive",
            status="True",
            reason="InPeakWindow",
            message=plan.reasons.get("peakFloor", plan.active_peak),
        )
    if plan.next_peak is not None:
        message = f"next peak {plan.next_peak[0]} starts {iso(plan.next_peak[1])}"
    else:
        message = "no peaks declared"
    return Condition(type="PeakActive", status="False", reason="NoActivePeak", message=message)


def headroom_condition(plan: Plan) -> Condition:
    low = plan.headroom_level != "Normal"
    return Condition(
        type="HeadroomLow",
        status="True" if low else "False",
        reason=plan.headroom_level if low else "HeadroomOK",
        message=plan.reasons["utilization"],
    )


def capacity_limited_condition(plan: Plan) -> Condition:
    if plan.capacity_limited:
        return Condition(
            type="CapacityLimited",
            status="True",
            reason=plan.ceiling_source,
            message=f"wants {plan.wanted} replicas, ceiling {plan.ceiling}: "
            f"{plan.reasons['ceiling']}",
        )
    return Condition(
        type="CapacityLimited",
        status="False",
        reason="WithinCeiling",
        message=f"floor {plan.floor} within ceiling {plan.ceiling} ({plan.reasons['ceiling']})",
    )


def budget_condition(plan: Plan, outcome: Outcome) -> Condition | None:
    requested = plan.tpm.requested
    if requested is None:
        return None  # no spec.model: nothing reserved
    if outcome.budget == "Invalid":
        # The grant in effect stays (see core/tokens.py, GrantLedger): a broken edit of the
        # budget must not lift every vertical's TPM ceiling, nor cut calls that are running.
        return Condition(
            type="BudgetGranted",
            status="False",
            reason="BudgetInvalid",
            message="the TokenBudget is invalid (its status says why); "
            + (
                f"the grant in effect is kept: {plan.reasons['tpm']}"
                if plan.tpm.granted is not None
                else "no grant was ever in effect: no TPM ceiling until it is fixed"
            ),
        )
    if outcome.budget == "NotFound" or plan.tpm.granted is None:
        return Condition(
            type="BudgetGranted",
            status="False",
            reason="BudgetNotFound",
            message=plan.reasons.get("tpm", "the referenced TokenBudget does not exist"),
        )
    granted = plan.tpm.granted
    return Condition(
        type="BudgetGranted",
        status="True" if granted >= requested else "False",
        reason="Granted" if granted >= requested else "PartiallyGranted",
        message=plan.reasons["tpm"],
    )


def rules_condition(rules: RulesOutcome) -> Condition:
    status: Literal["True", "False", "Unknown"] = (
        "Unknown" if rules.applied is None else "True" if rules.applied else "False"
    )
    return Condition(type="RulesApplied", status=status, reason=rules.reason, message=rules.message)


def hpa_metrics_condition(plan: Plan, report: HPAReport) -> Condition:
    active = report.condition("ScalingActive")
    if active is None:
        return Condition(
            type="HPAMetrics",
            status="Unknown",
            reason="NotReported",
            message="the HPA has not reported ScalingActive yet",
        )
    # The HPA's own messages are left out: they change wording as prometheus-adapter relists
    # ("could not find the metric" / "no metrics returned"), and a copy would cost a status
    # write each time. `kubectl describe hpa` has them.
    if report.metric_unavailable:
        return Condition(
            type="HPAMetrics",
            status="False",
            reason="FloorDrivesScaleDown",
            message=f"the HPA cannot read its metric ({active.reason}; kubectl describe hpa "
            f"says why): maxReplicas held at the floor ({plan.floor}) so scale-down follows the "
            "floor; serve voice_active_sessions_per_pod (prometheus-adapter) to scale between "
            "cycles",
        )
    return Condition(
        type="HPAMetrics",
        status="True",
        reason=active.reason,
        message=f"the HPA reads its metric ({active.reason}) and scales up to the ceiling",
    )


def forecast_condition(plan: Plan) -> Condition:
    """True when every peak that needs a forecast (no expectedSessions) has a fresh one."""
    needed = {peak.name for peak in plan.peaks if peak.expected_sessions is None}
    if not plan.peaks:
        return Condition(
            type="ForecastReady", status="True", reason="NoPeaks", message="no peaks declared"
        )
    forecasts = {forecast.peak: forecast for forecast in plan.forecasts}
    parts, missing = [], []
    for peak in plan.peaks:
        forecast = forecasts.get(peak.name)
        if forecast is None or forecast.reason == "Pending":
            parts.append(f"{peak.name}: not computed yet")
            if peak.name in needed:
                missing.append("Pending")
            continue
        if forecast.reason == "Forecast":
            parts.append(
                f"{peak.name}: {num(forecast.sessions or 0)} sessions from "
                f"{forecast.weeks_used} weeks"
            )
            continue
        kept = (
            f", keeping {num(forecast.sessions)} from {iso(forecast.computed_at)}"
            if forecast.usable and forecast.sessions is not None and forecast.computed_at
            else ""
        )
        detail = (
            f"{forecast.weeks_used} weeks with data"
            if forecast.reason == "InsufficientHistory"
            else "history query failed"
        )
        parts.append(f"{peak.name}: {forecast.reason} ({detail}{kept})")
        if peak.name in needed:
            missing.append(forecast.reason)
    if not missing:
        return Condition(
            type="ForecastReady", status="True", reason="Forecast", message="; ".join(parts)
        )
    # Pending is not a problem yet (the first refresh is one cycle away): Unknown, no Event.
    status: Literal["False", "Unknown"] = (
        "Unknown" if all(reason == "Pending" for reason in missing) else "False"
    )
    reason = (
        next(reason for reason in missing if reason != "Pending")
        if status == "False"
        else ("Pending")
    )
    fallback = "; peaks without one use current sessions" if status == "False" else ""
    return Condition(
        type="ForecastReady", status=status, reason=reason, message="; ".join(parts) + fallback
    )


def burst_condition(plan: Plan) -> Condition | None:
    """Did a peak's last window carry more than factor x the calls it planned for? Like with
    like: the factor is the headroom over the forecast, so this is the burst it must cover."""
    factors = {peak.name: peak.factor for peak in plan.peaks}
    judged = [
        (card, card.actual / card.baseline)
        for card in plan.scorecards
        if card.peak in factors
        and card.actual is not None
        and card.baseline is not None
        and card.baseline > 0
    ]
    if not judged:
        return None
    short = [(card, ratio) for card, ratio in judged if ratio > factors[card.peak]]
    if short:
        return Condition(
            type="BurstAboveFactor",
            status="True",
            reason="BurstAboveFactor",
            message="; ".join(
                f"{card.peak}: the window of {iso(card.window_start)} peaked at "
                f"{num(round(card.actual or 0, 2))} calls, {ratio:.2f}x the "
                f"{num(round(card.baseline or 0, 2))} planned for (factor "
                f"{num(factors[card.peak])})"
                for card, ratio in short
            )
            + ": the pre-scale was short",
        )
    return Condition(
        type="BurstAboveFactor",
        status="False",
        reason="WithinFactor",
        message="; ".join(
            f"{card.peak}: {ratio:.2f}x the forecast, within factor {num(factors[card.peak])}"
            for card, ratio in judged
        ),
    )


def calendars_condition(plan: Plan) -> Condition | None:
    """Whether the holiday calendars the peaks name were read (only when some peak names one)."""
    calendars = plan.calendars
    if calendars.days is None:
        return None
    if calendars.problems:
        return Condition(
            type="CalendarsReady",
            status="False",
            reason=calendars.reason,
            message="; ".join(calendars.problems),
        )
    return Condition(
        type="CalendarsReady",
        status="True",
        reason="Resolved",
        message=", ".join(f"{name}: {days} days" for name, days in calendars.days.items()),
    )


def prescale_late_condition(plan: Plan) -> Condition | None:
    """Were the pods the pre-scale planned for Ready when each peak's latest window opened?"""
    leads = {peak.name: peak.lead_time for peak in plan.peaks}
    judged = [c for c in plan.scorecards if c.peak in leads and c.shortfall is not None]
    if not judged:
        return None
    readiness = plan.memory.readiness
    took = (
        f"; the last scale-up took {format_duration(timedelta(seconds=readiness.last_seconds))} "
        f"to Ready pods"
        if readiness.last_seconds is not None
        else ""
    )
    late = [card for card in judged if card.shortfall]
    if late:
        return Condition(
            type="PrescaleLate",
            status="True",
            reason="ReadyPodsShort",
            message="; ".join(
                f"{card.peak}: {card.ready_at_open} of {card.planned_floor} pods Ready when the "
                f"window opened at {iso(card.window_start)} (leadTime "
                f"{format_duration(leads[card.peak])})"
                for card in late
            )
            + took
            + ": raise leadTime (voicecap forecast suggests one)",
        )
    return Condition(
        type="PrescaleLate",
        status="False",
        reason="ReadyOnTime",
        message="; ".join(
            f"{card.peak}: {card.ready_at_open} of {card.planned_floor} pods Ready when the "
            f"window opened at {iso(card.window_start)}"
            for card in judged
        )
        + took,
    )


def pod_undersized_condition(plan: Plan) -> Condition | None:
    """sessionCost x perPod against the target's container requests (when both are known)."""
    fit = plan.pod_fit
    if fit is None:
        return None
    return Condition(
        type="PodUndersized",
        status="True" if fit.undersized else "False",
        reason=fit.reason,
        message=fit.message,
    )


def near_ceiling_condition(plan: Plan) -> Condition:
    """The field's planning signal: calls / what the ceiling carries, sustained."""
    verdict = plan.near_ceiling
    threshold = verdict.threshold
    carried = f"{plan.ceiling_sessions} calls ({plan.ceiling_source})"
    if verdict.ratio is None:
        return Condition(
            type="NearCeiling",
            status="Unknown",
            reason="SessionsUnknown",
            message=f"the ceiling carries {carried}; calls are unknown",
        )
    used = f"{num(round(plan.sessions or 0, 2))} calls are {verdict.ratio:.0%} of the {carried}"
    if verdict.near:
        return Condition(
            type="NearCeiling",
            status="True",
            reason="NearCeiling",
            message=f"{used}, at or above {threshold:.0%} since {iso_or_none(verdict.since)}: "
            "raise replicas.max or the TPM reservation before the next burst",
        )
    return Condition(
        type="NearCeiling",
        status="False",
        reason="BelowPlanningLevel",
        message=f"{used} (planning level {threshold:.0%})",
    )


def dated(
    conditions: Sequence[Condition],
    previous: VoiceCapacityStatus | TokenBudgetStatus | None,
    generation: int | None,
    now: datetime,
) -> list[Condition]:
    """lastTransitionTime moves only when a condition's status changes."""
    dated = []
    for item in conditions:
        old = condition(previous, item.type)
        since = (
            old.last_transition_time
            if old is not None and old.status == item.status and old.last_transition_time
            else iso(now)
        )
        dated.append(
            item.model_copy(
                update={"last_transition_time": since, "observed_generation": generation}
            )
        )
    return dated


# ---------------------------------------------------------------- events

_PROBLEMS: dict[str, tuple[str, str]] = {
    # condition type -> (reason of the Event when it turns bad, when it recovers)
    "MetricsAvailable": ("MetricsLost", "MetricsRestored"),
    "CapacityLimited": ("CapacityLimited", "CapacityRestored"),
    "BudgetGranted": ("BudgetShort", "BudgetGranted"),
    "RulesApplied": ("RulesNotApplied", "RulesApplied"),
    "HPAMetrics": ("HPAMetricUnavailable", "HPAMetricAvailable"),
    "ForecastReady": ("ForecastUnavailable", "ForecastReady"),
    "BurstAboveFactor": ("BurstAboveFactor", "BurstWithinFactor"),
    "CalendarsReady": ("CalendarUnavailable", "CalendarReady"),
    "PodUndersized": ("PodUndersized", "PodSized"),
    "PrescaleLate": ("PrescaleLate", "PrescaleOnTime"),
}


_BAD_WHEN_TRUE = frozenset({"CapacityLimited", "BurstAboveFactor", "PodUndersized", "PrescaleLate"})


def _event_for(new: Condition, old: Condition | None) -> Transition | None:
    if new.type == "PeakActive":
        if new.status == "True":
            return Transition("Normal", "PeakEntered", new.message)
        return Transition("Normal", "PeakLeft", new.message) if old is not None else None
    if new.type == "HeadroomLow":
        if new.status == "True":
            return Transition("Warning", f"Headroom{new.reason}", new.message)
        return Transition("Normal", "HeadroomRecovered", new.message) if old else None
    if new.type == "NearCeiling":  # a planning signal: only its own True and back count
        if new.status == "True":
            return Transition("Warning", "NearCeiling", new.message)
        recovered = old is not None and old.status == "True"
        return Transition("Normal", "CeilingHeadroomRestored", new.message) if recovered else None
    if new.type == "Ready":
        if new.status == "False":
            return Transition("Warning", new.reason, new.message)
        return Transition("Normal", new.reason, new.message) if old is not None else None
    if new.status == "Unknown":
        return None  # not attempted (paused): nothing happened worth an Event
    bad_when = "True" if new.type in _BAD_WHEN_TRUE else "False"
    lost, back = _PROBLEMS[new.type]
    if new.status == bad_when:
        return Transition("Warning", lost, new.message)
    return Transition("Normal", back, new.message) if old is not None else None
