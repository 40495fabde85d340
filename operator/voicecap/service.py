"""One reconcile: observe -> plan -> apply -> status, for one VoiceCapacity or the whole fleet.

Level-triggered: create, update, resume and the periodic cycle all call `Reconciler.reconcile`,
which reads everything it needs (the object, its HPA and target from the watch caches, session
metrics from the cycle's batched snapshot, the clock) and writes only the difference. A
reconcile that changes nothing makes no API call at all.

The periodic cycle is one loop for the whole fleet, not a timer per object: one batched
Prometheus query per cycle, bounded concurrency, and memory that follows the object count.
No Kopf here: the handlers translate; the watch caches come in through the `World` protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pydantic import ValidationError

from voicecap.adapters import children
from voicecap.adapters.kube import (
    ConflictError,
    KubeApi,
    KubeError,
    NotFoundError,
    Ref,
    RejectedError,
    TransientError,
)
from voicecap.adapters.manifests import validation_problems
from voicecap.adapters.metrics import OperatorMetrics
from voicecap.adapters.prometheus import PrometheusSessions, SessionSource
from voicecap.api.models import ObjectMeta, TokenBudget, VoiceCapacity, dump
from voicecap.core.autoscaler import max_replicas
from voicecap.core.fleet import allocate_budgets, granted_tpm
from voicecap.core.plan import Observation, Plan, plan
from voicecap.core.rules import rule_group
from voicecap.core.status import (
    Outcome,
    RulesOutcome,
    Transition,
    budget_status,
    build_status,
    invalid_budget_status,
    invalid_status,
    memory_from_status,
    parse_budget_status,
    parse_status,
    transitions,
)
from voicecap.core.tokens import Allocation, GrantLedger

log = logging.getLogger("voicecap")

VOICECAPACITIES = ("voicecap.io/v1alpha1", "voicecapacities")
HPAS = (children.HPA_API_VERSION, "horizontalpodautoscalers")
TOKENBUDGETS = ("voicecap.io/v1alpha1", "tokenbudgets")
RULE_OBJECTS: dict[children.RulesKind, tuple[str, str]] = {
    "PrometheusRule": (children.PROMETHEUS_RULE_API_VERSION, "prometheusrules"),
    "ConfigMap": ("v1", "configmaps"),
}
EVENTS = ("events.k8s.io/v1", "events")


class RetryLaterError(Exception):
    """The reconcile could not finish; try again after `delay` seconds."""

    def __init__(self, message: str, delay: float) -> None:
        super().__init__(message)
        self.delay = delay


class World(Protocol):
    """What the watch caches know. Reads only, no API calls."""

    def capacities(self) -> Iterable[tuple[str, Mapping[str, Any]]]: ...
    def budgets(self) -> list[Mapping[str, Any]]: ...
    def ready_replicas(self, namespace: str, kind: str, name: str) -> int | None: ...
    def hpa(self, namespace: str, name: str) -> Mapping[str, Any] | None: ...
    def autoscalers(self, namespace: str, kind: str, name: str) -> list[tuple[str, str]]: ...
    def rules_kind(self) -> children.RulesKind: ...
    def rules(
        self, namespace: str, kind: children.RulesKind, name: str
    ) -> Mapping[str, Any] | None: ...


class Clock:
    """Wall-clock time, or a compressed/shifted timeline for demos and tests (never in core)."""

    def __init__(
        self, start: datetime | None = None, speed: float = 1.0, origin: float | None = None
    ) -> None:
        self._start = start
        self._speed = speed
        self._origin = time.time() if origin is None else origin

    def now(self) -> datetime:
        real = time.time()
        if self._start is None:
            return datetime.fromtimestamp(real, tz=UTC)
        return self._start + timedelta(seconds=(real - self._origin) * self._speed)

    def sampled(self, real_sampled_at: datetime | None) -> datetime | None:
        """A sample's time on this timeline, keeping its real age (staleness is a real delay)."""
        if real_sampled_at is None or self._start is None:
            return real_sampled_at
        age = time.time() - real_sampled_at.timestamp()
        return self.now() - timedelta(seconds=age)


