"""Kopf registrations only: settings, watch caches (indexes), and thin handlers over the service.

- a VoiceCapacity whose status does not answer its generation yet (new, or its spec changed) is
  reconciled from its watch event, by the same level-triggered reconcile as the fleet cycle;
- one fleet-wide loop (started here, written in service/fleet.py) re-evaluates every object every
  --interval. It is not a Kopf timer: a timer is a task per object and needs a finalizer, and a
  finalizer would block deletion while the operator is down (docs/reliability.md F14, F22);
- indexes are the watch caches the reconcile reads (HPAs, targets, other autoscalers, budgets),
  so a steady cycle makes no API request. Kopf fills them before it calls any handler.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import kopf

from voicecap.adapters import credentials, kopf_watches
from voicecap.adapters.calibration import PrometheusCalibration
from voicecap.adapters.history import PrometheusHistory
from voicecap.adapters.kube import KubeApi
from voicecap.adapters.metrics import OperatorMetrics
from voicecap.adapters.objects import live_child, trimmed
from voicecap.adapters.prometheus import PrometheusSessions
from voicecap.adapters.watch_caches import KopfWorld
from voicecap.adapters.workloads import target_state
from voicecap.api.names import (
    ANNOTATION_PREFIX,
    GROUP,
    KEDA_GROUP,
    KEDA_VERSION,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    OWNED_SELECTOR,
    PROMETHEUS_RULE_CRD,
    TOKENBUDGETS,
    VERSION,
    VOICECAPACITIES,
)
from voicecap.service.assembly import Service, Tuning, assemble
from voicecap.service.clock import Clock
from voicecap.service.fleet import run_cycles
from voicecap.service.peering import PeeringGate
from voicecap.service.reconciler import RetryLaterError
from voicecap.settings import Settings

log = logging.getLogger("voicecap")


# ---------------------------------------------------------------- settings and lifecycle


@dataclass(frozen=True)
class Running:
    """What startup leaves for the handlers and cleanup: the one typed thing on Kopf's memo."""

    service: Service
    world: KopfWorld
    kube: KubeApi
    prometheus: PrometheusSessions
    history: PrometheusHistory
    calibrations: PrometheusCalibration
    indexed: asyncio.Event  # set once Kopf has filled every index
    stop: asyncio.Event
    cycles: asyncio.Task[None]


@kopf.on.login()
def login(memo: Any, **_: Any) -> kopf.ConnectionInfo:
    """Kopf's credentials from the same kubeconfig and context as ours (--kubeconfig,
    --context), re-read at every re-authentication (a rotated ServiceAccount token)."""
    config: Settings = memo.settings
    where = credentials.Where(config.kubeconfig, config.context)
    return credentials.connection_info(credentials.load(where))


@kopf.on.startup()
async def startup(
    settings: kopf.OperatorSettings, memo: Any, logger: kopf.Logger, **kwargs: Any
) -> None:
    config: Settings = memo.settings
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(
        prefix=ANNOTATION_PREFIX
    )
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=ANNOTATION_PREFIX, key="last-handled-configuration"
    )
    settings.persistence.finalizer = f"{ANNOTATION_PREFIX}/finalizer"
    # Watch only our own rule children (the emulator ignores selectors; the index filters too).
    settings.watching.label_selectors["", "v1", "configmaps"] = OWNED_SELECTOR
    settings.watching.label_selectors["monitoring.coreos.com", "v1", "prometheusrules"] = (
        OWNED_SELECTOR
    )
    settings.posting.level = logging.WARNING
    # A silent watch stream is reconnected, and the fleet cycle re-evaluates regardless
    # (docs/reliability.md F7).
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.inactivity_timeout = 360
    settings.watching.connect_timeout = 10
    # Kopf's own API calls back off and retry (docs/reliability.md F8); ours do in the service.
    settings.networking.error_backoffs = [1, 2, 5, 10, 20, 30]
    settings.networking.request_timeout = 30
    # A SIGKILLed writer is replaced when its peering entry expires (docs/reliability.md F6).
    settings.peering.lifetime = config.peering_lifetime

    metrics = OperatorMetrics()
    metrics.watch_streams(kopf_watches.STREAMS)
    if config.metrics_port is not None:
        metrics.serve(config.metrics_port, config.bind_address)
    kube = await KubeApi.connect(
        on_write=lambda resource, verb: metrics.api_writes.labels(resource, verb).inc(),
        kubeconfig=config.kubeconfig,
        context=config.context,
    )
    prometheus = PrometheusSessions(config.prometheus, timeout=config.query_timeout)
    history = PrometheusHistory(config.prometheus)
    calibrations = PrometheusCalibration(config.prometheus)
    clock = Clock(config.clock_start, config.clock_speed, config.clock_origin)
    world = KopfWorld(kwargs)
    service = assemble(
        kube=kube,
        world=world,
        sessions=prometheus,
        history=history,
        calibrations=calibrations,
        metrics=metrics,
        clock=clock,
        tuning=Tuning(
            identity=config.identity,
            prometheus_failure_grace=config.prometheus_failure_grace,
            hpa_metric_grace=timedelta(seconds=config.hpa_metric_grace),
            runbooks=config.runbook_base_url,
        ),
    )
    gate = PeeringGate(
        kube,
        name=config.peering_name,
        priority=config.priority,
        identity=config.identity,
        namespaces=list(config.namespaces),
    )
    indexed, stop = asyncio.Event(), asyncio.Event()
    cycles = asyncio.create_task(
        run_cycles(
            service.fleet,
            gate,
            metrics=metrics,
            caches_fresh=kopf_watches.STREAMS.fresh,
            interval=config.interval,
            ready=indexed,
            stop=stop,
        ),
        name="voicecap-cycles",
    )
    memo.running = Running(
        service, world, kube, prometheus, history, calibrations, indexed, stop, cycles
    )
    logger.info(
        "voicecap operator started: Prometheus %s, every %ss, %s",
        config.prometheus.describe(),
        config.interval,
        ", ".join(config.namespaces) or "all namespaces",
    )


