"""Admit, queue or reject a call against the vertical's limits, atomically within this process.

Pools (docs/api.md "Admission tiers"): a call of tier T first takes a slot of T's reserved pool,
then a general slot; a call without a tier (or of a tier without a pool) takes only general
slots. General slots = maxSessions - every pool, so low-priority traffic can never take what is
kept for VIP or emergency callers, and the calls in all pools never exceed maxSessions.

Every decision holds one lock for a few dictionary operations: two calls in one instant cannot
both take the last slot (the race LiveKit's load window has, livekit/agents#4884). A lowered limit
admits nothing until enough calls have ended; it never ends a call.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from voicecap_kit.limits import VerticalLimits

Reason = Literal["Admitted", "Full", "TenantCap", "NoLimits", "Closed", "QueueTimeout"]


@dataclass(frozen=True)
class Decision:
    """What happened to one call: a ticket to release when it ends, or why not."""

    admitted: bool
    reason: Reason
    ticket: Ticket | None = None
    waited: float = 0.0  # seconds queued
    final: bool = True  # False: another worker may still take the call (not counted refused)

    @property
    def sip_status(self) -> int | None:
        """The SIP answer a gateway gives a refused call: 486 Busy Here when the vertical is
        full, 503 Service Unavailable when it cannot decide (no limits, draining)."""
        if self.admitted:
            return None
        return 486 if self.reason in ("Full", "QueueTimeout", "TenantCap") else 503


@dataclass(eq=False)
class Ticket:
    """One admitted call: `release()` when it ends (twice is harmless)."""

    number: int
    tier: str | None
    in_pool: bool  # took a slot of its tier's reserved pool
    tenant: str | None
    started: float
    _admission: Admission = field(repr=False)
    released: bool = False

    def release(self) -> None:
        self._admission._release(self)


Observer = Callable[["Admission", Decision | None, Ticket | None], None]


class Admission:
    """The live calls of this process and the rule that admits more."""

    def __init__(
        self,
        limits: Callable[[], VerticalLimits | None],
        *,
        clock: Callable[[], float] = time.monotonic,
        observer: Observer | None = None,
    ) -> None:
        self._limits = limits  # e.g. LimitsFile.current, or a worker's share of it
        self._clock = clock
        self._observer = observer  # metrics: called after each decision and release
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)
        self._general = 0  # calls in general slots
        self._pooled: dict[str, int] = {}  # tier -> calls in its reserved pool
        self._by_tenant: dict[str, int] = {}  # tenant -> its live calls
        self._closed = False
        self._waiters: list[asyncio.Future[None]] = []

    @property
    def live(self) -> int:
        """Calls admitted and not yet released."""
        return self._general + sum(self._pooled.values())

    def limits(self) -> VerticalLimits | None:
        """The limits decisions are made against now."""
        return self._limits()

    def clock(self) -> float:
        """The admission's clock (monotonic seconds), which tickets' `started` is on."""
        return self._clock()

    def close(self) -> None:
        """Admit nothing more (a draining worker); live calls go on until they end."""
        self._closed = True

    def try_admit(
        self, tier: str | None = None, *, tenant: str | None = None, final: bool = True
    ) -> Decision:
        """Admit now or refuse now; never waits. A tenant with a cap (limits.json tenants) holds
        at most that many calls. `final=False`: a refusal another worker may still overturn
        (LiveKit offers the job to the next worker)."""
        limits = self._limits()
        with self._lock:
            decision = self._decide(limits, tier, tenant)
        if not final and not decision.admitted:
            decision = Decision(False, decision.reason, final=False)
        if self._observer is not None:
            self._observer(self, decision, None)
        return decision

    async def admit(
        self, tier: str | None = None, *, tenant: str | None = None, wait: float = 5.0
    ) -> Decision:
        """With overflow Queue, wait up to `wait` seconds for a call to end (first come,
        first served), then refuse; with Reject, the same as try_admit."""
        started = self._clock()
        decision = self.try_admit(tier, tenant=tenant)
        limits = self._limits()
        if decision.admitted or decision.reason != "Full" or limits is None:
            return decision
        if limits.overflow != "Queue" or wait <= 0:
            return decision
        deadline = started + wait
        loop = asyncio.get_running_loop()
        while (left := deadline - self._clock()) > 0:
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(asyncio.shield(waiter), timeout=left)
            except TimeoutError:
                pass
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
            decision = self.try_admit(tier, tenant=tenant)
            if decision.admitted or decision.reason != "Full":
                return Decision(decision.admitted, decision.reason, decision.ticket,
                                self._clock() - started)  # fmt: skip
        refused = Decision(False, "QueueTimeout", None, self._clock() - started)
        if self._observer is not None:
            self._observer(self, refused, None)
        return refused

    def _decide(
        self, limits: VerticalLimits | None, tier: str | None, tenant: str | None
    ) -> Decision:
        if self._closed:
            return Decision(False, "Closed")
        if limits is None:
            return Decision(False, "NoLimits")
        if self.live >= limits.max_sessions:
            return Decision(False, "Full")
        cap = limits.tenants.get(tenant) if tenant is not None else None
        if tenant is not None and cap is not None and self._by_tenant.get(tenant, 0) >= cap:
            return Decision(False, "TenantCap")
        pool = limits.reserve.get(tier, 0) if tier is not None else 0
        if tier is not None and self._pooled.get(tier, 0) < pool:
            self._pooled[tier] = self._pooled.get(tier, 0) + 1
            return Decision(True, "Admitted", self._ticket(tier, tenant, in_pool=True))
        if self._general < limits.general:
            self._general += 1
            return Decision(True, "Admitted", self._ticket(tier, tenant, in_pool=False))
        return Decision(False, "Full")

    def _ticket(self, tier: str | None, tenant: str | None, *, in_pool: bool) -> Ticket:
        if tenant is not None:
            self._by_tenant[tenant] = self._by_tenant.get(tenant, 0) + 1
        return Ticket(next(self._numbers), tier, in_pool, tenant, self._clock(), self)

    def _release(self, ticket: Ticket) -> None:
        with self._lock:
            if ticket.released:
                return
            ticket.released = True
            if ticket.in_pool and ticket.tier is not None:
                self._pooled[ticket.tier] -= 1
            else:
                self._general -= 1
            if ticket.tenant is not None:
                self._by_tenant[ticket.tenant] -= 1
            waiters, self._waiters = self._waiters, []
        for waiter in waiters:  # the queue retries in order; losers wait again
            if not waiter.done():
                waiter.get_loop().call_soon_threadsafe(_wake, waiter)
        if self._observer is not None:
            self._observer(self, None, ticket)


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
