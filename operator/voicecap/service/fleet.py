"""The fleet cycle: every VoiceCapacity re-evaluated every --interval, as one loop.

Not a timer per object: one batched Prometheus query per cycle, TokenBudget grants computed once
for everyone, bounded concurrency, and memory that follows the object count. Objects waiting
after API trouble are skipped until due (service/retries.py), with one probe per cycle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from voicecap.adapters.objects import BudgetEntry, CapacityEntry
from voicecap.api.models import VoiceCapacity, dump
from voicecap.core.planner.plan import Plan
from voicecap.service.admission import AdmissionPublisher
from voicecap.service.parts import Parts
from voicecap.service.peering import PeeringGate
from voicecap.service.reconciler import Reconciler, RetryLaterError
from voicecap.service.sessions import session_source

log = logging.getLogger("voicecap")


@dataclass
class Fleet:
    parts: Parts
    reconciler: Reconciler
    admission: AdmissionPublisher
    concurrency: int = 16
    # this cycle's plans, for the admission ConfigMaps (written once per cycle, not per object)
    _planned: list[tuple[VoiceCapacity, Plan]] = field(default_factory=list, init=False)

    async def cycle(self) -> int:
        """Evaluate every VoiceCapacity once; returns how many were evaluated."""
        r = self.parts
        self._planned = []
        entries = r.world.capacities()
        self._forget_except({entry.key for entry in entries})
        valid = [entry.capacity for entry in entries if entry.capacity is not None]
        budgets = r.world.budgets()
        r.book.refresh(valid, budgets)
        r.metrics.objects.labels("true").set(len(valid))
        r.metrics.objects.labels("false").set(len(entries) - len(valid))
        await r.sessions.refresh([session_source(capacity) for capacity in valid])
        r.calendars.forget_except(  # calendars nobody names any more
            {
                (c.namespace, p.calendar_ref.name)
                for c in valid
                for p in c.spec.peaks
                if p.calendar_ref
            }
        )
        # in the background: hourly, and slower than a cycle; peaks with their holidays
        r.history.start_refresh([(await r.calendars.resolve(c)).capacity for c in valid])

        probe = r.retries.probe()
        if probe is not None:  # nobody is due: is the API back? (one request, not thousands)
            await self._one(next(e for e in entries if e.key == probe))
        r.retries.recovered(r.kube.answered)
        now = time.monotonic()
        queue = [e for e in entries if e.key != probe and r.retries.due(e.key, now)]
        queue.reverse()  # pop() from the end: in index order

        async def worker() -> None:
            while queue:
                await self._one(queue.pop())
                # A steady reconcile never waits on I/O: yield anyway, so watch events (a spec
                # change, an HPA update) are read between objects, not after the whole fleet.
                await asyncio.sleep(0)

        await asyncio.gather(*(worker() for _ in range(self.concurrency)))
        await self._report_budgets(budgets)
        await self.admission.publish(self._planned)
        await self.parts.busy_pods.rank(self._planned)
        return len(entries)

    async def _report_budgets(self, budgets: list[BudgetEntry]) -> None:
        """Each TokenBudget's status and metrics, with this cycle's projected use: the sum of
        its verticals' live calls x tokens per call-minute."""
        r = self.parts
        projected: dict[str, int] = {}
        for capacity, plan in self._planned:
            model = capacity.spec.model
            if model is not None and plan.tpm.projected is not None:
                projected[model.budget_ref] = (
                    projected.get(model.budget_ref, 0) + plan.tpm.projected
                )
        for budget, status in r.book.statuses(budgets, projected, r.clock.now()):
            await r.writer.budget_status(budget.name, budget.stored_status, dump(status))
            spec = budget.budget.spec if budget.budget is not None else None
            r.metrics.budgets.observe(budget.name, spec.tokens_per_minute if spec else None, status)
        r.metrics.budgets.forget_except({budget.name for budget in budgets})

    async def _one(self, entry: CapacityEntry) -> None:
        with contextlib.suppress(RetryLaterError):  # it waits in the RetryBook
            decided = await self.reconciler.reconcile(entry, trigger="cycle", reread=True)
            newest = self.parts.world.latest(entry.key)
            if decided is not None and newest is not None and newest.capacity is not None:
                self._planned.append((newest.capacity, decided))

    def _forget_except(self, keys: set[str]) -> None:
        r = self.parts
        self.reconciler.forget_except(keys)
        r.writer.forget_except(keys)
        r.retries.forget_except(keys)
        r.book.forget_except(keys)
        r.history.forget_except(keys)
        for key in r.metrics.plans.known_keys() - keys:
            r.metrics.plans.forget(key)  # session observations are replaced wholesale each cycle


async def run_cycles(
    fleet: Fleet,
    gate: PeeringGate,
    *,
    caches_fresh: Callable[[], bool],
    interval: float,
    ready: asyncio.Event,
    stop: asyncio.Event,
) -> None:
    """The periodic re-evaluation of every object (docs/reliability.md F7): survives any
    error, stops on `stop`. Writes only as the peering's writer (F6) and only from watch caches
    that missed nothing (`caches_fresh`: F23)."""
    metrics = fleet.parts.metrics
    while not ready.is_set() and not stop.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(ready.wait(), timeout=interval)
    while not stop.is_set():
        started = time.monotonic()
        try:
            writer = await gate.may_write()
            metrics.writer.set(1 if writer else 0)
            if not writer:
                metrics.cycles_skipped.labels("Peer").inc()
                log.debug("cycle skipped: a peer with a higher priority is active")
            elif not caches_fresh():
                metrics.cycles_skipped.labels("StaleCache").inc()
                log.info("cycle skipped: watch caches are re-listing")
            else:
                count = await fleet.cycle()
                metrics.cycle_duration.observe(time.monotonic() - started)
                log.debug("cycle: %d VoiceCapacities in %.3fs", count, time.monotonic() - started)
        except Exception:
            metrics.reconcile_errors.labels("CycleFailed").inc()
            log.exception("cycle failed; the next one starts on schedule")
        remaining = max(0.0, interval - (time.monotonic() - started))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=remaining)