class SessionCache:
    """Session observations for the fleet, refreshed once per cycle with batched queries."""

    def __init__(
        self, prometheus: PrometheusSessions, clock: Clock, metrics: OperatorMetrics
    ) -> None:
        self._prometheus = prometheus
        self._clock = clock
        self._metrics = metrics
        self._observations: dict[str, Observation] = {}
        self._pending: dict[str, SessionSource] = {}
        self._lock = asyncio.Lock()

    async def refresh(self, sources: list[SessionSource]) -> None:
        async with self._lock:
            observed = await asyncio.to_thread(self._observe, sources)
            self._observations = observed

    async def observation(self, source: SessionSource) -> Observation:
        """The cycle's observation; a miss (an object newer than the last cycle) is batched:
        misses that arrive while a query is in flight are answered together by the next one, so
        thousands of objects at start-up cost a few fleet queries, not one each."""
        cached = self._observations.get(source.key)
        if cached is not None:
            return cached
        self._pending[source.key] = source
        async with self._lock:
            if source.key in self._pending and source.key not in self._observations:
                batch, self._pending = self._pending, {}
                observed = await asyncio.to_thread(self._observe, list(batch.values()))
                self._observations.update(observed)
            self._pending.pop(source.key, None)
        return self._observations.get(source.key, Observation(failure="NoData"))

    def _observe(self, sources: list[SessionSource]) -> dict[str, Observation]:
        observed = self._prometheus.observe(sources)
        for record in self._prometheus.history:
            kind = "default" if "voice_active_sessions" in record.query else "override"
            self._metrics.query_duration.labels(kind).observe(record.seconds)
            if record.outcome != "ok":
                self._metrics.query_failures.labels(record.outcome).inc()
        return {
            key: replace(value, sampled_at=self._clock.sampled(value.sampled_at))
            for key, value in observed.items()
        }


@dataclass
class _Backoff:
    attempts: int = 0
    not_before: float = 0.0


