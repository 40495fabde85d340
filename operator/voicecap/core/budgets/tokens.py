"""Deterministic, level-based TokenBudget allocation.

Reservations are granted in a total order (priority high first, then creationTimestamp, then
namespace/name), each getting min(requested, what is left) of the pool
floor(tokensPerMinute x (1 + overcommit)). The same inputs always give the same grants, so
concurrent creates and restarts converge; the sum of grants never exceeds the pool.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

from voicecap.core.sizing import exact

_UNKNOWN_CREATION = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class TokenRequest:
    namespace: str
    name: str
    requested: int
    priority: int = 0
    created: datetime | None = None

    @property
    def order(self) -> tuple[int, datetime, str, str]:
        return (-self.priority, self.created or _UNKNOWN_CREATION, self.namespace, self.name)


@dataclass(frozen=True)
class Grant:
    request: TokenRequest
    granted: int

    @property
    def short(self) -> bool:
        return self.granted < self.request.requested


@dataclass(frozen=True)
class Allocation:
    tokens_per_minute: int
    pool: int
    grants: tuple[Grant, ...]

    @property
    def requested(self) -> int:
        return sum(grant.request.requested for grant in self.grants)

    @property
    def granted(self) -> int:
        return sum(grant.granted for grant in self.grants)

    @property
    def available(self) -> int:
        return self.pool - self.granted

    @property
    def overcommitted(self) -> bool:
        """Grants add up to more than the provider's cap (allowed up to the pool)."""
        return self.granted > self.tokens_per_minute

    @cached_property
    def _by_object(self) -> dict[tuple[str, str], Grant]:
        return {(grant.request.namespace, grant.request.name): grant for grant in self.grants}

    def grant_for(self, namespace: str, name: str) -> Grant | None:
        return self._by_object.get((namespace, name))


def pool_size(tokens_per_minute: int, overcommit: float) -> int:
    return math.floor(tokens_per_minute * (1 + exact(overcommit)))


def allocate(tokens_per_minute: int, overcommit: float, requests: list[TokenRequest]) -> Allocation:
    pool = pool_size(tokens_per_minute, overcommit)
    left = pool
    grants = []
    for request in sorted(requests, key=lambda r: r.order):
        granted = min(request.requested, left)
        left -= granted
        grants.append(Grant(request, granted))
    return Allocation(tokens_per_minute=tokens_per_minute, pool=pool, grants=tuple(grants))


class GrantLedger:
    """The grants in effect (written to each VoiceCapacity's HPA ceiling), per budget.

    An allocation says who should hold what; the ledger says who holds what now. A VoiceCapacity
    takes at most what the pool has left after everyone else's grant in effect, so the grants in
    effect never add up to more than the pool, even while a reorder (a new high-priority
    reservation, a shrunken budget) is under way: decreases apply at once, and an increase waits
    for the holders to release, one reconcile later.
    """

    def __init__(self) -> None:
        self._held: dict[str, tuple[str, int]] = {}  # object key -> (budget, granted)
        self._totals: dict[str, int] = {}

    def effective(self, key: str, budget: str, target: int, pool: int) -> int:
        """What `key` may hold of `budget` now, given its target grant."""
        total = self._totals.get(budget, 0)
        mine = self.holding(key, budget)
        return max(0, min(target, pool - (total - mine)))

    def holding(self, key: str, budget: str) -> int:
        held = self._held.get(key)
        return held[1] if held is not None and held[0] == budget else 0

    def holds(self, key: str, budget: str) -> bool:
        held = self._held.get(key)
        return held is not None and held[0] == budget

    def hold(self, key: str, budget: str, granted: int) -> None:
        self.release(key)
        self._held[key] = (budget, granted)
        self._totals[budget] = self._totals.get(budget, 0) + granted

    def release(self, key: str) -> None:
        held = self._held.pop(key, None)
        if held is not None:
            self._totals[held[0]] -= held[1]

    def keys(self) -> set[str]:
        return set(self._held)

    def total(self, budget: str) -> int:
        return self._totals.get(budget, 0)
