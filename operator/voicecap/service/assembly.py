"""The one assembly of the service: every collaborator built once, in one place, from the
adapters (or the tests' doubles) it is given, and handed to each class as exactly what that
class uses. handlers.py runs what this returns; so does tests/support/world.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from voicecap.adapters.metrics import OperatorMetrics
from voicecap.core.alerts.rules import RUNBOOKS
from voicecap.service.admission import AdmissionPublisher
from voicecap.service.applier import ChildApplier
from voicecap.service.budget_reporter import BudgetReporter
from voicecap.service.busy_pods import BusyPodRanker
from voicecap.service.calendars import CalendarCache
from voicecap.service.calibration import CalibrationCache
from voicecap.service.clock import Clock
from voicecap.service.fleet import Fleet
from voicecap.service.history import HistoryCache
from voicecap.service.observer import ActedReports, Observer
from voicecap.service.ports import Calibrations, History, Kube, SessionMetrics
from voicecap.service.reconciler import Reconciler
from voicecap.service.retries import RetryBook
from voicecap.service.sessions import SessionCache
from voicecap.service.tenant_caps import TenantCapsCache
from voicecap.service.token_book import TokenBook
from voicecap.service.world import World
from voicecap.service.writer import ChildWriter


@dataclass(frozen=True)
class Service:
    """What the assembly hands its caller: the two ways in (one object, or the fleet), and the
    background work to stop. Tests also reach the caches they steer (history, calendars, busy
    pods) here; production code uses only reconciler, fleet and stop()."""

    reconciler: Reconciler  # one object, on a watch event or in the cycle
    fleet: Fleet  # every object, every --interval
    history: HistoryCache  # forecasts, refreshed in the background
    calibration: CalibrationCache  # measured inputs, refreshed in the background
    calendars: CalendarCache
    busy_pods: BusyPodRanker

    def stop(self) -> None:
        """Stop what the assembly started: the background refreshes."""
        self.history.stop()
        self.calibration.stop()


@dataclass(frozen=True)
class Tuning:
    """The run flags the service reads (cli/run.py; defaults are the flags')."""

    identity: str = "voicecap-operator"  # which replica writes (Events' reportingInstance)
    prometheus_failure_grace: float = 30.0  # seconds a failed session query keeps its answer
    hpa_metric_grace: timedelta = timedelta(seconds=45)
    concurrency: int = 16  # reconciles in flight: no more than the API client's pool
    runbooks: str = RUNBOOKS  # where the alerts' runbook_url points (--runbook-base-url)


def assemble(
    *,
    kube: Kube,
    world: World,
    sessions: SessionMetrics,
    history: History,
    calibrations: Calibrations,
    metrics: OperatorMetrics,
    clock: Clock,
    tuning: Tuning | None = None,
    retries: RetryBook | None = None,
) -> Service:
    """`retries`: a RetryBook with another backoff than the default's (1 s doubling to 300 s)."""
    tuning = tuning or Tuning()
    retries = retries or RetryBook()
    session_cache = SessionCache(sessions, clock, metrics, grace=tuning.prometheus_failure_grace)
    history_cache = HistoryCache(history, clock, metrics)
    calibration = CalibrationCache(calibrations, clock, metrics)
    writer = ChildWriter(kube, metrics, identity=tuning.identity, runbooks=tuning.runbooks)
    book = TokenBook()
    calendars = CalendarCache(kube)
    tenant_caps = TenantCapsCache(kube)
    busy_pods = BusyPodRanker(kube, world, session_cache, writer, clock)
    reports = ActedReports(tuning.hpa_metric_grace)
    observer = Observer(
        world=world,
        sessions=session_cache,
        history=history_cache,
        calibration=calibration,
        calendars=calendars,
        tenant_caps=tenant_caps,
        book=book,
        reports=reports,
    )
    applier = ChildApplier(
        world=world, book=book, busy_pods=busy_pods, writer=writer, metrics=metrics
    )
    reconciler = Reconciler(
        world=world,
        observer=observer,
        applier=applier,
        writer=writer,
        book=book,
        retries=retries,
        metrics=metrics,
        clock=clock,
        api_answered=lambda: kube.answered,
        concurrency=tuning.concurrency,
    )
    fleet = Fleet(
        world=world,
        book=book,
        sessions=session_cache,
        history=history_cache,
        calibration=calibration,
        calendars=calendars,
        reconciler=reconciler,
        retries=retries,
        budgets=BudgetReporter(book=book, writer=writer, metrics=metrics, clock=clock),
        admission=AdmissionPublisher(kube),
        busy_pods=busy_pods,
        # Every cache keyed by VoiceCapacity: a deleted object leaves nothing in any of them.
        forgetting=(
            reconciler,
            reports,
            writer,
            retries,
            book,
            history_cache,
            calibration,
            calendars,
            tenant_caps,
            busy_pods,
            metrics.plans,
        ),
        metrics=metrics,
        api_answered=lambda: kube.answered,
        concurrency=tuning.concurrency,
    )
    return Service(reconciler, fleet, history_cache, calibration, calendars, busy_pods)
