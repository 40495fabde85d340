"""The conditions about calls, capacity and tokens: MetricsAvailable, HeadroomLow, NearCeiling,
CapacityLimited, BudgetGranted, PodUndersized (their rows are in core/status/condition_types.py)."""

from __future__ import annotations

from voicecap.api.models import Condition
from voicecap.api.timefmt import iso_or_none
from voicecap.core.apply.outcome import Outcome
from voicecap.core.numbers import num
from voicecap.core.planner.plan import Plan


def metrics_available(plan: Plan, outcome: Outcome) -> Condition:
    """Whether live calls are known (finite, fresh), or why not."""
    return Condition(
        type="MetricsAvailable",
        status="True" if plan.sessions_known else "False",
        reason="SessionsKnown" if plan.sessions_known else plan.sessions_state,
        message=plan.judged.reason or plan.sessions_state,
    )


def headroom_low(plan: Plan, outcome: Outcome) -> Condition:
    """The sustained headroom level of the ready pods."""
    low = plan.headroom_level != "Normal"
    return Condition(
        type="HeadroomLow",
        status="True" if low else "False",
        reason=plan.headroom_level if low else "HeadroomOK",
        message=plan.report.utilization.reason or "",
    )


def near_ceiling(plan: Plan, outcome: Outcome) -> Condition:
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


def capacity_limited(plan: Plan, outcome: Outcome) -> Condition:
    """Whether the ceiling cuts the floor the plan wants."""
    why = plan.bounds.ceiling.reason
    if plan.capacity_limited:
        return Condition(
            type="CapacityLimited",
            status="True",
            reason=plan.ceiling_source,
            message=f"wants {plan.wanted} replicas, ceiling {plan.ceiling}: {why}",
        )
    return Condition(
        type="CapacityLimited",
        status="False",
        reason="WithinCeiling",
        message=f"floor {plan.floor} within ceiling {plan.ceiling} ({why})",
    )


def budget_granted(plan: Plan, outcome: Outcome) -> Condition | None:
    """Whether the TokenBudget grants the reservation (none: spec.model reserves nothing)."""
    requested = plan.tpm.requested
    if requested is None:
        return None
    why = plan.bounds.tpm.reason
    if outcome.budget == "Invalid":
        # The grant in effect stays (see core/budgets/tokens.py, GrantLedger): a broken edit of
        # the budget must not lift every vertical's TPM ceiling, nor cut calls that are running.
        return Condition(
            type="BudgetGranted",
            status="False",
            reason="BudgetInvalid",
            message="the TokenBudget is invalid (its status says why); "
            + (
                f"the grant in effect is kept: {why}"
                if plan.tpm.granted is not None
                else "no grant was ever in effect: no TPM ceiling until it is fixed"
            ),
        )
    if outcome.budget == "NotFound" or plan.tpm.granted is None:
        return Condition(
            type="BudgetGranted",
            status="False",
            reason="BudgetNotFound",
            message=why or "the referenced TokenBudget does not exist",
        )
    granted = plan.tpm.granted
    return Condition(
        type="BudgetGranted",
        status="True" if granted >= requested else "False",
        reason="Granted" if granted >= requested else "PartiallyGranted",
        message=why or "",
    )


def pod_undersized(plan: Plan, outcome: Outcome) -> Condition | None:
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


def tenant_caps_ready(plan: Plan, outcome: Outcome) -> Condition | None:
    """Whether admission.tenantCaps' ConfigMap was read, and which of its lines were skipped."""
    name = plan.tenant_caps_map
    if name is None:
        return None
    where = f"spec.admission.tenantCaps.configMapRef.name: ConfigMap {plan.namespace}/{name}"
    caps = plan.tenant_caps
    if caps is None or not caps.found:
        reason = "TenantCapsUnread" if caps is None else "TenantCapsNotFound"
        state = "could not be read" if caps is None else "not found"
        return Condition(
            type="TenantCapsReady",
            status="False",
            reason=reason,
            message=f"{where} {state}; the gateway gets no tenant caps",
        )
    if caps.problems:
        return Condition(
            type="TenantCapsReady",
            status="False",
            reason="TenantCapsInvalid",
            message=f"{where}: {len(caps.problems)} lines skipped, {len(caps.caps)} tenants "
            f"apply: " + "; ".join(caps.problems[:10]),
        )
    return Condition(
        type="TenantCapsReady",
        status="True",
        reason="TenantCapsLoaded",
        message=f"{len(caps.caps)} tenants, caps summing to {caps.total} calls",
    )
