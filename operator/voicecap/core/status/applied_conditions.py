"""The conditions about what applying the plan did: Ready, RulesApplied, HPAMetrics (their rows
are in core/status/condition_types.py)."""

from __future__ import annotations

from typing import Literal

from voicecap.api.models import Condition
from voicecap.core.apply.outcome import Outcome
from voicecap.core.planner.plan import Plan


def ready(plan: Plan, outcome: Outcome) -> Condition:
    """Whether the plan is in place (or deliberately not: Paused)."""
    good = outcome.result in {"Reconciled", "Paused"}
    return Condition(
        type="Ready",
        status="True" if good else "False",
        reason=outcome.result,
        message=outcome.message,
    )


def rules_applied(plan: Plan, outcome: Outcome) -> Condition | None:
    """Whether the generated alert rules are in place (none: not looked at)."""
    rules = outcome.rules
    if rules is None:
        return None
    status: Literal["True", "False", "Unknown"] = (
        "Unknown" if rules.applied is None else "True" if rules.applied else "False"
    )
    return Condition(type="RulesApplied", status=status, reason=rules.reason, message=rules.message)


def hpa_metrics(plan: Plan, outcome: Outcome) -> Condition | None:
    """Whether the owned HPA reads its metric (none: no HPA yet)."""
    report = outcome.hpa
    if report is None:
        return None
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
