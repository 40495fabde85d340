"""The one assembly of the service: every collaborator built once, in one place, from the
adapters (or the tests' doubles) it is given. handlers.py runs what this returns; so does
tests/support/world.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from voicecap.adapters.metrics import OperatorMetrics
from voicecap.service.admission import AdmissionPublisher
from voicecap.service.applier import ChildApplier
from voicecap.service.busy_pods import BusyPodRanker
from voicecap.service.calendars import CalendarCache
from voicecap.service.clock import Clock
from voicecap.service.fleet import Fleet
from voicecap.service.history import HistoryCache
from voicecap.service.parts import Parts
from voicecap.service.ports import History, Kube, Sessions
from voicecap.service.reconciler import Reconciler
from voicecap.service.retries import RetryBook
from voicecap.service.sessions import SessionCache
from voicecap.service.token_book import TokenBook
from voicecap.service.world import World
from voicecap.service.writer import ChildWriter


@dataclass(frozen=True)
class Service:
    parts: Parts
    reconciler: Reconciler  # one object, on a watch event or in the cycle
    fleet: Fleet  # every object, every --interval


@dataclass(frozen=True)
class Tuning:
    """The run flags the service reads (cli/run.py; defaults are the flags')."""

    identity: str = "voicecap-operator"  # which replica writes (Events' reportingInstance)
    prometheus_failure_grace: float = 30.0  # seconds a failed session query keeps its answer
    hpa_metric_grace: timedelta = timedelta(seconds=45)
    concurrency: int = 16  # reconciles in flight: no more than the API client's pool


def assemble(
    *,
    kube: Kube,
    world: World,
    sessions: Sessions,
    history: History,
    metrics: OperatorMetrics,
    clock: Clock,
    tuning: Tuning | None = None,
    retries: RetryBook | None = None,
) -> Service:
    """`retries`: a RetryBook with another backoff than the default's (1 s doubling to 300 s)."""
    tuning = tuning or Tuning()
    cache = SessionCache(sessions, clock, metrics, grace=tuning.prometheus_failure_grace)
    writer = ChildWriter(kube, metrics, identity=tuning.identity)
    parts = Parts(
        kube=kube,
        world=world,
        metrics=metrics,
        clock=clock,
        sessions=cache,
        history=HistoryCache(history, clock, metrics),
        writer=writer,
        book=TokenBook(),
        retries=retries or RetryBook(),
        calendars=CalendarCache(kube),
        busy_pods=BusyPodRanker(kube, world, cache, writer, clock),
    )
    reconciler = Reconciler(
        parts,
        ChildApplier(parts, hpa_metric_grace=tuning.hpa_metric_grace),
        concurrency=tuning.concurrency,
    )
    fleet = Fleet(parts, reconciler, AdmissionPublisher(kube), concurrency=tuning.concurrency)
    return Service(parts, reconciler, fleet)
