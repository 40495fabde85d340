"""Plans for many verticals at once: TokenBudget grants first, then each vertical's plan."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import datetime

from voicecap.api.models import TokenBudget, VoiceCapacity
from voicecap.core.budgets.tokens import Allocation, TokenRequest, allocate
from voicecap.core.planner.observation import Memory, Observation
from voicecap.core.planner.plan import Plan, plan


def token_requests(capacities: Iterable[VoiceCapacity], budget: str) -> list[TokenRequest]:
    """The reservations that VoiceCapacities make against one budget."""
    return [
        TokenRequest(
            namespace=capacity.namespace,
            name=capacity.metadata.name,
            requested=capacity.spec.model.reserved_tpm,
            priority=capacity.spec.model.priority,
            created=capacity.metadata.creation_timestamp,
        )
        for capacity in capacities
        if capacity.spec.model is not None and capacity.spec.model.budget_ref == budget
    ]


def allocate_budgets(
    capacities: list[VoiceCapacity], budgets: Iterable[TokenBudget]
) -> dict[str, Allocation]:
    """Budget name -> its allocation among the VoiceCapacities that reference it."""
    return {
        budget.metadata.name: allocate(
            budget.spec.tokens_per_minute,
            budget.spec.overcommit,
            token_requests(capacities, budget.metadata.name),
        )
        for budget in budgets
    }


def granted_tpm(capacity: VoiceCapacity, allocations: Mapping[str, Allocation]) -> int | None:
    """The grant a VoiceCapacity holds; None when it reserves nothing or its budget is unknown."""
    if capacity.spec.model is None:
        return None
    allocation = allocations.get(capacity.spec.model.budget_ref)
    if allocation is None:
        return None
    grant = allocation.grant_for(capacity.namespace, capacity.metadata.name)
    return grant.granted if grant is not None else None


def plan_fleet(
    capacities: list[VoiceCapacity],
    budgets: Iterable[TokenBudget],
    observations: Mapping[str, Observation],
    now: datetime,
    memories: Mapping[str, Memory] | None = None,
) -> list[Plan]:
    """One plan per VoiceCapacity; observations and memories are keyed by namespace/name."""
    allocations = allocate_budgets(capacities, budgets)
    plans = []
    for capacity in capacities:
        observation = observations.get(capacity.key, Observation())
        observation = dataclasses.replace(
            observation, granted_tpm=granted_tpm(capacity, allocations)
        )
        plans.append(plan(capacity, observation, now, (memories or {}).get(capacity.key)))
    return plans
