"""In-memory doubles for the service's edges, shared by every in-process service test.

- `MemoryWorld`: the watch caches (service/world.py), filled from plain bodies and parsed by the
  same boundary parser as production (adapters/objects.py).
- `MemoryKube`: an API server in a dict. Creates, merge patches and deletes land in the world as a
  watch would deliver them (with a new resourceVersion), so a second cycle sees the first one's
  writes, and a steady cycle can be shown to make no write at all. Faults are injected per call.
- `FixedSessions`: Prometheus answering a fixed session count per vertical.
- `FixedHistory`: a history store answering a fixed weekly value per vertical.
- `service_for(world)`: the service as service/assembly.py assembles it for handlers.py.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from voicecap.adapters.children import RulesKind, merge_patch
from voicecap.adapters.kube import ConflictError, KubeError, NotFoundError, Ref, TransientError
from voicecap.adapters.metrics import OperatorMetrics
from voicecap.adapters.objects import (
    BudgetEntry,
    CapacityEntry,
    LiveChild,
    ObjectParser,
    live_child,
)
from voicecap.adapters.prometheus import QueryFailedError, SessionSource
from voicecap.core.measured.knee import LoadBin
from voicecap.core.peaks.shapes import SeriesKey, Span
from voicecap.core.planner.observation import Observation
from voicecap.core.planner.pod_fit import PodRequests
from voicecap.service.assembly import Service as Assembled
from voicecap.service.assembly import assemble
from voicecap.service.clock import Clock
from voicecap.service.fleet import Fleet
from voicecap.service.reconciler import Reconciler
from voicecap.service.retries import RetryBook

_versions = itertools.count(1)


def _stamp(body: dict[str, Any]) -> dict[str, Any]:
    meta = body.setdefault("metadata", {})
    meta["resourceVersion"] = str(next(_versions))
    meta.setdefault("uid", f"uid-{meta.get('namespace', '')}-{meta['name']}")
    meta.setdefault("generation", 1)
    return body


class MemoryWorld:
    def __init__(self, rules_kind: RulesKind = "ConfigMap") -> None:
        self.capacity_bodies: dict[str, dict[str, Any]] = {}
        self.budget_bodies: dict[str, dict[str, Any]] = {}
        self.ready: dict[tuple[str, str, str], int] = {}
        self.requests: dict[tuple[str, str, str], PodRequests] = {}  # targets' pod requests
        self.children: dict[tuple[str, str, str], dict[str, Any]] = {}  # (ns, kind, name)
        self.foreign_autoscalers: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
        self.kind: RulesKind = rules_kind
        self._parser = ObjectParser()
        self._targets: dict[tuple[str, Any, Any], set[str]] = {}  # HPAs by their target

    # ---- filling it, as a watch would
    def add_capacity(self, body: Mapping[str, Any], *, ready: int | None = 2) -> str:
        body = _stamp(copy.deepcopy(dict(body)))
        meta = body["metadata"]
        key = f"{meta.get('namespace', 'default')}/{meta['name']}"
        self.capacity_bodies[key] = body
        target = body["spec"]["targetRef"]
        if ready is not None:
            self.ready[
                (key.split("/", maxsplit=1)[0], target.get("kind", "Deployment"), target["name"])
            ] = ready
        return key

    def add_budget(self, body: Mapping[str, Any]) -> None:
        body = _stamp(copy.deepcopy(dict(body)))
        self.budget_bodies[body["metadata"]["name"]] = body

    def edit_capacity(self, key: str, edit: Callable[[dict[str, Any]], None]) -> None:
        body = self.capacity_bodies[key]
        edit(body)
        body["metadata"]["generation"] += 1
        _stamp(body)

    def body(self, key: str) -> dict[str, Any]:
        return self.capacity_bodies[key]

    # ---- the World protocol
    def capacities(self) -> list[CapacityEntry]:
        return [self._parser.capacity(key, body) for key, body in self.capacity_bodies.items()]

    def latest(self, key: str) -> CapacityEntry | None:
        body = self.capacity_bodies.get(key)
        return self._parser.capacity(key, body) if body is not None else None

    def entry(self, key: str) -> CapacityEntry:
        return self._parser.capacity(key, self.capacity_bodies[key])

    def budgets(self) -> list[BudgetEntry]:
        return [self._parser.budget(body) for body in self.budget_bodies.values()]

    def ready_replicas(self, namespace: str, kind: str, name: str) -> int | None:
        return self.ready.get((namespace, kind, name))

    def pod_requests(self, namespace: str, kind: str, name: str) -> PodRequests | None:
        return self.requests.get((namespace, kind, name))

    def hpa(self, namespace: str, name: str) -> LiveChild | None:
        body = self.children.get((namespace, "HorizontalPodAutoscaler", name))
        return live_child(body, hpa=True) if body is not None else None

    def autoscalers(self, namespace: str, kind: str, name: str) -> list[tuple[str, str]]:
        found = list(self.foreign_autoscalers.get((namespace, kind, name), []))
        for child_name in self._targets.get((namespace, kind, name), ()):
            found.append(("HorizontalPodAutoscaler", child_name))
        return found

    def put_child(self, where: tuple[str, str, str], body: dict[str, Any]) -> None:
        self.children[where] = body
        namespace, kind, name = where
        if kind == "HorizontalPodAutoscaler":
            target = body.get("spec", {}).get("scaleTargetRef", {})
            self._targets.setdefault((namespace, target.get("kind"), target.get("name")), set())
            self._targets[(namespace, target.get("kind"), target.get("name"))].add(name)

    def drop_child(self, where: tuple[str, str, str]) -> None:
        body = self.children.pop(where, None)
        if body is not None and where[1] == "HorizontalPodAutoscaler":
            target = body.get("spec", {}).get("scaleTargetRef", {})
            self._targets.get((where[0], target.get("kind"), target.get("name")), set()).discard(
                where[2]
            )

    def rules_kind(self) -> RulesKind:
        return self.kind

    def rules(self, namespace: str, kind: RulesKind, name: str) -> LiveChild | None:
        body = self.children.get((namespace, kind, name))
        return live_child(body) if body is not None else None


_KINDS = {
    "horizontalpodautoscalers": "HorizontalPodAutoscaler",
    "configmaps": "ConfigMap",
    "prometheusrules": "PrometheusRule",
    "deployments": "Deployment",  # the targets: absent unless a test adds one
    "pods": "Pod",
}


@dataclass
class MemoryKube:
    """The API server the service writes to; what it writes shows up in `world`."""

    world: MemoryWorld
    writes: list[tuple[str, str]] = field(default_factory=list)  # (verb, resource)
    events: list[dict[str, Any]] = field(default_factory=list)
    answered: int = 0
    fault: Callable[[str, Ref], KubeError | None] = lambda verb, ref: None

    def _check(self, verb: str, ref: Ref) -> None:
        error = self.fault(verb, ref)
        if error is not None:
            if not isinstance(error, TransientError):
                self.answered += 1
            raise error
        self.answered += 1

    async def get(self, ref: Ref) -> dict[str, Any] | None:
        self._check("get", ref)
        body = self.world.children.get((ref.namespace or "", _KINDS[ref.plural], ref.name or ""))
        return copy.deepcopy(body) if body is not None else None

    async def select(self, ref: Ref, *, label_selector: str) -> list[dict[str, Any]]:
        """The objects of the collection whose labels match `key=value,...` (the only selector
        form the service builds for matchLabels)."""
        self._check("select", ref)
        wanted = dict(term.split("=", 1) for term in label_selector.split(","))
        kind = _KINDS[ref.plural]
        return [
            copy.deepcopy(body)
            for (namespace, child_kind, _), body in self.world.children.items()
            if (namespace, child_kind) == (ref.namespace, kind)
            and all((body["metadata"].get("labels") or {}).get(k) == v for k, v in wanted.items())
        ]

    async def create(self, ref: Ref, body: dict[str, Any]) -> dict[str, Any]:
        self._check("create", ref)
        if ref.plural == "events":
            self.events.append(body)
        else:
            where = (ref.namespace or "", _KINDS[ref.plural], body["metadata"]["name"])
            if where in self.world.children:
                raise ConflictError(f"409 {ref} exists")
            self.world.put_child(where, _stamp(copy.deepcopy(body)))
        self.writes.append(("create", ref.plural))
        return body

    async def patch(self, ref: Ref, patch: dict[str, Any]) -> dict[str, Any]:
        self._check("patch", ref)
        where = (ref.namespace or "", _KINDS[ref.plural], ref.name or "")
        if where not in self.world.children:
            raise NotFoundError(f"404 {ref}")
        self.world.put_child(where, _stamp(_merged(self.world.children[where], patch)))
        self.writes.append(("patch", ref.plural))
        return self.world.children[where]

    async def patch_status(self, ref: Ref, status: dict[str, Any]) -> dict[str, Any]:
        self._check("patch_status", ref)
        if ref.plural == "tokenbudgets":
            body = self.world.budget_bodies[ref.name or ""]
        else:
            key = f"{ref.namespace}/{ref.name}"
            if key not in self.world.capacity_bodies:
                raise NotFoundError(f"404 {ref}")
            body = self.world.capacity_bodies[key]
        merged = _merged({"status": body.get("status") or {}}, {"status": status})
        body["status"] = merged["status"]
        _stamp(body)
        self.writes.append(("patch", f"{ref.plural}/status"))
        return body

    async def delete(self, ref: Ref) -> None:
        self._check("delete", ref)
        self.world.drop_child((ref.namespace or "", _KINDS[ref.plural], ref.name or ""))
        self.writes.append(("delete", ref.plural))

    def status_writes(self) -> int:
        return sum(1 for _, resource in self.writes if resource.endswith("/status"))


def _merged(live: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """RFC 7386 JSON merge patch (null deletes)."""
    result = copy.deepcopy(dict(live))
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = _merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


class FixedSessions:
    """Prometheus answering `sessions[vertical]` (missing verticals: NoData); counts queries."""

    def __init__(self, sessions: Mapping[str, float] | None = None) -> None:
        self.sessions = dict(sessions or {})
        self.pods: dict[tuple[str, str], float] = {}  # (namespace, pod) -> live calls
        self.history: list[Any] = []
        self.queries = 0

    def pod_sessions(self) -> dict[tuple[str, str], float]:
        self.queries += 1
        return dict(self.pods)

    def observe(self, sources: list[SessionSource]) -> dict[str, Observation]:
        self.queries += 1
        return {
            s.key: Observation(sessions=self.sessions[s.vertical])
            if s.vertical in self.sessions
            else Observation(failure="NoData")
            for s in sources
        }


class FixedHistory:
    """A history store answering `weekly[vertical]` inside every window (missing verticals: no
    data), `burst[vertical]` = (largest, median); `failure` makes every query fail. Counts
    queries by kind."""

    def __init__(self) -> None:
        self.weekly: dict[str, float] = {}
        self.burst_values: dict[str, tuple[float, float]] = {}
        # vertical -> {"offered" | "censored": {week "k": value}}: week_flags' answers
        self.flags: dict[str, dict[str, dict[str, float]]] = {}
        self.failure: QueryFailedError | None = None
        self.history: list[Any] = []
        self.queries: dict[str, int] = {"quantiles": 0, "burst": 0}
        self.asked: list[str] = []  # the session expressions the window quantiles were asked of

    def quantiles(
        self, sessions: str, quantile: float, spans: list[Span], *, batched: bool
    ) -> dict[SeriesKey, dict[str, float]]:
        self.queries["quantiles"] += 1
        self.asked.append(sessions)
        if self.failure is not None:
            raise self.failure
        return {
            ("voice", vertical): {span.label: value for span in spans}
            for vertical, value in self.weekly.items()
        }

    def week_flags(
        self, refused: str, share: str, quantile: float, spans: list[Span]
    ) -> dict[SeriesKey, dict[str, dict[str, float]]]:
        self.queries["flags"] = self.queries.get("flags", 0) + 1
        if self.failure is not None:
            raise self.failure
        return {("voice", vertical): flags for vertical, flags in self.flags.items()}

    def burst(
        self, sessions: str, at: datetime, *, batched: bool
    ) -> dict[SeriesKey, tuple[float | None, float | None]]:
        self.queries["burst"] += 1
        if self.failure is not None:
            raise self.failure
        return {("voice", vertical): value for vertical, value in self.burst_values.items()}


class FixedCalibrations:
    """Prometheus as the calibration asks it: `bins[vertical]` (load bins of per-pod latency) and
    `tokens[vertical]` = (tokens used, call-minutes); `failure` makes every query fail."""

    def __init__(self) -> None:
        self.bins: dict[str, list[LoadBin]] = {}
        self.tokens: dict[str, tuple[float | None, float | None]] = {}
        self.failure: QueryFailedError | None = None
        self.history: list[Any] = []
        self.queries: dict[str, int] = {"latency_bins": 0, "token_use": 0}

    def latency_bins(
        self, quantile: float, window: timedelta, at: datetime, *, query: str = ""
    ) -> dict[SeriesKey, list[LoadBin]]:
        self.queries["latency_bins"] += 1
        if self.failure is not None:
            raise self.failure
        return {("voice", vertical): bins for vertical, bins in self.bins.items()}

    def token_use(
        self, window: timedelta, at: datetime, *, usage: str = "", sessions: str = ""
    ) -> dict[SeriesKey, tuple[float | None, float | None]]:
        self.queries["token_use"] += 1
        if self.failure is not None:
            raise self.failure
        return {("voice", vertical): used for vertical, used in self.tokens.items()}


@dataclass
class Service:
    """The service as service/assembly.py builds it, over the doubles above."""

    world: MemoryWorld
    kube: MemoryKube
    prometheus: FixedSessions
    history: FixedHistory
    calibrations: FixedCalibrations
    metrics: OperatorMetrics
    assembled: Assembled

    @property
    def reconciler(self) -> Reconciler:
        return self.assembled.reconciler

    @property
    def fleet(self) -> Fleet:
        return self.assembled.fleet

    async def reconcile(self, key: str) -> None:
        await self.reconciler.reconcile(self.world.entry(key), trigger="test")


# A Sunday noon (UTC) inside no example's peak or lead time: a test that does not say when it
# runs must not plan differently on a Monday morning in New York (when the healthcare peak opens).
QUIET = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def service_for(
    world: MemoryWorld,
    sessions: Mapping[str, float] | None = None,
    *,
    now: datetime | None = None,
    retries: RetryBook | None = None,
) -> Service:
    kube = MemoryKube(world)
    prometheus = FixedSessions(sessions)
    history = FixedHistory()
    calibrations = FixedCalibrations()
    metrics = OperatorMetrics()
    assembled = assemble(
        kube=kube,
        world=world,
        sessions=prometheus,
        history=history,
        calibrations=calibrations,
        metrics=metrics,
        clock=Clock(now or QUIET),
        retries=retries,
    )
    return Service(world, kube, prometheus, history, calibrations, metrics, assembled)


def counter(metrics: OperatorMetrics, name: str, **labels: str) -> float:
    """A counter's value (0 before its first increment)."""
    value = metrics.registry.get_sample_value(name, labels)
    return value or 0.0


def sample(metrics: OperatorMetrics, name: str, **labels: str) -> float | None:
    """A gauge's value (None: no such series)."""
    return metrics.registry.get_sample_value(name, labels)


__all__ = [
    "MemoryKube",
    "MemoryWorld",
    "Service",
    "counter",
    "merge_patch",
    "sample",
    "service_for",
]
