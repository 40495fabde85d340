"""Kopf registrations only: settings, watch caches (indexes), and thin handlers over the service.

- create / update / resume of a VoiceCapacity call the same level-triggered reconcile;
- one fleet-wide loop (started here, written in service.py) re-evaluates every object every
  --interval. It is not a Kopf timer: a timer is a task per object and needs a finalizer, and a
  finalizer would block deletion while the operator is down (F14, F22);
- indexes are the watch caches the reconcile reads (HPAs, targets, other autoscalers, budgets),
  so a steady cycle makes no API request. Kopf fills them before it calls any handler.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import kopf

from voicecap.adapters.children import MANAGED_BY, RulesKind
from voicecap.adapters.kube import KubeApi
from voicecap.adapters.metrics import OperatorMetrics
from voicecap.adapters.prometheus import PrometheusSessions
from voicecap.service import (
    Clock,
    PeeringGate,
    Reconciler,
    RetryLaterError,
    SessionCache,
    run_cycles,
)

GROUP, VERSION = "voicecap.io", "v1alpha1"
PREFIX = "voicecap.io"
PROMETHEUS_RULE_CRD = "prometheusrules.monitoring.coreos.com"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
OWNED_SELECTOR = f"{MANAGED_BY_LABEL}={MANAGED_BY}"


@dataclass(frozen=True)
class RunConfig:
    """What `voicecap run` decided from its flags and environment."""

    prometheus_url: str
    interval: float
    namespaces: tuple[str, ...]  # empty: all namespaces
    identity: str
    peering: str | None  # None: standalone
    priority: int
    metrics_port: int | None
    bind_address: str
    clock: Clock
    query_timeout: float = 3.0


class KopfWorld:
    """The service's view of the cluster, read from Kopf's indexes (watch caches)."""

    def __init__(self, indices: Mapping[str, Any]) -> None:
        self._i = indices

    def capacities(self) -> Iterable[tuple[str, Mapping[str, Any]]]:
        for (namespace, name), store in self._i["voicecapacity_index"].items():
            for body in store:
                yield f"{namespace}/{name}", body

    def budgets(self) -> list[Mapping[str, Any]]:
        return [body for store in self._i["tokenbudget_index"].values() for body in store]

    def ready_replicas(self, namespace: str, kind: str, name: str) -> int | None:
        index = "deployment_ready" if kind == "Deployment" else "statefulset_ready"
        ready: int | None = _first(self._i[index], (namespace, kind, name))
        return ready

    def hpa(self, namespace: str, name: str) -> Mapping[str, Any] | None:
        hpa: Mapping[str, Any] | None = _first(self._i["hpa_index"], (namespace, name))
        return hpa

    def rules_kind(self) -> RulesKind:
        if "prometheusrule_crd_index" not in self._i:  # --no-prometheus-rules
            return "ConfigMap"
        served = _first(self._i["prometheusrule_crd_index"], PROMETHEUS_RULE_CRD)
        return "PrometheusRule" if served else "ConfigMap"

    def rules(self, namespace: str, kind: RulesKind, name: str) -> Mapping[str, Any] | None:
        found: Mapping[str, Any] | None = _first(self._i["rules_index"], (namespace, kind, name))
        return found

    def autoscalers(self, namespace: str, kind: str, name: str) -> list[tuple[str, str]]:
        key = (namespace, kind, name)
        found: list[tuple[str, str]] = []
        for index in ("hpa_target_index", "scaledobject_target_index"):
            if index in self._i and key in self._i[index]:  # no KEDA index with --no-keda
                found.extend(self._i[index][key])
        return found


def _first(index: Any, key: Any) -> Any:
    if key not in index:
        return None
    for value in index[key]:
        return value
    return None


# ---------------------------------------------------------------- settings and lifecycle


@kopf.on.startup()
async def startup(
    settings: kopf.OperatorSettings, memo: Any, logger: kopf.Logger, **kwargs: Any
) -> None:
    config: RunConfig = memo.config
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=PREFIX, key="last-handled-configuration"
    )
    settings.persistence.finalizer = f"{PREFIX}/finalizer"
    # Watch only our own rule children (the emulator ignores selectors; the index filters too).
    settings.watching.label_selectors["", "v1", "configmaps"] = OWNED_SELECTOR
    settings.watching.label_selectors["monitoring.coreos.com", "v1", "prometheusrules"] = (
        OWNED_SELECTOR
    )
    settings.posting.level = logging.WARNING
    # A silent watch stream is reconnected (F7); the fleet cycle re-evaluates regardless.
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.inactivity_timeout = 360
    settings.watching.connect_timeout = 10
    # Kopf's own API calls back off and retry (F8); ours do in the service.
    settings.networking.error_backoffs = [1, 2, 5, 10, 20, 30]
    settings.networking.request_timeout = 30

    metrics = OperatorMetrics()
    if config.metrics_port is not None:
        metrics.serve(config.metrics_port, config.bind_address)
    kube = await KubeApi.connect()
    prometheus = PrometheusSessions(config.prometheus_url, timeout=config.query_timeout)
    reconciler = Reconciler(
        kube=kube,
        world=KopfWorld(kwargs),
        sessions=SessionCache(prometheus, config.clock, metrics),
        metrics=metrics,
        clock=config.clock,
        identity=config.identity,
    )
    gate = PeeringGate(
        kube,
        name=config.peering,
        priority=config.priority,
        identity=config.identity,
        namespaces=list(config.namespaces),
    )
    memo.kube, memo.prometheus, memo.reconciler = kube, prometheus, reconciler
    memo.indexed, memo.stop = asyncio.Event(), asyncio.Event()
    memo.cycles = asyncio.create_task(
        run_cycles(reconciler, gate, interval=config.interval, ready=memo.indexed, stop=memo.stop),
        name="voicecap-cycles",
    )
    logger.info(
        "voicecap operator started: Prometheus %s, every %ss, %s",
        config.prometheus_url,
        config.interval,
        ", ".join(config.namespaces) or "all namespaces",
    )


@kopf.on.cleanup()
async def cleanup(memo: kopf.Memo, **_: Any) -> None:
    memo.stop.set()
    try:
        await asyncio.wait_for(memo.cycles, timeout=15)
    except (TimeoutError, asyncio.CancelledError):
        memo.cycles.cancel()
    await memo.kube.close()
    memo.prometheus.close()


@kopf.on.probe(id="voicecapacities")
def probe(memo: kopf.Memo, **_: Any) -> int:
    """Liveness reports what the operator knows; it never calls the API (F8)."""
    return len(list(memo.reconciler.world.capacities()))


# ---------------------------------------------------------------- watch caches


@kopf.index(GROUP, VERSION, "voicecapacities")
def voicecapacity_index(namespace: str | None, name: str, body: kopf.Body, **_: Any) -> Any:
    return {(namespace, name): body}


@kopf.index(GROUP, VERSION, "tokenbudgets")
def tokenbudget_index(name: str, body: kopf.Body, **_: Any) -> Any:
    return {name: body}


@kopf.index("apps", "v1", "deployments")
def deployment_ready(namespace: str | None, name: str, status: kopf.Status, **_: Any) -> Any:
    return {(namespace, "Deployment", name): int(status.get("readyReplicas") or 0)}


@kopf.index("apps", "v1", "statefulsets")
def statefulset_ready(namespace: str | None, name: str, status: kopf.Status, **_: Any) -> Any:
    return {(namespace, "StatefulSet", name): int(status.get("readyReplicas") or 0)}


@kopf.index("autoscaling", "v2", "horizontalpodautoscalers")
def hpa_index(namespace: str | None, name: str, body: kopf.Body, **_: Any) -> Any:
    return {(namespace, name): body}


@kopf.index("autoscaling", "v2", "horizontalpodautoscalers")
def hpa_target_index(namespace: str | None, name: str, spec: kopf.Spec, **_: Any) -> Any:
    target = spec.get("scaleTargetRef") or {}
    return {(namespace, target.get("kind"), target.get("name")): ("HorizontalPodAutoscaler", name)}


@kopf.index("", "v1", "configmaps", labels={MANAGED_BY_LABEL: MANAGED_BY})
def rules_index(
    namespace: str | None, name: str, body: kopf.Body, resource: kopf.Resource, **_: Any
) -> Any:
    return {(namespace, resource.kind, name): body}


def prometheusrule_crd_index(name: str, spec: kopf.Spec, **_: Any) -> Any:
    """Whether prometheus-operator serves monitoring.coreos.com/v1 PrometheusRules."""
    served = any(v.get("name") == "v1" and v.get("served") for v in spec.get("versions") or [])
    return {name: served}


def scaledobject_target_index(namespace: str | None, name: str, spec: kopf.Spec, **_: Any) -> Any:
    target = spec.get("scaleTargetRef") or {}
    kind = target.get("kind") or "Deployment"
    return {(namespace, kind, target.get("name")): ("ScaledObject", name)}


_REGISTERED: set[str] = set()  # which optional watches this process has registered


def register_optional(*, prometheus_rules: bool, keda: bool) -> None:
    """The watches of other projects' resources, only where RBAC grants them (the chart passes
    --no-prometheus-rules / --no-keda when it does not). Kopf holds every handler until every
    index is filled, so one watch the API server refuses (403) would stop all reconciles.
    Registers each at most once per process."""
    if prometheus_rules and "prometheus_rules" not in _REGISTERED:
        _REGISTERED.add("prometheus_rules")
        kopf.index(
            "apiextensions.k8s.io",
            "v1",
            "customresourcedefinitions",
            field="metadata.name",
            value=PROMETHEUS_RULE_CRD,
        )(prometheusrule_crd_index)
        kopf.index(
            "monitoring.coreos.com", "v1", "prometheusrules", labels={MANAGED_BY_LABEL: MANAGED_BY}
        )(rules_index)
    if keda and "keda" not in _REGISTERED:
        _REGISTERED.add("keda")
        kopf.index("keda.sh", "v1alpha1", "scaledobjects")(scaledobject_target_index)


# ---------------------------------------------------------------- the reconcile


@kopf.on.resume(GROUP, VERSION, "voicecapacities")
@kopf.on.create(GROUP, VERSION, "voicecapacities")
@kopf.on.update(GROUP, VERSION, "voicecapacities")
async def reconcile(
    namespace: str | None, name: str, body: kopf.Body, reason: str, memo: kopf.Memo, **_: Any
) -> None:
    memo.indexed.set()  # Kopf calls handlers only once every index is filled
    try:
        await memo.reconciler.reconcile(f"{namespace}/{name}", body, trigger=str(reason))
    except RetryLaterError as error:
        raise kopf.TemporaryError(str(error), delay=error.delay) from error