@dataclass
class Reconciler:
    kube: KubeApi
    world: World
    sessions: SessionCache
    metrics: OperatorMetrics
    clock: Clock
    identity: str = "voicecap-operator"
    backoff_base: float = 1.0
    backoff_cap: float = 300.0
    _allocations: dict[str, Allocation] = field(default_factory=dict)
    _ledger: GrantLedger = field(default_factory=GrantLedger)
    _ledger_seeded: bool = False
    _invalid_budgets: dict[str, str] = field(default_factory=dict)  # name -> why
    _parsed: dict[str, tuple[str, VoiceCapacity | str]] = field(default_factory=dict)
    _rendered_rules: dict[str, tuple[tuple[Any, ...], dict[str, Any], str]] = field(
        default_factory=dict
    )
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _backoff: dict[str, _Backoff] = field(default_factory=dict)

    # ------------------------------------------------------------ the fleet

    def refresh_budgets(self, capacities: list[VoiceCapacity]) -> None:
        """Grants from every valid VoiceCapacity against every TokenBudget (level-based)."""
        budgets, invalid = [], {}
        for raw in self.world.budgets():
            try:
                budgets.append(TokenBudget.model_validate(_without_status(raw)))
            except ValidationError as error:  # grants nothing; its own status says why
                invalid[raw.get("metadata", {}).get("name", "")] = _invalid_message(error)
        self._invalid_budgets = invalid
        self._allocations = allocate_budgets(capacities, budgets)  # one per valid budget

    async def cycle(self, *, concurrency: int = 16) -> int:
        """Evaluate every VoiceCapacity once; returns how many were evaluated."""
        entries = list(self.world.capacities())
        keys = {key for key, _ in entries}
        self._forget_except(keys)
        parsed = [(key, body, self._parse(key, body)) for key, body in entries]
        valid = [c for _, _, c in parsed if not isinstance(c, str)]
        self.refresh_budgets(valid)
        await self._write_budget_statuses()
        self.metrics.objects.labels("true").set(len(valid))
        self.metrics.objects.labels("false").set(len(parsed) - len(valid))
        await self.sessions.refresh([_source(c) for c in valid])
        gate = asyncio.Semaphore(concurrency)
        now_mono = time.monotonic()

        async def one(key: str, body: Mapping[str, Any]) -> None:
            backoff = self._backoff.get(key)
            if backoff is not None and backoff.not_before > now_mono:
                return
            async with gate:
                with contextlib.suppress(RetryLaterError):
                    await self.reconcile(key, body, trigger="cycle")

        await asyncio.gather(*(one(key, body) for key, body, _ in parsed))
        return len(parsed)

    # ------------------------------------------------------------ one object

    async def reconcile(self, key: str, body: Mapping[str, Any], *, trigger: str) -> Plan | None:
        lock = self._locks.setdefault(key, asyncio.Lock())
        started = time.perf_counter()
        async with lock:
            try:
                result = await self._reconcile(key, body)
            except TransientError as error:
                self.metrics.reconcile_errors.labels("KubeTransient").inc()
                delay = self._schedule_retry(key, error.retry_after)
                log.warning("%s: Kubernetes API trouble, retrying in %.0fs: %s", key, delay, error)
                raise RetryLaterError(str(error), delay) from error
            finally:
                self.metrics.reconcile_duration.labels(trigger).observe(
                    time.perf_counter() - started
                )
        self._backoff.pop(key, None)
        return result

    async def _reconcile(self, key: str, body: Mapping[str, Any]) -> Plan | None:
        now = self.clock.now()
        previous_raw = dict(body.get("status") or {})
        previous = parse_status(previous_raw)
        generation = body.get("metadata", {}).get("generation")
        capacity = self._parse(key, body)
        if isinstance(capacity, str):
            self.metrics.reconcile_errors.labels("InvalidSpec").inc()
            status = invalid_status(capacity, previous=previous, generation=generation, now=now)
            await self._write_status(key, body, previous_raw, dump(status), now)
            await self._post_events(body, transitions(previous, status), now)
            return None

        if self._grant_is_stale(capacity):
            parsed = (self._parse(k, b) for k, b in self.world.capacities())
            self.refresh_budgets([c for c in parsed if not isinstance(c, str)])
        observation = replace(
            await self.sessions.observation(_source(capacity)),
            ready_replicas=self.world.ready_replicas(
                capacity.namespace, capacity.spec.target_ref.kind, capacity.spec.target_ref.name
            ),
            granted_tpm=self._take_grant(key, capacity),
        )
        decided = plan(capacity, observation, now, memory_from_status(previous))
        outcome, applied = await self._apply(capacity, decided)
        outcome = replace(outcome, rules=await self._apply_rules(capacity))
        status = build_status(decided, outcome, previous=previous, generation=generation, now=now)
        await self._write_status(key, body, previous_raw, dump(status), now)
        if outcome.result == "Reconciled":
            self._settle_grant(key, capacity, observation.granted_tpm)
        await self._post_events(body, [*applied, *transitions(previous, status)], now)
        self.metrics.observe_plan(key, decided, now.timestamp())
        return decided

    async def _apply(
        self, capacity: VoiceCapacity, decided: Plan
    ) -> tuple[Outcome, list[Transition]]:
        budget_found = capacity.spec.model is None or (
            capacity.spec.model.budget_ref in self._allocations
        )
        target = capacity.spec.target_ref
        planned = f"floor {decided.floor}, ceiling {decided.ceiling}"
        if capacity.spec.paused:
            return Outcome(
                "Paused", f"paused: planned {planned}; children left as they are", budget_found
            ), []
        if decided.ready_replicas is None:  # the watch cache has no such workload
            return Outcome(
                "TargetNotFound",
                f"{target.kind} {capacity.namespace}/{target.name} not found; planned {planned}",
                budget_found,
            ), []
        name = children.hpa_name(capacity)
        live = self.world.hpa(capacity.namespace, name)
        if live is not None and not children.is_owned_by(live, capacity):
            return Outcome(
                "HPANameTaken",
                f"HorizontalPodAutoscaler {name} exists and is not owned by this VoiceCapacity",
                budget_found,
            ), []
        others = [
            f"{kind} {other}"
            for kind, other in self.world.autoscalers(capacity.namespace, target.kind, target.name)
            if (kind, other) != ("HorizontalPodAutoscaler", name)
        ]
        if others:
            return Outcome(
                "ConflictingAutoscaler",
                f"{', '.join(sorted(others))} already scales {target.kind} {target.name}; "
                "remove it or this VoiceCapacity (no second HPA is created)",
                budget_found,
            ), []
        report = children.hpa_report(live) if live is not None else None
        ceiling = max_replicas(decided.floor, decided.ceiling, report)
        desired = children.render_hpa(capacity, decided, ceiling)
        ref = Ref(*HPAS, capacity.namespace, name)
        events: list[Transition] = []
        try:
            if await self._converge(ref, desired, live):
                events = [
                    Transition(
                        "Normal",
                        "HPACreated",
                        f"HorizontalPodAutoscaler {name}: minReplicas {decided.floor}, "
                        f"maxReplicas {decided.ceiling}",
                    )
                ]
        except (RejectedError, NotFoundError) as error:
            self.metrics.reconcile_errors.labels("ApplyFailed").inc()
            return Outcome(
                "ApplyFailed", f"HorizontalPodAutoscaler {name}: {error}", budget_found
            ), []
        return Outcome(
            "Reconciled",
            f"HorizontalPodAutoscaler {name}: minReplicas {desired['spec']['minReplicas']}, "
            f"maxReplicas {desired['spec']['maxReplicas']}",
            budget_found,
            hpa=report,
            hpa_max_replicas=ceiling,
        ), events

    async def _converge(
        self, ref: Ref, desired: dict[str, Any], live: Mapping[str, Any] | None
    ) -> bool:
        """Create the child or patch what differs; True when it was created."""
        if live is not None:
            await self._patch_child(ref, desired, live)
            return False
        try:
            await self.kube.create(ref, desired)
        except ConflictError:
            # Created meanwhile (by our previous run, not yet in the watch cache): converge it.
            await self._patch_child(ref, desired, await self.kube.get(ref) or {})
            return False
        self.metrics.api_writes.labels(ref.plural, "create").inc()
        return True

    async def _patch_child(
        self, ref: Ref, desired: dict[str, Any], live: Mapping[str, Any]
    ) -> None:
        patch = children.child_patch(desired, live)
        if patch is not None:
            await self.kube.patch(ref, patch)
            self.metrics.api_writes.labels(ref.plural, "patch").inc()

    async def _apply_rules(self, capacity: VoiceCapacity) -> RulesOutcome:
        """The alert rules: a PrometheusRule where prometheus-operator is installed, else a
        ConfigMap with the rule file (and the other form, once replaced, is removed)."""
        kind = self.world.rules_kind()
        name = children.rules_name(capacity, kind)
        if capacity.spec.paused:
            return RulesOutcome(None, "Paused", f"paused: {kind} {name} left as it is")
        live = self.world.rules(capacity.namespace, kind, name)
        if live is not None and not children.is_owned_by(live, capacity):
            return RulesOutcome(
                False, "NameTaken", f"{kind} {name} exists and is not owned by this VoiceCapacity"
            )
        desired, summary = self._render_rules(capacity, kind)
        try:
            await self._converge(Ref(*RULE_OBJECTS[kind], capacity.namespace, name), desired, live)
            await self._remove_replaced_rules(capacity, kind)
        except (RejectedError, NotFoundError) as error:
            self.metrics.reconcile_errors.labels("RulesFailed").inc()
            return RulesOutcome(False, "ApplyFailed", f"{kind} {name}: {error}")
        return RulesOutcome(True, kind, f"{kind} {name}: {summary}")

    def _render_rules(
        self, capacity: VoiceCapacity, kind: children.RulesKind
    ) -> tuple[dict[str, Any], str]:
        """The rule object and a summary, rendered once per object version (YAML is slow)."""
        meta = capacity.metadata
        signature = (meta.uid, meta.resource_version, kind)
        cached = self._rendered_rules.get(capacity.key)
        if cached is not None and meta.resource_version is not None and cached[0] == signature:
            return cached[1], cached[2]
        desired = children.render_rules(capacity, kind)
        group = rule_group(capacity)["rules"]
        alerts = sum(1 for rule in group if "alert" in rule)
        summary = f"{alerts} alerts, {len(group) - alerts} recording rules"
        self._rendered_rules[capacity.key] = (signature, desired, summary)
        return desired, summary

    async def _remove_replaced_rules(
        self, capacity: VoiceCapacity, kind: children.RulesKind
    ) -> None:
        other: children.RulesKind = "ConfigMap" if kind == "PrometheusRule" else "PrometheusRule"
        name = children.rules_name(capacity, other)
        live = self.world.rules(capacity.namespace, other, name)
        if live is not None and children.is_owned_by(live, capacity):
            await self.kube.delete(Ref(*RULE_OBJECTS[other], capacity.namespace, name))
            self.metrics.api_writes.labels(RULE_OBJECTS[other][1], "delete").inc()

    async def _write_status(
        self,
        key: str,
        body: Mapping[str, Any],
        previous: dict[str, Any],
        status: dict[str, Any],
        now: datetime,
    ) -> None:
        """Patch the status subresource only when something other than lastEvaluated changed."""
        unchanged = {k: v for k, v in previous.items() if k != "lastEvaluated"}
        wanted = {k: v for k, v in status.items() if k != "lastEvaluated"}
        if not children.merge_patch(unchanged, wanted):
            return
        status["lastEvaluated"] = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        namespace, name = key.split("/", 1)
        try:
            await self.kube.patch_status(
                Ref(*VOICECAPACITIES, namespace, name), children.merge_patch(previous, status)
            )
        except NotFoundError:
            return  # deleted meanwhile: nothing to report on
        self.metrics.api_writes.labels("voicecapacities/status", "patch").inc()

    async def _post_events(
        self, body: Mapping[str, Any], events: list[Transition], now: datetime
    ) -> None:
        if not events:
            return
        meta = ObjectMeta.model_validate(body.get("metadata", {}))
        for event in events:
            rendered = children.render_event(meta, event, now=now, instance=self.identity)
            try:
                await self.kube.create(Ref(*EVENTS, meta.namespace or "default"), rendered)
            except KubeError as error:  # an Event is worth a log line, never a failed reconcile
                log.warning("could not post Event %s: %s", event.reason, error)
                continue
            self.metrics.api_writes.labels("events", "create").inc()
            self.metrics.events.labels(event.reason).inc()

    # ------------------------------------------------------------ bookkeeping

    def _parse(self, key: str, body: Mapping[str, Any]) -> VoiceCapacity | str:
        """The typed object, or the reason it is invalid (cached per resourceVersion)."""
        version = body.get("metadata", {}).get("resourceVersion")
        cached = self._parsed.get(key)
        if cached is not None and version is not None and cached[0] == version:
            return cached[1]
        try:
            result: VoiceCapacity | str = VoiceCapacity.model_validate(_without_status(body))
        except ValidationError as error:
            result = _invalid_message(error)
        if version is not None:
            self._parsed[key] = (version, result)
        return result

    def _grant_is_stale(self, capacity: VoiceCapacity) -> bool:
        """A reservation that changed since the last allocation (new, moved, resized)."""
        model = capacity.spec.model
        if model is None:
            return False
        allocation = self._allocations.get(model.budget_ref)
        if allocation is None:
            return True
        grant = allocation.grant_for(capacity.namespace, capacity.metadata.name)
        return grant is None or (grant.request.requested, grant.request.priority) != (
            model.reserved_tpm,
            model.priority,
        )

    def _take_grant(self, key: str, capacity: VoiceCapacity) -> int | None:
        """The TPM grant this reconcile may put in effect: the allocation's, as far as the
        others' grants in effect leave room (GrantLedger); held before anything is written."""
        if not self._ledger_seeded:
            self._seed_ledger()
        target = granted_tpm(capacity, self._allocations)
        model = capacity.spec.model
        if model is None or target is None:
            return target
        pool = self._allocations[model.budget_ref].pool
        granted = self._ledger.effective(key, model.budget_ref, target, pool)
        holding = self._ledger.holding(key, model.budget_ref)
        self._ledger.hold(key, model.budget_ref, max(granted, holding))  # increases: before
        return granted

    def _settle_grant(self, key: str, capacity: VoiceCapacity, granted: int | None) -> None:
        """The HPA now carries `granted`: decreases are released only now."""
        if capacity.spec.model is None or granted is None:
            self._ledger.release(key)
        else:
            self._ledger.hold(key, capacity.spec.model.budget_ref, granted)

    def _seed_ledger(self) -> None:
        """After a restart, the grants in effect are the ones each status last reported."""
        for key, body in self.world.capacities():
            budget = ((body.get("spec") or {}).get("model") or {}).get("budgetRef")
            granted = ((body.get("status") or {}).get("tpm") or {}).get("granted")
            if isinstance(budget, str) and isinstance(granted, int):
                self._ledger.hold(key, budget, granted)
        self._ledger_seeded = True

    async def _write_budget_statuses(self) -> None:
        """Each TokenBudget's status: its reservations in grant order, or why it is invalid."""
        now = self.clock.now()
        for raw in self.world.budgets():
            meta = raw.get("metadata", {})
            name, generation = meta.get("name", ""), meta.get("generation")
            previous_raw = dict(raw.get("status") or {})
            previous = parse_budget_status(previous_raw)
            allocation = self._allocations.get(name)
            if allocation is not None:
                status = budget_status(
                    allocation, previous=previous, generation=generation, now=now
                )
            elif name in self._invalid_budgets:
                status = invalid_budget_status(
                    self._invalid_budgets[name], previous=previous, generation=generation, now=now
                )
            else:
                continue  # created since the allocation: the next cycle writes it
            patch = children.merge_patch(previous_raw, dump(status))
            if not patch:
                continue
            try:
                await self.kube.patch_status(Ref(*TOKENBUDGETS, None, name), patch)
            except NotFoundError:
                continue
            except KubeError as error:
                log.warning("TokenBudget %s: could not write status: %s", name, error)
                continue
            self.metrics.api_writes.labels("tokenbudgets/status", "patch").inc()

    def _schedule_retry(self, key: str, retry_after: float | None) -> float:
        state = self._backoff.setdefault(key, _Backoff())
        state.attempts += 1
        ours = min(self.backoff_cap, self.backoff_base * 2 ** (state.attempts - 1))
        delay: float = max(ours * random.uniform(0.5, 1.0), retry_after or 0.0)  # jitter
        state.not_before = time.monotonic() + delay
        return delay

    def _forget_except(self, keys: set[str]) -> None:
        for key in set(self._parsed) - keys:
            del self._parsed[key]
        for key in set(self._rendered_rules) - keys:
            del self._rendered_rules[key]
        for key in set(self._locks) - keys:
            if not self._locks[key].locked():
                del self._locks[key]
        for key in set(self._backoff) - keys:
            del self._backoff[key]
        if self._ledger_seeded:
            for key in self._ledger.keys() - keys:
                self._ledger.release(key)  # deleted: its HPA is gone with it
        for key in self.metrics.known_keys() - keys:
            self.metrics.forget(key)  # session observations are replaced wholesale each cycle


