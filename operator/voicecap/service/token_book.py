"""The token-budget book: who should hold what (allocations), who holds what now (the ledger),
and what each TokenBudget's status says. Every change of a grant happens here.

- `refresh` allocates every TokenBudget among the valid VoiceCapacities (level-based);
- `take` is the grant one reconcile may put in effect: the allocation's, as far as the others'
  grants in effect leave room; held before anything is written, so grants in effect never add up
  to more than a pool, even mid-reorder;
- `settle` releases a decrease once the HPA carries it;
- after a restart the ledger is seeded from what each status last reported.
A VoiceCapacity whose budget exists but is invalid keeps the grant in effect (see docs/api.md,
"TokenBudget"): a broken budget edit neither lifts every ceiling nor cuts running calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from datetime import datetime

from voicecap.adapters.objects import BudgetEntry, CapacityEntry
from voicecap.api.models import TokenBudgetStatus, VoiceCapacity
from voicecap.core.apply.outcome import BudgetState
from voicecap.core.budgets.fleet import allocate_budgets, granted_tpm
from voicecap.core.budgets.tokens import Allocation, GrantLedger
from voicecap.core.status.budget import budget_status, invalid_budget_status


class TokenBook:
    """Every TokenBudget grant: who should hold what, who holds what now, and what each budget's
    status says. Not for a VoiceCapacity's ceiling: the plan turns the grant it is given into
    one (core/planner/ceilings.py)."""

    def __init__(self) -> None:
        self._allocations: dict[str, Allocation] = {}
        self._invalid: dict[str, str] = {}  # budget name -> why
        self._ledger = GrantLedger()
        self._seeded = False

    def refresh(self, capacities: list[VoiceCapacity], budgets: list[BudgetEntry]) -> None:
        """Grants from every valid VoiceCapacity against every valid TokenBudget."""
        self._invalid = {b.name: b.invalid for b in budgets if b.invalid is not None}
        valid = [b.budget for b in budgets if b.budget is not None]
        self._allocations = allocate_budgets(capacities, valid)

    def is_stale(self, capacity: VoiceCapacity) -> bool:
        """A reservation that changed since the last allocation (new, moved, resized)."""
        model = capacity.spec.model
        if model is None or model.budget_ref in self._invalid:
            return False
        allocation = self._allocations.get(model.budget_ref)
        if allocation is None:
            return True
        grant = allocation.grant_for(capacity.namespace, capacity.metadata.name)
        return grant is None or (grant.request.requested, grant.request.priority) != (
            model.reserved_tpm,
            model.priority,
        )

    def state(self, capacity: VoiceCapacity) -> BudgetState:
        """Whether this VoiceCapacity's budget exists and is valid."""
        model = capacity.spec.model
        if model is None or model.budget_ref in self._allocations:
            return "Found"
        return "Invalid" if model.budget_ref in self._invalid else "NotFound"

    def take(self, capacity: VoiceCapacity, seed: Callable[[], list[CapacityEntry]]) -> int | None:
        """The TPM grant this reconcile may put in effect (None: no TPM ceiling). `seed` lists
        every VoiceCapacity, read once after a restart."""
        if not self._seeded:
            self._seed(seed())
        key, model = capacity.key, capacity.spec.model
        if model is None:
            return None
        if model.budget_ref in self._invalid:
            if not self._ledger.holds(key, model.budget_ref):
                return None
            return self._ledger.holding(key, model.budget_ref)
        target = granted_tpm(capacity, self._allocations)
        if target is None:
            return None
        pool = self._allocations[model.budget_ref].pool
        granted = self._ledger.effective(key, model.budget_ref, target, pool)
        holding = self._ledger.holding(key, model.budget_ref)
        self._ledger.hold(key, model.budget_ref, max(granted, holding))  # increases: before
        return granted

    def settle(self, capacity: VoiceCapacity, granted: int | None) -> None:
        """The HPA now carries `granted`: decreases are released only now."""
        if capacity.spec.model is None or granted is None:
            self._ledger.release(capacity.key)
        else:
            self._ledger.hold(capacity.key, capacity.spec.model.budget_ref, granted)

    def statuses(
        self, budgets: list[BudgetEntry], projected: Mapping[str, int], now: datetime
    ) -> list[tuple[BudgetEntry, TokenBudgetStatus]]:
        """Each TokenBudget's status: its reservations in grant order and the verticals'
        projected use (`projected`: by budget name; absent: none known), or why it is invalid."""
        result = []
        for entry in budgets:
            allocation = self._allocations.get(entry.name)
            if allocation is not None and entry.budget is not None:
                status = budget_status(
                    allocation,
                    overcommit=entry.budget.spec.overcommit,
                    projected=projected.get(entry.name),
                    previous=entry.status,
                    generation=entry.generation,
                    now=now,
                )
            elif entry.invalid is not None:
                status = invalid_budget_status(
                    entry.invalid, previous=entry.status, generation=entry.generation, now=now
                )
            else:
                continue  # created since the allocation: the next cycle writes it
            result.append((entry, status))
        return result

    def forget_except(self, keys: Set[str]) -> None:
        """Deleted VoiceCapacities release their grants: their HPAs are gone with them."""
        if self._seeded:
            for key in self._ledger.keys() - keys:
                self._ledger.release(key)

    def _seed(self, entries: list[CapacityEntry]) -> None:
        """After a restart, the grants in effect are the ones each status last reported."""
        for entry in entries:
            if entry.reported_grant is not None:
                self._ledger.hold(entry.key, *entry.reported_grant)
        self._seeded = True
