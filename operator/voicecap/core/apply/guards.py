"""Whether a plan may be applied at all: the guards checked before the operator writes an HPA.

Pure: the caller says what the watch caches show (the target's ready pods, the HPA of that name
and whether this VoiceCapacity owns it, other autoscalers of the same target). The first guard
that holds names why nothing is written; `None` means go ahead.
"""

from __future__ import annotations

from dataclasses import dataclass

from voicecap.api.models import VoiceCapacity
from voicecap.core.apply.outcome import BudgetState, Outcome
from voicecap.core.planner.plan import Plan

HPA_KIND = "HorizontalPodAutoscaler"


@dataclass(frozen=True)
class Surroundings:
    """What the watch caches show around one VoiceCapacity."""

    target_found: bool  # the target workload exists
    hpa_name: str
    hpa_owned: bool | None  # None: no HPA of that name; False: someone else's
    autoscalers: tuple[tuple[str, str], ...] = ()  # (kind, name) of every autoscaler of the target
    budget: BudgetState = "Found"


def guard(capacity: VoiceCapacity, plan: Plan, around: Surroundings) -> Outcome | None:
    """Paused, then a missing target, then a taken HPA name, then another autoscaler."""
    target = capacity.spec.target_ref
    planned = f"floor {plan.floor}, ceiling {plan.ceiling}"
    if capacity.spec.paused:
        return Outcome(
            "Paused", f"paused: planned {planned}; children left as they are", around.budget
        )
    if not around.target_found:
        return Outcome(
            "TargetNotFound",
            f"{target.kind} {capacity.namespace}/{target.name} not found; planned {planned}",
            around.budget,
        )
    if around.hpa_owned is False:
        return Outcome(
            "HPANameTaken",
            f"{HPA_KIND} {around.hpa_name} exists and is not owned by this VoiceCapacity",
            around.budget,
        )
    others = sorted(
        f"{kind} {name}"
        for kind, name in around.autoscalers
        if (kind, name) != (HPA_KIND, around.hpa_name)
    )
    if others:
        return Outcome(
            "ConflictingAutoscaler",
            f"{', '.join(others)} already scales {target.kind} {target.name}; "
            "remove it or this VoiceCapacity (no second HPA is created)",
            around.budget,
        )
    return None
