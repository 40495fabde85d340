"""The conditions a VoiceCapacity shows about its capacity, and how each is decided (the peaks'
history and calendar ones are in core/status/peak_conditions.py; how they change over time and the
Events they make, in core/status/events.py)."""

from typing import Literal

from voicecap.api.models import (
    Condition,
)
from voicecap.api.timefmt import iso, iso_or_none
from voicecap.core.apply.autoscaler import HPAReport
from voicecap.core.apply.outcome import Outcome, RulesOutcome
from voicecap.core.numbers import num
from voicecap.core.planner.plan import Plan


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
        # The grant in effect stays (see core/budgets/tokens.py, GrantLedger): a broken edit of the
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