class PeeringGate:
    """Whether this replica may write, by the rule Kopf's peering uses to pause operators.

    Kopf pauses its own handlers when a live peer has a higher (or the same) priority; the
    fleet cycle is ours, so it asks the same question of the same peering object.
    """

    def __init__(
        self,
        kube: KubeApi,
        *,
        name: str | None,
        priority: int,
        identity: str,
        namespaces: list[str],
    ) -> None:
        self._kube = kube
        self._name = name
        self._priority = priority
        self._identity = identity
        self._namespaces = namespaces
        self._last = True

    async def may_write(self) -> bool:
        if self._name is None:
            return True  # standalone
        refs = (
            [Ref("kopf.dev/v1", "kopfpeerings", ns, self._name) for ns in self._namespaces]
            if self._namespaces
            else [Ref("kopf.dev/v1", "clusterkopfpeerings", None, self._name)]
        )
        try:
            bodies = [await self._kube.get(ref) for ref in refs]
        except TransientError:
            return self._last  # keep the last answer while the API is unreachable
        except KubeError:
            bodies = []  # no peering CRD: Kopf runs standalone, and so do we
        now = datetime.now(UTC)  # peers stamp lastseen in real time, whatever our Clock says
        self._last = all(
            writer_allowed((body or {}).get("status") or {}, self._identity, self._priority, now)
            for body in bodies
        )
        return self._last


