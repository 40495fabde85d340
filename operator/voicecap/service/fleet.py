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
from collections.abc import Callable, Sequence

from voicecap.adapters.metrics import OperatorMetrics
from voicecap.adapters.objects import CapacityEntry
from voicecap.api.models import VoiceCapacity
from voicecap.core.planner.plan import Plan
from voicecap.service.admission import AdmissionPublisher
from voicecap.service.budget_reporter import BudgetReporter
from voicecap.service.busy_pods import BusyPodRanker
from voicecap.service.calendars import CalendarCache
from voicecap.service.calibration import CalibrationCache
from voicecap.service.history import HistoryCache
from voicecap.service.peering import PeeringGate
from voicecap.service.ports import Forgetting
from voicecap.service.reconciler import Reconciler, RetryLaterError
from voicecap.service.retries import RetryBook
from voicecap.service.sessions import SessionCache, session_source
from voicecap.service.token_book import TokenBook
from voicecap.service.world import World

log = logging.getLogger("voicecap")


class Fleet:
    """Every VoiceCapacity, once per --interval: the shared inputs refreshed once for everyone,
    then one reconcile each, then what follows from all the plans (budget statuses, admission
    ConfigMaps, busy pods). Not for one object on its own: a watch event calls the Reconciler."""

    def __init__(
        self,
        *,
        world: World,
        book: TokenBook,
        sessions: SessionCache,
        history: HistoryCache,
        calibration: CalibrationCache,
        calendars: CalendarCache,
        reconciler: Reconciler,
        retries: RetryBook,
        budgets: BudgetReporter,
        admission: AdmissionPublisher,
        busy_pods: BusyPodRanker,
        forgetting: Sequence[Forgetting],
        metrics: OperatorMetrics,
        api_answered: Callable[[], int],
        concurrency: int = 16,
    ) -> None:
        self._world = world
        self._book = book
        self._sessions = sessions
        self._history = history
        self._calibration = calibration
        self._calendars = calendars
        self._reconciler = reconciler
        self._retries = retries
        self._budgets = budgets
        self._admission = admission
        self._busy_pods = busy_pods
        self._forgetting = tuple(forgetting)  # every cache keyed by VoiceCapacity
        self._metrics = metrics
        self._api_answered = api_answered
        self._concurrency = concurrency

    async def cycle(self) -> int:
        """Evaluate every VoiceCapacity once; returns how many were evaluated."""
        entries = self._world.capacities()
        keys = {entry.key for entry in entries}
        for cache in self._forgetting:  # deleted objects leave nothing behind
            cache.forget_except(keys)
        valid = [entry.capacity for entry in entries if entry.capacity is not None]
        budgets = self._world.budgets()
        self._book.refresh(valid, budgets)
        self._metrics.objects.labels("true").set(len(valid))
        self._metrics.objects.labels("false").set(len(entries) - len(valid))
        await self._sessions.refresh([session_source(capacity) for capacity in valid])
        # in the background: hourly, and slower than a cycle; peaks with their holidays
        self._history.start_refresh([(await self._calendars.resolve(c)).capacity for c in valid])
        self._calibration.start_refresh(valid)  # in the background too, hourly
        planned = await self.reconcile_all(entries)
        await self._budgets.report(budgets, planned)
        await self._admission.publish(planned)
        await self._busy_pods.rank(planned)
        return len(entries)

    async def reconcile_all(self, entries: list[CapacityEntry]) -> list[tuple[VoiceCapacity, Plan]]:
        """Reconcile every entry due (objects waiting after API trouble are skipped until due,
        with one probe when none is); returns each valid object's plan, as planned."""
        planned: list[tuple[VoiceCapacity, Plan]] = []
        probe = self._retries.probe()
        if probe is not None:  # nobody is due: is the API back? (one request, not thousands)
            await self._one(next(e for e in entries if e.key == probe), planned)
        self._retries.recovered(self._api_answered())
        now = time.monotonic()
        queue = [e for e in entries if e.key != probe and self._retries.due(e.key, now)]
        queue.reverse()  # pop() from the end: in index order

        async def worker() -> None:
            while queue:
                await self._one(queue.pop(), planned)
                # A steady reconcile never waits on I/O: yield anyway, so watch events (a spec
                # change, an HPA update) are read between objects, not after the whole fleet.
                await asyncio.sleep(0)

        await asyncio.gather(*(worker() for _ in range(self._concurrency)))
        return planned

    async def _one(self, entry: CapacityEntry, planned: list[tuple[VoiceCapacity, Plan]]) -> None:
        with contextlib.suppress(RetryLaterError):  # it waits in the RetryBook
            decided = await self._reconciler.reconcile(entry, trigger="cycle", reread=True)
            newest = self._world.latest(entry.key)
            if decided is not None and newest is not None and newest.capacity is not None:
                planned.append((newest.capacity, decided))


async def run_cycles(
    fleet: Fleet,
    gate: PeeringGate,
    *,
    metrics: OperatorMetrics,
    caches_fresh: Callable[[], bool],
    interval: float,
    ready: asyncio.Event,
    stop: asyncio.Event,
) -> None:
    """The periodic re-evaluation of every object (docs/reliability.md F7): survives any
    error, stops on `stop`. Writes only as the peering's writer (F6) and only from watch caches
    that missed nothing (`caches_fresh`: F23)."""
    metrics.interval.set(interval)
    while not ready.is_set() and not stop.is_set():
        metrics.heartbeat.set(time.time())  # alive while the caches fill
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
        metrics.heartbeat.set(time.time())  # wall time: Prometheus compares it with time()
        remaining = max(0.0, interval - (time.monotonic() - started))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=remaining)
