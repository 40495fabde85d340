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
                      (core/peak_sizing.py)
    headroomFloor   = fewest pods with utilization < warning           (ScaleUp, sustained)
    ceiling         = min(replicas.max, ceil(floor(grantedTPM / tokensPerSessionMinute) / perPod))
    floor           = clamp(max(min, sessionReplicas*, peakFloor, headroomFloor, outageHold),
                            min, ceiling)
then never lower than the highest floor within scaleDown.stabilization. *sessionReplicas only
while the HPA cannot read its metric (or has not said), or with blockingTarget.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal

from voicecap.api.models import Peak, VoiceCapacity
from voicecap.core import forecast, headroom, peak_sizing, sizing, terms
from voicecap.core.calendar import CalendarReport
from voicecap.core.forecast import PeakForecast, Scorecard
from voicecap.core.headroom import CeilingVerdict, Level
from voicecap.core.numbers import num
from voicecap.core.observation import Memory, Observation, SessionsState, judge_sessions
from voicecap.core.peaks import next_start, skipped_before_next
from voicecap.core.pod_fit import PodFit, pod_fit
from voicecap.core.readiness import track
from voicecap.core.stabilization import stabilize
from voicecap.core.terms import AdmissionLimit, CeilingSource, Sizing, TokenPlan

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
    memory = memory or Memory()
    spec = capacity.spec
    per_pod = spec.sessions.per_pod
    minimum = spec.replicas.min
    reasons: dict[str, str] = {}

    active, state = judge_sessions(
        observation,
        max_staleness_seconds=spec.metrics_outage.max_staleness.total_seconds(),
        now=now,
    )
    last_known = active if active is not None else memory.sessions
    reasons["sessions"] = _sessions_reason(active, state, last_known, observation.detail)

    session_replicas = None
    blocking = spec.sessions.blocking_target
    if active is not None:
        session_replicas = sizing.tolerant_session_replicas(
            active,
            memory.session_replicas,
            per_pod,
            spec.sessions.target_utilization,
            blocking=blocking,
        )
        if blocking is not None:
            slots = sizing.slots_for_blocking(active, blocking)
            reasons["sessionReplicas"] = (
                f"Erlang B: {slots} slots carry {num(active)} calls at {num(blocking)} blocking "
                f"= {session_replicas} pods of {per_pod}"
            )
        else:
            target = spec.sessions.target_utilization
            planned = sizing.planned_per_pod(per_pod, target)
            reasons["sessionReplicas"] = (
                f"ceil({num(active)} / {num(planned)} planned per pod) = {session_replicas}"
                if session_replicas == sizing.session_replicas(active, per_pod, target)
                else f"{session_replicas}, held: {num(active)} calls are within the HPA's "
                f"tolerance of {num(planned)} per pod"
            )

    history = observation.history
    peak_names = {peak.name for peak in spec.peaks}
    kept = forecast.with_kept(history.forecasts, memory.forecasts)
    forecasts = {name: value for name, value in kept.items() if name in peak_names}
    peak = peak_sizing.peak_term(capacity, forecasts=forecasts, last_known=last_known, now=now)
    peak_floor, active_peak = (peak.floor, peak.peak) if peak else (None, None)
    if peak is not None:
        reasons["peakFloor"] = peak.reason
    tpm, tpm_pods = terms.token_plan(capacity, observation.granted_tpm, last_known, reasons)
    fixed = spec.admission.max_sessions
    fixed_pods = sizing.pods_for_sessions(fixed, per_pod) if fixed is not None else None
    ceiling, ceiling_source = terms.ceiling_of(
        minimum, spec.replicas.max, tpm_pods, fixed_pods, reasons
    )

    verdict = headroom.evaluate(
        terms.headroom_utilization(active, observation.ready_replicas, per_pod),
        warning=spec.headroom.warning,
        critical=spec.headroom.critical,
        sustain=spec.headroom.for_,
        previous=memory.headroom,
        now=now,
    )
    ceiling_sessions = ceiling * per_pod
    for bound in (tpm.ceiling_sessions, fixed):
        if bound is not None:
            ceiling_sessions = min(ceiling_sessions, bound)
    near = headroom.near_ceiling(
        active / ceiling_sessions if active is not None and ceiling_sessions > 0 else None,
        threshold=spec.headroom.ceiling_warning,
        sustain=spec.headroom.for_,
        previous=memory.headroom.near_ceiling_since,
        now=now,
    )
    candidates = {
        "min": minimum,
        # The HPA follows live calls itself, with its own tolerance; the floor repeating it
        # would move (and write) with every wobble of the calls. It carries them only while the
        # HPA cannot read its metric, or has not said that it can, and with a blocking target,
        # whose Erlang B sizing no per-pod HPA target can express (the HPA is the backstop).
        "sessions": session_replicas
        if observation.hpa_scaling is not True or blocking is not None
        else None,
        "peak": peak_floor,
        "headroom": terms.headroom_floor(capacity, active, verdict.level, reasons),
        # The ready pods count only where the floor becomes the HPA's maxReplicas: while the
        # HPA says it cannot read its metric (core/autoscaler.py).
        "hold": terms.outage_hold(
            capacity,
            active,
            memory,
            observation.ready_replicas if observation.hpa_scaling is False else None,
            reasons,
        ),
    }
    wanted = max(value for value in candidates.values() if value is not None)
    desired = min(wanted, ceiling)
    stabilized, recommendations = stabilize(
        desired, memory.recommendations, window=spec.scale_down.stabilization, now=now
    )
    floor = min(stabilized, ceiling)
    reasons["floor"] = terms.floor_reason(
        candidates, wanted, (ceiling, ceiling_source), desired=desired, floor=floor, spec=spec
    )
    capacity_sessions, utilization, basis = terms.reported_utilization(
        last_known, observation.ready_replicas, floor, per_pod, reasons
    )
    upcoming = next_start(spec.peaks, now)
    ready = observation.ready_replicas
    scorecards = forecast.score(
        spec.peaks,
        memory.scorecards,
        now=now,
        baselines={
            peak.name: peak_sizing.peak_baseline(peak, forecasts, last_known) for peak in spec.peaks
        },
        over_capacity=active is not None and ready is not None and active > ready * per_pod,
        actuals=history.actuals,
        floor=floor,
        ready=ready,
    )
    readiness = track(memory.readiness, last_floor=memory.floor, floor=floor, ready=ready, now=now)
    burst = history.burst_factor if history.burst_known else memory.burst_factor
    sized = terms.resources_at(capacity, floor)
    every_peak = tuple(  # one entry per peak, Pending until its first refresh
        forecasts.get(peak.name) or PeakForecast(peak.name, quantile=spec.forecast.quantile)
        for peak in spec.peaks
    )

    return Plan(
        namespace=capacity.namespace,
        name=capacity.metadata.name,
        vertical=capacity.vertical,
        per_pod=per_pod,
        mode=_mode(capacity, known=active is not None, active_peak=active_peak),
        floor=floor,
        ceiling=ceiling,
        wanted=wanted,
        ceiling_source=ceiling_source,
        session_replicas=session_replicas,
        peak_floor=peak_floor,
        headroom_floor=candidates["headroom"],
        outage_hold=candidates["hold"],
        active_peak=active_peak,
        next_peak=(upcoming[0].name, upcoming[1]) if upcoming else None,
        sessions=last_known,
        sessions_state=state,
        ready_replicas=observation.ready_replicas,
        capacity=capacity_sessions,
        utilization=utilization,
        utilization_basis=basis,
        headroom_level=verdict.level,
        headroom_now=verdict.instantaneous,
        tpm=tpm,
        ceiling_sessions=ceiling_sessions,
        near_ceiling=near,
        sizing=sized,
        reasons=reasons,
        admission=terms.admission_limit(active, ready, per_pod, tpm.ceiling_sessions, fixed),
        admission_bound=terms.admission_bound(
            tpm, spec.model.tokens_per_session_minute if spec.model else None, fixed
        ),
        peaks=tuple(spec.peaks),
        forecasts=every_peak,
        burst_factor=burst,
        calendars=observation.calendars,
        skipped={
            peak.name: tuple(days)
            for peak in spec.peaks
            if peak.exclude and (days := skipped_before_next(peak, now))
        },
        pod_fit=pod_fit(sized.cpu_per_pod, sized.memory_per_pod, observation.pod_requests, per_pod),
        memory=Memory(
            floor=floor,
            session_replicas=session_replicas
            if session_replicas is not None
            else memory.session_replicas,
            sessions=last_known,
            sessions_at=(observation.sampled_at or now)
            if active is not None
            else memory.sessions_at,
            headroom=replace(verdict.state, near_ceiling_since=near.since),
            recommendations=recommendations,
            forecasts=every_peak,
            burst_factor=burst,
            scorecards=scorecards,
            readiness=readiness,
        ),
    )


def _sessions_reason(
    active: float | None, state: SessionsState, last_known: float | None, detail: str | None
) -> str:
    if active is not None:
        return f"{num(active)} active"
    why = f"{state}: {detail}" if detail else state
    if last_known is not None:
        return f"unknown ({why}); last known {num(last_known)}"
    return f"unknown ({why}); never known"


def _mode(capacity: VoiceCapacity, *, known: bool, active_peak: str | None) -> Mode:
    """Paused over Degraded over Peak: what an SRE most needs to know comes first."""
    if capacity.spec.paused:
        return "Paused"
    if not known:
        return "Degraded"
    return "Peak" if active_peak is not None else "Normal"
