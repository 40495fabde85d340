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
from datetime import UTC, datetime, timedelta
from typing import Any

from voicecap.adapters import children
from voicecap.adapters.kube import KubeApi, NotFoundError, RejectedError, TransientError
from voicecap.adapters.metrics import OperatorMetrics
from voicecap.adapters.objects import CapacityEntry, LiveChild
from voicecap.api.models import VoiceCapacity, dump
from voicecap.core.autoscaler import HPAReport, max_replicas, settled
from voicecap.core.conditions import condition, transitions
from voicecap.core.guards import Surroundings, guard
from voicecap.core.outcome import Outcome, RulesOutcome, Transition
from voicecap.core.plan import Plan, plan
from voicecap.core.status import build_status, invalid_status, memory_from_status, parse_status
from voicecap.service.busy_pods import BusyPodRanker
from voicecap.service.calendars import CalendarCache
from voicecap.service.clock import Clock
from voicecap.service.history import HistoryCache
from voicecap.service.retries import RetryBook
from voicecap.service.sessions import SessionCache, session_source
from voicecap.service.token_book import TokenBook
from voicecap.service.world import World
from voicecap.service.writer import ChildWriter

log = logging.getLogger("voicecap")


class RetryLaterError(Exception):
    """The reconcile could not finish; the fleet cycle tries again after `delay` seconds."""

    def __init__(self, message: str, delay: float) -> None:
        super().__init__(message)
        self.delay = delay


