"""One reconcile of one VoiceCapacity: observe -> plan -> guard -> apply -> status -> Events.

Level-triggered: create, update, resume and the fleet cycle all call `Reconciler.reconcile`,
which reads everything it needs (the typed object, its HPA and target from the watch caches,
the cycle's session snapshot, the clock) and writes only the difference. A reconcile that
changes nothing makes no API call at all.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Set
from dataclasses import replace
from datetime import datetime
from typing import Any

from voicecap.adapters.kube import TransientError
from voicecap.adapters.metrics import OperatorMetrics
from voicecap.adapters.objects import CapacityEntry
from voicecap.api.models import dump
from voicecap.core.apply.outcome import Outcome
from voicecap.core.planner.plan import Plan, plan
from voicecap.core.status.capacity import build_status, invalid_status
from voicecap.core.status.events import condition, transitions
from voicecap.core.status.memory import memory_from_status, parse_status
from voicecap.service.applier import ChildApplier
from voicecap.service.clock import Clock
from voicecap.service.observer import Observer
from voicecap.service.retries import RetryBook
from voicecap.service.token_book import TokenBook
from voicecap.service.world import World
from voicecap.service.writer import ChildWriter

log = logging.getLogger("voicecap")


class RetryLaterError(Exception):
    """The reconcile could not finish; the fleet cycle tries again after `delay` seconds."""

    def __init__(self, message: str, delay: float) -> None:
        super().__init__(message)
        self.delay = delay


class Reconciler:
    """Reconciles one VoiceCapacity at a time (a watch event, or the fleet cycle's turn): the
    only writer of its status and Events. Not for evaluating many objects at once: the fleet
    cycle refreshes the shared inputs (sessions, forecasts, grants) and then calls this per
    object."""

    def __init__(
        self,
        *,
        world: World,
        observer: Observer,
        applier: ChildApplier,
        writer: ChildWriter,
        book: TokenBook,
        retries: RetryBook,
        metrics: OperatorMetrics,
        clock: Clock,
        api_answered: Callable[[], int],
        concurrency: int = 16,
    ) -> None:
        self._world = world
        self._observer = observer
        self._applier = applier
        self._writer = writer
        self._book = book
        self._retries = retries
        self._metrics = metrics
        self._clock = clock
        self._api_answered = api_answered  # calls the API server answered: is it back?
        # Reconciles in flight at once, handlers and the fleet cycle together: no more than the
        # API client's connection pool, so a burst (thousands of new objects) waits here, not
        # inside a request whose timeout is already running.
        self._gate = asyncio.Semaphore(concurrency)
        self._locks: dict[str, asyncio.Lock] = {}
        # What the last reconcile of each object saw: (resourceVersion, plan, outcome). The same
        # three again build the same status, which the object already has: nothing to build.
        self._settled: dict[str, tuple[str, Plan, Outcome]] = {}
        # Read your own writes: the status written from resourceVersion X, until the watch cache
        # shows something newer than X (a cycle faster than the watch would write it, and post
        # its Events, a second time).
        self._written: dict[str, tuple[str, dict[str, Any]]] = {}

    async def reconcile(
        self, entry: CapacityEntry, *, trigger: str, reread: bool = False
    ) -> Plan | None:
        """Reconcile one object; returns its plan (None: invalid, or deleted meanwhile). Raises
        RetryLaterError after API trouble (it waits in the RetryBook). `reread`: take the watch
        cache's newest copy once the lock is held (the fleet cycle's list is older than a
        handler's write; reconciling from it would write the same again)."""
        lock = self._locks.setdefault(entry.key, asyncio.Lock())
        async with self._gate, lock:
            started = time.perf_counter()
            if reread:
                newest = self._world.latest(entry.key)
                if newest is None:
                    return None  # deleted since the cycle listed it
                entry = newest
            try:
                result = await self._reconcile(entry)
            except TransientError as error:
                self._metrics.reconcile_errors.labels("KubeTransient").inc()
                delay = self._retries.failed(
                    entry.key, error.retry_after, answered=self._api_answered()
                )
                log.warning(
                    "%s: Kubernetes API trouble, retrying in %.0fs: %s", entry.key, delay, error
                )
                raise RetryLaterError(str(error), delay) from error
            finally:
                self._metrics.reconcile_duration.labels(trigger).observe(
                    time.perf_counter() - started
                )
        self._retries.succeeded(entry.key)
        return result

    def forget_except(self, keys: Set[str]) -> None:
        """Forgets deleted objects (service/ports.Forgetting)."""
        for key in set(self._locks) - keys:
            if not self._locks[key].locked():
                del self._locks[key]
        memories: tuple[dict[str, Any], ...] = (self._settled, self._written)
        for memory in memories:
            for key in set(memory) - keys:
                del memory[key]

    def _own_write(self, entry: CapacityEntry) -> CapacityEntry:
        written = self._written.get(entry.key)
        if written is None or written[0] != (entry.meta.resource_version or ""):
            self._written.pop(entry.key, None)
            return entry
        status = parse_status(written[1])
        return replace(
            entry,
            stored_status=written[1],
            memory=memory_from_status(status),
            observed_generation=status.observed_generation if status else None,
        )

    async def _reconcile(self, entry: CapacityEntry) -> Plan | None:
        entry = self._own_write(entry)
        now = self._clock.now()
        if entry.capacity is None:
            await self._report_invalid(entry, entry.invalid or "invalid")
            return None
        seen = await self._observer.observe(entry.capacity)
        capacity, observation = seen.capacity, seen.observation
        decided = plan(capacity, observation, now, entry.memory)
        outcome, applied = await self._applier.apply(capacity, decided, seen.hpa, seen.report)
        outcome = replace(outcome, rules=await self._applier.apply_rules(capacity))
        settled = (entry.meta.resource_version or "", decided, outcome)
        if applied or self._settled.get(entry.key) != settled or not settled[0]:
            previous = entry.status()
            status = build_status(
                decided, outcome, previous=previous, generation=entry.generation, now=now
            )
            await self._write_status(entry, dump(status), now)
            changes = transitions(previous, status)
            await self._writer.events(entry.meta, [*applied, *changes], now)
            self._settled[entry.key] = settled
        if outcome.result == "Reconciled":
            self._book.settle(capacity, observation.granted_tpm)
        self._metrics.plans.observe(capacity.key, decided, now.timestamp())
        return decided

    async def _write_status(
        self, entry: CapacityEntry, wanted: dict[str, Any], now: datetime
    ) -> None:
        written = await self._writer.capacity_status(entry.meta, entry.stored_status, wanted, now)
        if written is not None:
            self._written[entry.key] = (entry.meta.resource_version or "", written)

    async def _report_invalid(self, entry: CapacityEntry, why: str) -> None:
        """Ready=False InvalidSpec; everything else stays as last decided (nothing is lost)."""
        now = self._clock.now()
        previous = entry.status()
        ready = condition(previous, "Ready")
        already = (
            ready is not None
            and ready.reason == "InvalidSpec"
            and ready.observed_generation == entry.generation
        )
        if not already:  # a counter of objects turning invalid, not of cycles that saw one
            self._metrics.reconcile_errors.labels("InvalidSpec").inc()
        status = invalid_status(why, previous=previous, generation=entry.generation, now=now)
        await self._write_status(entry, dump(status), now)
        await self._writer.events(entry.meta, transitions(previous, status), now)
