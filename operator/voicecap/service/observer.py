"""The observe step of a reconcile: everything one VoiceCapacity's plan reads, gathered from the
watch caches, the cycle's session snapshot, the forecasts, the holiday calendars and the token
book. No API request on a steady cycle (calendars are read at most once a minute, shared).

It records two things as it observes, and says so in its names: the HPA report each object's
reconcile acts on (`ActedReports.settle`, so a metric blip keeps the last one), and the TPM grant
the reconcile may put in effect (`TokenBook.take` holds it before anything is written).
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from voicecap.adapters import children
from voicecap.adapters.objects import LiveChild
from voicecap.api.models import VoiceCapacity
from voicecap.core.apply.autoscaler import HPAReport, settled
from voicecap.core.planner.observation import Observation
from voicecap.service.calendars import CalendarCache
from voicecap.service.calibration import CalibrationCache
from voicecap.service.history import HistoryCache
from voicecap.service.sessions import SessionCache, session_source
from voicecap.service.tenant_caps import TenantCapsCache
from voicecap.service.token_book import TokenBook
from voicecap.service.world import World


@dataclass(frozen=True)
class Observed:
    """What one reconcile saw."""

    capacity: VoiceCapacity  # with its holiday calendars merged into its peaks
    observation: Observation
    hpa: LiveChild | None  # the owned HPA as the watch cache has it
    report: HPAReport | None  # its report as acted on (a metric blip left out)


class ActedReports:
    """The HPA report each object's last reconcile acted on: a metric loss younger than the
    grace keeps the last report's conditions (core/apply/autoscaler.settled)."""

    def __init__(self, grace: timedelta) -> None:
        self._grace = grace
        self._acted: dict[str, HPAReport] = {}

    def settle(self, key: str, live: LiveChild | None) -> HPAReport | None:
        """The report to act on now, recorded as acted on. The HPA stamps its conditions in real
        time, whatever the operator's Clock says (a compressed demo clock included)."""
        report = settled(
            live.hpa if live is not None else None,
            self._acted.get(key),
            now=datetime.now(UTC),
            grace=self._grace,
        )
        if report is None:
            self._acted.pop(key, None)
        else:
            self._acted[key] = report
        return report

    def forget_except(self, keys: Set[str]) -> None:
        """Forgets deleted objects' reports (service/ports.Forgetting)."""
        for key in set(self._acted) - keys:
            del self._acted[key]


class Observer:
    """Gathers what one VoiceCapacity's plan reads. Not for the fleet-wide refreshes (the
    session query, the forecasts): the fleet cycle runs those once for everyone."""

    def __init__(
        self,
        *,
        world: World,
        sessions: SessionCache,
        history: HistoryCache,
        calibration: CalibrationCache,
        calendars: CalendarCache,
        tenant_caps: TenantCapsCache,
        book: TokenBook,
        reports: ActedReports,
    ) -> None:
        self._world = world
        self._sessions = sessions
        self._history = history
        self._calibration = calibration
        self._calendars = calendars
        self._tenant_caps = tenant_caps
        self._book = book
        self._reports = reports

    async def observe(self, capacity: VoiceCapacity) -> Observed:
        """What this reconcile sees; settles the HPA report and takes the TPM grant."""
        world, book = self._world, self._book
        if book.is_stale(capacity):  # a reservation new or changed since the cycle allocated
            valid = [e.capacity for e in world.capacities() if e.capacity is not None]
            book.refresh(valid, world.budgets())
        resolved = await self._calendars.resolve(capacity)  # holidays merged into the peaks
        capacity = resolved.capacity
        target = capacity.spec.target_ref
        live = world.hpa(capacity.namespace, children.hpa_name(capacity))
        report = self._reports.settle(capacity.key, live)
        observation = replace(
            await self._sessions.observation(session_source(capacity)),
            hpa_scaling=report.scaling_on_metric if report is not None else None,
            ready_replicas=world.ready_replicas(capacity.namespace, target.kind, target.name),
            granted_tpm=book.take(capacity, seed=world.capacities),
            history=self._history.view(capacity),
            calendars=resolved.report,
            tenant_caps=await self._tenant_caps.read(capacity),
            pod_requests=world.pod_requests(capacity.namespace, target.kind, target.name),
            calibration=self._calibration.view(capacity),
        )
        return Observed(capacity, observation, live, report)