@dataclass
class Reconciler:
    kube: KubeApi
    world: World
    sessions: SessionCache
    metrics: OperatorMetrics
    clock: Clock
    writer: ChildWriter
    history: HistoryCache
    book: TokenBook = field(default_factory=TokenBook)
    retries: RetryBook = field(default_factory=RetryBook)
    # Reconciles in flight at once, handlers and the fleet cycle together: no more than the API
    # client's connection pool, so a burst (thousands of new objects) waits here, not inside a
    # request whose timeout is already running.
    concurrency: int = 16
    # How old a metric loss the HPA reports must be before it counts (core/autoscaler.settled).
    hpa_metric_grace: timedelta = timedelta(seconds=45)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _gate: asyncio.Semaphore = field(init=False)
    # Busy pods last: ranks a workload's pods before its floor is written lower.
    busy_pods: BusyPodRanker = field(init=False)
    # Holiday calendars (peaks[].calendarRef), read on demand and kept a minute.
    calendars: CalendarCache = field(init=False)
    # What the last reconcile of each object saw: (resourceVersion, plan, outcome). The same
    # three again build the same status, which the object already has: nothing to build.
    _settled: dict[str, tuple[str, Plan, Outcome]] = field(default_factory=dict)
    # Read your own writes: the status written from resourceVersion X, until the watch cache
    # shows something newer than X (a cycle faster than the watch would write it, and post its
    # Events, a second time).
    _written: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    # The HPA report each object's last reconcile acted on (a metric blip keeps its conditions).
    _acted: dict[str, HPAReport] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._gate = asyncio.Semaphore(self.concurrency)
        self.calendars = CalendarCache(self.kube)
        self.busy_pods = BusyPodRanker(
            self.kube, self.world, self.sessions, self.writer, self.clock
        )

    async def reconcile(
        self, entry: CapacityEntry, *, trigger: str, reread: bool = False
    ) -> Plan | None:
        """`reread`: take the watch cache's newest copy once the lock is held (the fleet cycle's
        list is older than a handler's write; reconciling from it would write the same again)."""
        lock = self._locks.setdefault(entry.key, asyncio.Lock())
        async with self._gate, lock:
            started = time.perf_counter()
            if reread:
                newest = self.world.latest(entry.key)
                if newest is None:
                    return None  # deleted since the cycle listed it
                entry = newest
            try:
                result = await self._reconcile(entry)
            except TransientError as error:
                self.metrics.reconcile_errors.labels("KubeTransient").inc()
                delay = self.retries.failed(
                    entry.key, error.retry_after, answered=self.kube.answered
                )
                log.warning(
                    "%s: Kubernetes API trouble, retrying in %.0fs: %s", entry.key, delay, error
                )
                raise RetryLaterError(str(error), delay) from error
            finally:
                self.metrics.reconcile_duration.labels(trigger).observe(
                    time.perf_counter() - started
                )
        self.retries.succeeded(entry.key)
        return result

    def forget_except(self, keys: set[str]) -> None:
        for key in set(self._locks) - keys:
            if not self._locks[key].locked():
                del self._locks[key]
        memories: tuple[dict[str, Any], ...] = (self._settled, self._written, self._acted)
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
        now = self.clock.now()
        capacity = entry.capacity
        if capacity is None:
            await self._report_invalid(entry, entry.invalid or "invalid")
            return None
        if self.book.is_stale(capacity):
            valid = [e.capacity for e in self.world.capacities() if e.capacity is not None]
            self.book.refresh(valid, self.world.budgets())
        resolved = await self.calendars.resolve(capacity)  # holidays merged into the peaks
        capacity = resolved.capacity
        target = capacity.spec.target_ref
        live = self.world.hpa(capacity.namespace, children.hpa_name(capacity))
        report = self._settled_report(entry.key, live)
        observation = replace(
            await self.sessions.observation(session_source(capacity)),
            hpa_scaling=report.scaling_on_metric if report is not None else None,
            ready_replicas=self.world.ready_replicas(capacity.namespace, target.kind, target.name),
            granted_tpm=self.book.take(capacity, seed=self.world.capacities),
            history=self.history.view(capacity),
            calendars=resolved.report,
            pod_requests=self.world.pod_requests(capacity.namespace, target.kind, target.name),
        )
        decided = plan(capacity, observation, now, entry.memory)
        outcome, applied = await self._apply(capacity, decided, live, report)
        outcome = replace(outcome, rules=await self._apply_rules(capacity))
        seen = (entry.meta.resource_version or "", decided, outcome)
        if applied or self._settled.get(entry.key) != seen or not seen[0]:
            previous = entry.status()
            status = build_status(
                decided, outcome, previous=previous, generation=entry.generation, now=now
            )
            wanted = dump(status)
            if await self.writer.capacity_status(entry.meta, entry.stored_status, wanted, now):
                self._written[entry.key] = (entry.meta.resource_version or "", wanted)
            changes = transitions(previous, status)
            await self.writer.events(entry.meta, [*applied, *changes], now)
            self._settled[entry.key] = seen
        if outcome.result == "Reconciled":
            self.book.settle(capacity, observation.granted_tpm)
        self.metrics.observe_plan(capacity.key, decided, now.timestamp())
        return decided

    async def _report_invalid(self, entry: CapacityEntry, why: str) -> None:
        """Ready=False InvalidSpec; everything else stays as last decided (nothing is lost)."""
        now = self.clock.now()
        previous = entry.status()
        ready = condition(previous, "Ready")
        already = (
            ready is not None
            and ready.reason == "InvalidSpec"
            and ready.observed_generation == entry.generation
        )
        if not already:  # a counter of objects turning invalid, not of cycles that saw one
            self.metrics.reconcile_errors.labels("InvalidSpec").inc()
        status = invalid_status(why, previous=previous, generation=entry.generation, now=now)
        wanted = dump(status)
        if await self.writer.capacity_status(entry.meta, entry.stored_status, wanted, now):
            self._written[entry.key] = (entry.meta.resource_version or "", wanted)
        await self.writer.events(entry.meta, transitions(previous, status), now)

    def _settled_report(self, key: str, live: LiveChild | None) -> HPAReport | None:
        """The owned HPA's report to act on, a metric blip left out (core/autoscaler.settled).
        The HPA stamps its conditions in real time, whatever the operator's Clock says."""
        report = settled(
            live.hpa if live is not None else None,
            self._acted.get(key),
            now=datetime.now(UTC),
            grace=self.hpa_metric_grace,
        )
        if report is None:
            self._acted.pop(key, None)
        else:
            self._acted[key] = report
        return report

    async def _apply(
        self,
        capacity: VoiceCapacity,
        decided: Plan,
        live: LiveChild | None,
        report: HPAReport | None,
    ) -> tuple[Outcome, list[Transition]]:
        """`live`: the owned HPA as the watch cache has it (read once per reconcile); `report`:
        its report as acted on."""
        name = children.hpa_name(capacity)
        target = capacity.spec.target_ref
        around = Surroundings(
            target_found=decided.ready_replicas is not None,
            hpa_name=name,
            hpa_owned=None if live is None else live.owned_by(capacity),
            autoscalers=tuple(self.world.autoscalers(capacity.namespace, target.kind, target.name)),
            budget=self.book.state(capacity),
        )
        stopped = guard(capacity, decided, around)
        if stopped is not None:
            return stopped, []
        ceiling = max_replicas(decided.floor, decided.ceiling, report)
        desired = children.render_hpa(capacity, decided, ceiling)
        await self.busy_pods.before_lowering(capacity, decided.floor, live)
        try:
            created = await self.writer.hpa(capacity, desired, live)
        except (RejectedError, NotFoundError) as error:
            self.metrics.reconcile_errors.labels("ApplyFailed").inc()
            return Outcome(
                "ApplyFailed", f"HorizontalPodAutoscaler {name}: {error}", around.budget
            ), []
        spec = desired["spec"]
        events = (
            [
                Transition(
                    "Normal",
                    "HPACreated",
                    f"HorizontalPodAutoscaler {name}: minReplicas {decided.floor}, "
                    f"maxReplicas {decided.ceiling}",
                )
            ]
            if created
            else []
        )
        return Outcome(
            "Reconciled",
            f"HorizontalPodAutoscaler {name}: minReplicas {spec['minReplicas']}, "
            f"maxReplicas {spec['maxReplicas']}",
            around.budget,
            hpa=report,
            hpa_max_replicas=ceiling,
        ), events

    async def _apply_rules(self, capacity: VoiceCapacity) -> RulesOutcome:
        """The alert rules: a PrometheusRule where prometheus-operator is installed, else a
        ConfigMap with the rule file (and the other form, once replaced, is removed)."""
        kind = self.world.rules_kind()
        name = children.rules_name(capacity, kind)
        if capacity.spec.paused:
            return RulesOutcome(None, "Paused", f"paused: {kind} {name} left as it is")
        live = self.world.rules(capacity.namespace, kind, name)
        if live is not None and not live.owned_by(capacity):
            return RulesOutcome(
                False, "NameTaken", f"{kind} {name} exists and is not owned by this VoiceCapacity"
            )
        other: children.RulesKind = "ConfigMap" if kind == "PrometheusRule" else "PrometheusRule"
        other_name = children.rules_name(capacity, other)
        replaced = self.world.rules(capacity.namespace, other, other_name)
        try:
            summary = await self.writer.rules(capacity, kind, live)
            if replaced is not None and replaced.owned_by(capacity):
                await self.writer.remove_rules(capacity.namespace, other, other_name)
        except (RejectedError, NotFoundError) as error:
            self.metrics.reconcile_errors.labels("RulesFailed").inc()
            return RulesOutcome(False, "ApplyFailed", f"{kind} {name}: {error}")
        return RulesOutcome(True, kind, f"{kind} {name}: {summary}")
