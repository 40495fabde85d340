"""What applying a plan found and did (Outcome), and a change worth an Event (Transition)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from voicecap.core.apply.autoscaler import HPAReport

# Why Ready is False (or True) after applying a plan.
ApplyResult = Literal[
    "Reconciled",
    "Paused",
    "TargetNotFound",
    "ConflictingAutoscaler",
    "HPANameTaken",
    "ApplyFailed",
]
# What spec.model.budgetRef names: a valid TokenBudget, none, or one whose spec is invalid.
BudgetState = Literal["Found", "NotFound", "Invalid"]


@dataclass(frozen=True)
class Outcome:
    """What the operator found and did when it applied a plan."""

    result: ApplyResult
    message: str
    budget: BudgetState = "Found"
    rules: RulesOutcome | None = None  # None: rules were not looked at (invalid spec)
    hpa: HPAReport | None = None  # what the owned HPA reported, when it exists
    hpa_max_replicas: int | None = None  # the maxReplicas written (see core/apply/autoscaler.py)


@dataclass(frozen=True)
class RulesOutcome:
    """Whether the generated alert rules are in place: True, False, or None (not attempted)."""

    applied: bool | None
    reason: str  # PrometheusRule | ConfigMap | ApplyFailed | Paused
    message: str


@dataclass(frozen=True)
class Transition:
    """A change worth a Kubernetes Event."""

    type: Literal["Normal", "Warning"]
    reason: str
    message: str
