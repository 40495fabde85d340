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
from dataclasses import dataclass, field, replace
from typing import Any

from voicecap.adapters import children
from voicecap.adapters.kube import TransientError
from voicecap.adapters.objects import CapacityEntry
from voicecap.api.models import dump
from voicecap.core.apply.outcome import Outcome
from voicecap.core.planner.plan import Plan, plan
from voicecap.core.status.capacity import build_status, invalid_status
from voicecap.core.status.events import condition, transitions
from voicecap.core.status.memory import memory_from_status, parse_status
from voicecap.service.applier import ChildApplier
from voicecap.service.parts import Parts
from voicecap.service.sessions import session_source

log = logging.getLogger("voicecap")


class RetryLaterError(Exception):
    """The reconcile could not finish; the fleet cycle tries again after `delay` seconds."""

    def __init__(self, message: str, delay: float) -> None:
        super().__init__(message)
        self.delay = delay


@dataclass
class Reconciler:
    parts: Parts
    applier: ChildApplier
    # Reconciles in flight at once, handlers and the fleet cycle together: no more than the API
    # client's connection pool, so a burst (thousands of new objects) waits here, not inside a
    # request whose timeout is already running.
    concurrency: int = 16
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _gate: asyncio.Semaphore = field(init=False)
    # What the last reconcile of each object saw: (resourceVersion, plan, outcome). The same
    # three again build the same status, which the object already has: nothing to build.
    _settled: dict[str, tuple[str, Plan, Outcome]] = field(default_factory=dict)
    # Read your own writes: the status written from resourceVersion X, until the watch cache
    # shows something newer than X (a cycle faster than the watch would write it, and post its
    # Events, a second time).
    _written: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._gate = asyncio.Semaphore(self.concurrency)

    async def reconcile(
        self, entry: CapacityEntry, *, trigger: str, reread: bool = False
    ) -> Plan | None:
        """`reread`: take the watch cache's newest copy once the lock is held (the fleet cycle's
        list is older than a handler's write; reconciling from it would write the same again)."""
        lock = self._locks.setdefault(entry.key, asyncio.Lock())
        async with self._gate, lock:
            started = time.perf_counter()
            if reread:
                newest = self.parts.world.latest(entry.key)
                if newest is None:
                    return None  # deleted since the cycle listed it
                entry = newest
            try:
                result = await self._reconcile(entry)
            except TransientError as error:
                self.parts.metrics.reconcile_errors.labels("KubeTransient").inc()
                delay = self.parts.retries.failed(
                    entry.key, error.retry_after, answered=self.parts.kube.answered
                )
                log.warning(
                    "%s: Kubernetes API trouble, retrying in %.0fs: %s", entry.key, delay, error
                )
                raise RetryLaterError(str(error), delay) from error
            finally:
                self.parts.metrics.reconcile_duration.labels(trigger).observe(
                    time.perf_counter() - started
                )
        self.parts.retries.succeeded(entry.key)
        return result

    def forget_except(self, keys: set[str]) -> None:
        for key in set(self._locks) - keys:
            if not self._locks[key].locked():
                del self._locks[key]
        self.applier.forget_except(keys)
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
        now = self.parts.clock.now()
        capacity = entry.capacity
        if capacity is None:
            await self._report_invalid(entry, entry.invalid or "invalid")
            return None
        if self.parts.book.is_stale(capacity):
            valid = [e.capacity for e in self.parts.world.capacities() if e.capacity is not None]
            self.parts.book.refresh(valid, self.parts.world.budgets())
        resolved = await self.parts.calendars.resolve(capacity)  # holidays merged into the peaks
        capacity = resolved.capacity
        target = capacity.spec.target_ref
        live = self.parts.world.hpa(capacity.namespace, children.hpa_name(capacity))
        report = self.applier.settled_report(entry.key, live)
        observation = replace(
            await self.parts.sessions.observation(session_source(capacity)),
            hpa_scaling=report.scaling_on_metric if report is not None else None,
            ready_replicas=self.parts.world.ready_replicas(
                capacity.namespace, target.kind, target.name
            ),
            granted_tpm=self.parts.book.take(capacity, seed=self.parts.world.capacities),
            history=self.parts.history.view(capacity),
            calendars=resolved.report,
            pod_requests=self.parts.world.pod_requests(
                capacity.namespace, target.kind, target.name
            ),
        )
        decided = plan(capacity, observation, now, entry.memory)
        outcome, applied = await self.applier.apply(capacity, decided, live, report)
        outcome = replace(outcome, rules=await self.applier.apply_rules(capacity))
        seen = (entry.meta.resource_version or "", decided, outcome)
        if applied or self._settled.get(entry.key) != seen or not seen[0]:
            previous = entry.status()
            status = build_status(
                decided, outcome, previous=previous, generation=entry.generation, now=now
            )
            wanted = dump(status)
            if await self.parts.writer.capacity_status(
                entry.meta, entry.stored_status, wanted, now
            ):
                self._written[entry.key] = (entry.meta.resource_version or "", wanted)
            changes = transitions(previous, status)
            await self.parts.writer.events(entry.meta, [*applied, *changes], now)
            self._settled[entry.key] = seen
        if outcome.result == "Reconciled":
            self.parts.book.settle(capacity, observation.granted_tpm)
        self.parts.metrics.plans.observe(capacity.key, decided, now.timestamp())
        return decided

    async def _report_invalid(self, entry: CapacityEntry, why: str) -> None:
        """Ready=False InvalidSpec; everything else stays as last decided (nothing is lost)."""
        now = self.parts.clock.now()
        previous = entry.status()
        ready = condition(previous, "Ready")
        already = (
            ready is not None
            and ready.reason == "InvalidSpec"
            and ready.observed_generation == entry.generation
        )
        if not already:  # a counter of objects turning invalid, not of cycles that saw one
            self.parts.metrics.reconcile_errors.labels("InvalidSpec").inc()
        status = invalid_status(why, previous=previous, generation=entry.generation, now=now)
        wanted = dump(status)
        if await self.parts.writer.capacity_status(entry.meta, entry.stored_status, wanted, now):
            self._written[entry.key] = (entry.meta.resource_version or "", wanted)
        await self.parts.writer.events(entry.meta, transitions(previous, status), now)
