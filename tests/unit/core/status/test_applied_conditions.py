"""core/status/applied_conditions.py: Ready, RulesApplied and HPAMetrics from what applying the
plan found."""

from __future__ import annotations

import pytest

from support.planned import applied_capacity, evaluate
from voicecap.core.apply.autoscaler import HPACondition, HPAReport
from voicecap.core.apply.outcome import Outcome, RulesOutcome
from voicecap.core.status.applied_conditions import hpa_metrics, ready, rules_applied

PLAN = evaluate(applied_capacity(), 300)


@pytest.mark.parametrize(
    ("result", "status"),
    [
        ("Reconciled", "True"),
        ("Paused", "True"),
        ("TargetNotFound", "False"),
        ("ConflictingAutoscaler", "False"),
        ("HPANameTaken", "False"),
        ("ApplyFailed", "False"),
    ],
)
def test_ready_says_which_problem_stopped_the_plan(result: str, status: str) -> None:
    condition = ready(PLAN, Outcome(result, "what happened"))  # type: ignore[arg-type]
    assert (condition.status, condition.reason, condition.message) == (
        status,
        result,
        "what happened",
    )


def test_rules_applied_only_once_looked_at_and_unknown_while_paused() -> None:
    assert rules_applied(PLAN, Outcome("Reconciled", "")) is None
    paused = RulesOutcome(None, "Paused", "paused: ConfigMap left as it is")
    made = rules_applied(PLAN, Outcome("Paused", "", rules=paused))
    assert made is not None and (made.status, made.reason) == ("Unknown", "Paused")
    failed = RulesOutcome(False, "ApplyFailed", "ConfigMap x: 403")
    made = rules_applied(PLAN, Outcome("Reconciled", "", rules=failed))
    assert made is not None and (made.status, made.reason) == ("False", "ApplyFailed")


def report(*conditions: HPACondition) -> Outcome:
    return Outcome("Reconciled", "", hpa=HPAReport(conditions))


def test_hpa_metrics_follows_the_hpas_scaling_active() -> None:
    assert hpa_metrics(PLAN, Outcome("Reconciled", "")) is None  # no HPA yet
    silent = hpa_metrics(PLAN, report())
    assert silent is not None and (silent.status, silent.reason) == ("Unknown", "NotReported")
    reading = hpa_metrics(PLAN, report(HPACondition("ScalingActive", "True", "ValidMetricFound")))
    assert reading is not None and (reading.status, reading.reason) == ("True", "ValidMetricFound")
    blind = hpa_metrics(PLAN, report(HPACondition("ScalingActive", "False", "FailedGetPodsMetric")))
    assert blind is not None and (blind.status, blind.reason) == ("False", "FloorDrivesScaleDown")
    assert f"maxReplicas held at the floor ({PLAN.floor})" in blind.message