@kopf.on.cleanup()
async def cleanup(memo: kopf.Memo, **_: Any) -> None:
    running: Running = memo.running
    running.stop.set()
    running.service.stop()
    try:
        await asyncio.wait_for(running.cycles, timeout=15)
    except (TimeoutError, asyncio.CancelledError):
        running.cycles.cancel()
    await running.kube.close()
    running.prometheus.close()
    running.history.close()
    running.calibrations.close()


@kopf.on.probe(id="voicecapacities")
def probe(memo: kopf.Memo, **_: Any) -> int:
    """Liveness reports what the operator knows; it never calls the API (reliability F8)."""
    running: Running = memo.running
    return len(running.world.capacities())


# ---------------------------------------------------------------- watch caches


@kopf.index(GROUP, VERSION, VOICECAPACITIES)
def voicecapacity_index(namespace: str | None, name: str, body: kopf.Body, **_: Any) -> Any:
    return {(namespace, name): trimmed(body)}


@kopf.index(GROUP, VERSION, TOKENBUDGETS)
def tokenbudget_index(name: str, body: kopf.Body, **_: Any) -> Any:
    return {name: trimmed(body)}


@kopf.index("apps", "v1", "deployments")
def deployment_index(namespace: str | None, name: str, body: kopf.Body, **_: Any) -> Any:
    return {(namespace, "Deployment", name): target_state(body)}  # ready pods, requests


@kopf.index("apps", "v1", "statefulsets")
def statefulset_index(namespace: str | None, name: str, body: kopf.Body, **_: Any) -> Any:
    return {(namespace, "StatefulSet", name): target_state(body)}


@kopf.index("autoscaling", "v2", "horizontalpodautoscalers")
def hpa_index(namespace: str | None, name: str, body: kopf.Body, **_: Any) -> Any:
    return {(namespace, name): live_child(body, hpa=True)}  # trimmed: no managedFields


@kopf.index("autoscaling", "v2", "horizontalpodautoscalers")
def hpa_target_index(namespace: str | None, name: str, spec: kopf.Spec, **_: Any) -> Any:
    target = spec.get("scaleTargetRef") or {}
    return {(namespace, target.get("kind"), target.get("name")): ("HorizontalPodAutoscaler", name)}


@kopf.index("", "v1", "configmaps", labels={MANAGED_BY_LABEL: MANAGED_BY})
def rules_index(
    namespace: str | None, name: str, body: kopf.Body, resource: kopf.Resource, **_: Any
) -> Any:
    return {(namespace, resource.kind, name): live_child(body)}


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
        kopf.index(KEDA_GROUP, KEDA_VERSION, "scaledobjects")(scaledobject_target_index)


# ---------------------------------------------------------------- the reconcile


@kopf.on.event(GROUP, VERSION, VOICECAPACITIES)
async def reconcile(
    event: kopf.RawEvent, namespace: str | None, name: str, body: kopf.Body, memo: kopf.Memo,
    **_: Any,
) -> None:  # fmt: skip
    """A new or changed spec, reconciled at once. Kopf's low-level event handler, not its
    create/update/resume handlers: those persist a copy of the spec on every object (one more
    API write per change, and Kopf's diff machinery on every watch event); a level-triggered
    reconcile needs neither. Events whose status already answers this generation (our own
    status writes, a restart's initial listing) are left to the fleet cycle."""
    running: Running = memo.running
    running.indexed.set()  # Kopf calls handlers only once every index is filled
    if event.get("type") == "DELETED":
        return  # its children go with it (ownerReferences); the cycle forgets it
    key = f"{namespace}/{name}"
    entry = running.world.parse(key, body)
    if entry.stored_status and entry.observed_generation == entry.generation:
        return
    try:
        await running.service.reconciler.reconcile(entry, trigger="event")
    except RetryLaterError as error:
        # No kopf.TemporaryError: the fleet cycle is the one retry loop (service/retries.py).
        log.info("%s: left to the fleet cycle, due in %.0fs: %s", key, error.delay, error)
