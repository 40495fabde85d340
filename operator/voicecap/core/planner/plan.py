"""plan = f(spec, observation, memory, now): one vertical's floor and ceiling, with reasons.

No I/O, no clock, no environment. `memory` is what the previous evaluation decided (kept in the
object's status by the operator), so that the rules which span time (scale-down stabilization,
sustained headroom, holding the last known floor through an outage) survive restarts.

The math is docs/api.md "Semantics":
    plannedPerPod   = perPod x targetUtilization
    sessionReplicas = ceil(active / plannedPerPod), held inside the HPA's 10 % tolerance
                      (Erlang B pods with blockingTarget)
    peakFloor       = ceil(factor x calls(now) / perPod)   inside [start - lead, end), where
                      calls(now) follows the window's forecast shape leadTime ahead
                      (core/planner/peak_floor.py)
    headroomFloor   = fewest pods with utilization < warning           (ScaleUp, sustained)
    ceiling         = min(replicas.max, ceil(floor(grantedTPM / tokensPerSessionMinute) / perPod),
                          ceil(admission.maxSessions / perPod)), never below replicas.min
    floor           = clamp(max(min, sessionReplicas*, peakFloor, headroomFloor, outageHold),
                            min, ceiling)
then never lower than the highest floor within scaleDown.stabilization. *sessionReplicas only
while the HPA cannot read its metric (or has not said), or with blockingTarget.

plan() runs the stages of core/planner/stages.py in order (judge the sessions, the demand floors,
the bounds, the pressure on them, the clamp, the report, the next memory); the Plan holds what they
returned, and its reasons in the order they gave them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from voicecap.api.models import Peak, VoiceCapacity
from voicecap.core.peaks.calendar import CalendarReport
from voicecap.core.peaks.forecast import PeakForecast
from voicecap.core.peaks.scorecard import Scorecard
from voicecap.core.peaks.windows import next_start
from voicecap.core.planner import stages
from voicecap.core.planner.ceilings import AdmissionLimit, CeilingSource, TokenPlan
from voicecap.core.planner.headroom import CeilingVerdict, Level
from voicecap.core.planner.observation import Memory, Observation, SessionsState
from voicecap.core.planner.peak_floor import PeakTerm
from voicecap.core.planner.pod_fit import PodFit
from voicecap.core.planner.usage import Sizing

Mode = Literal["Normal", "Peak", "Degraded", "Paused"]


@dataclass(frozen=True)
class Plan:
    namespace: str
    name: str
    vertical: str
    per_pod: int
    mode: Mode
    floor: int
    ceiling: int
    wanted: int  # the floor before the ceiling clamps it
    ceiling_source: CeilingSource
    session_replicas: int | None
    peak_floor: int | None
    headroom_floor: int | None
    outage_hold: int | None
    active_peak: str | None
    next_peak: tuple[str, datetime] | None
    sessions: float | None  # last known
    sessions_state: SessionsState
    ready_replicas: int | None
    capacity: int | None
    utilization: float | None
    utilization_basis: Literal["ReadyReplicas", "Floor"]
    headroom_level: Level
    headroom_now: Level
    tpm: TokenPlan
    ceiling_sessions: int  # the calls the ceiling can carry (the planning signal's denominator)
    near_ceiling: CeilingVerdict
    sizing: Sizing
    reasons: Mapping[str, str]
    admission: AdmissionLimit | None
    admission_bound: AdmissionLimit | None  # at most this whatever the pods (TPM, maxSessions)
    peaks: tuple[Peak, ...]
    forecasts: tuple[PeakForecast, ...]  # in peak order
    burst_factor: float | None
    calendars: CalendarReport
    # Per peak: excluded days on which its schedule would open before its next window opens.
    skipped: Mapping[str, tuple[date, ...]]
    pod_fit: PodFit | None  # the target's requests against perPod calls (None: not comparable)
    memory: Memory

    @property
    def capacity_limited(self) -> bool:
        return self.wanted > self.ceiling

    @property
    def scorecards(self) -> tuple[Scorecard, ...]:
        return self.memory.scorecards

    @property
    def over_capacity(self) -> bool:
        """More live calls than the ready pods carry at perPod (0 ready pods and any call)."""
        ready = self.ready_replicas
        return (
            self.sessions_state == "Known"
            and ready is not None
            and (self.sessions or 0) > ready * self.per_pod
        )

    @property
    def sessions_known(self) -> bool:
        return self.sessions_state == "Known"


def plan(
    capacity: VoiceCapacity,
    observation: Observation,
    now: datetime,
    memory: Memory | None = None,
) -> Plan:
    """The plan, stage by stage (core/planner/stages.py): each reads what those before returned."""
    memory = memory or Memory()
    spec = capacity.spec
    given = stages.Given(capacity, observation, memory, now)
    judged = stages.judge(given)
    sessions = judged.value
    wants = stages.demand(given, sessions=sessions)
    limits = stages.bounds(given, sessions=sessions)
    felt = stages.pressure(given, sessions=sessions, limits=limits)
    clamped = stages.clamp(given, sessions=sessions, wants=wants, limits=limits, felt=felt)
    told = stages.report(given, sessions=sessions, wants=wants, limits=limits, floor=clamped.floor)
    upcoming = next_start(spec.peaks, now)
    ceiling, source = limits.ceiling.value
    utilization = told.utilization.value
    reasons = {  # in the order the stages give them; a stage with nothing to say is left out
        key: reason
        for key, reason in (
            ("sessions", judged.reason),
            ("sessionReplicas", wants.session_replicas.reason),
            ("peakFloor", wants.peak.reason if wants.peak else None),
            ("tpm", limits.tpm.reason),
            ("ceiling", limits.ceiling.reason),
            ("headroomFloor", clamped.headroom_floor.reason),
            ("outageHold", clamped.outage_hold.reason),
            ("floor", clamped.reason),
            ("utilization", told.utilization.reason),
        )
        if reason is not None
    }
    return Plan(
        namespace=capacity.namespace,
        name=capacity.metadata.name,
        vertical=capacity.vertical,
        per_pod=spec.sessions.per_pod,
        mode=_mode(capacity, known=sessions.active is not None, peak=wants.peak),
        floor=clamped.floor,
        ceiling=ceiling,
        wanted=clamped.wanted,
        ceiling_source=source,
        session_replicas=wants.session_replicas.value,
        peak_floor=wants.peak.floor if wants.peak else None,
        headroom_floor=clamped.headroom_floor.value,
        outage_hold=clamped.outage_hold.value,
        active_peak=wants.peak.peak if wants.peak else None,
        next_peak=(upcoming[0].name, upcoming[1]) if upcoming else None,
        sessions=sessions.last_known,
        sessions_state=sessions.state,
        ready_replicas=observation.ready_replicas,
        capacity=utilization.capacity,
        utilization=utilization.ratio,
        utilization_basis=utilization.basis,
        headroom_level=felt.headroom.level,
        headroom_now=felt.headroom.instantaneous,
        tpm=limits.tpm.value,
        ceiling_sessions=limits.ceiling_sessions,
        near_ceiling=felt.near_ceiling,
        sizing=told.sizing,
        reasons=reasons,
        admission=told.admission,
        admission_bound=told.admission_bound,
        peaks=tuple(spec.peaks),
        forecasts=told.forecasts,
        burst_factor=told.burst_factor,
        calendars=observation.calendars,
        skipped=told.skipped,
        pod_fit=told.pod_fit,
        memory=stages.remember(
            given, sessions=sessions, wants=wants, felt=felt, clamped=clamped, told=told
        ),
    )


def _mode(capacity: VoiceCapacity, *, known: bool, peak: PeakTerm | None) -> Mode:
    """Paused over Degraded over Peak: what an SRE most needs to know comes first."""
    if capacity.spec.paused:
        return "Paused"
    if not known:
        return "Degraded"
    return "Peak" if peak is not None else "Normal"