def writer_allowed(peers: Mapping[str, Any], identity: str, priority: int, now: datetime) -> bool:
    """Kopf's rule: pause while any other live peer has a priority >= ours."""
    for peer, info in peers.items():
        if peer == identity or not isinstance(info, Mapping):
            continue
        try:
            seen = datetime.fromisoformat(str(info.get("lastseen")).replace("Z", "+00:00"))
        except ValueError:
            continue
        seen = seen if seen.tzinfo else seen.replace(tzinfo=UTC)
        alive = seen + timedelta(seconds=int(info.get("lifetime", 60))) > now
        if alive and int(info.get("priority", 0)) >= priority:
            return False
    return True


async def run_cycles(
    reconciler: Reconciler,
    gate: PeeringGate,
    *,
    interval: float,
    ready: asyncio.Event,
    stop: asyncio.Event,
) -> None:
    """The periodic re-evaluation of every object (F7): survives any error, stops on `stop`."""
    while not ready.is_set() and not stop.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(ready.wait(), timeout=interval)
    while not stop.is_set():
        started = time.monotonic()
        try:
            if await gate.may_write():
                count = await reconciler.cycle()
                reconciler.metrics.cycle_duration.observe(time.monotonic() - started)
                log.debug("cycle: %d VoiceCapacities in %.3fs", count, time.monotonic() - started)
            else:
                log.info("cycle skipped: a peer with a higher priority is active")
        except Exception:
            reconciler.metrics.reconcile_errors.labels("CycleFailed").inc()
            log.exception("cycle failed; the next one starts on schedule")
        remaining = max(0.0, interval - (time.monotonic() - started))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=remaining)


# ---------------------------------------------------------------- helpers


def _source(capacity: VoiceCapacity) -> SessionSource:
    return SessionSource(
        key=capacity.key,
        namespace=capacity.namespace,
        vertical=capacity.vertical,
        query=capacity.spec.sessions.query or "",
    )


def _without_status(body: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "status"}


def _invalid_message(error: ValidationError) -> str:
    """Every problem with its field path, e.g. `spec.peaks[0].timeZone: unknown IANA zone`."""
    return "; ".join(
        f"{problem.field}: {problem.message}" for problem in validation_problems("", error)
    )
