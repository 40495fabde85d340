"""The stages of a plan, in the order core/planner/plan.py runs them. Each is a pure function of
what the stages before it returned; each returns its values with their reasons
(core/planner/reasoned.py), and nothing writes into anything shared."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from voicecap.api.models import VoiceCapacity
from voicecap.core.numbers import num
from voicecap.core.peaks import forecast
from voicecap.core.peaks.forecast import PeakForecast
from voicecap.core.peaks.scorecard import Scorecard, score
from voicecap.core.peaks.windows import skipped_before_next
from voicecap.core.planner import ceilings, floors, headroom, peak_floor, usage
from voicecap.core.planner.ceilings import AdmissionLimit, CeilingSource, TokenPlan
from voicecap.core.planner.headroom import CeilingVerdict, HeadroomVerdict
from voicecap.core.planner.observation import Memory, Observation, SessionsState, judge_sessions
from voicecap.core.planner.peak_floor import PeakTerm
from voicecap.core.planner.pod_fit import PodFit, pod_fit
from voicecap.core.planner.readiness import track
from voicecap.core.planner.reasoned import Reasoned
from voicecap.core.planner.stabilization import Recommendation, stabilize
from voicecap.core.planner.usage import Sizing, Utilization
from voicecap.core.sizing import pods_for_sessions


@dataclass(frozen=True)
class Given:
    """What every stage reads: the spec, what was observed, the last memory, the moment."""

    capacity: VoiceCapacity
    observation: Observation
    memory: Memory
    now: datetime


@dataclass(frozen=True)
class Sessions:
    active: float | None  # known now
    state: SessionsState
    last_known: float | None  # now, or as last known


def judge(given: Given) -> Reasoned[Sessions]:
    """Judge the sessions: known (finite, fresh) or why not, and the last known calls."""
    capacity, observation, memory, now = given.capacity, given.observation, given.memory, given.now
    active, state = judge_sessions(
        observation,
        max_staleness_seconds=capacity.spec.metrics_outage.max_staleness.total_seconds(),
        now=now,
    )
    last_known = active if active is not None else memory.sessions
    if active is not None:
        reason = f"{num(active)} active"
    else:
        why = f"{state}: {observation.detail}" if observation.detail else state
        reason = (
            f"unknown ({why}); last known {num(last_known)}"
            if last_known is not None
            else f"unknown ({why}); never known"
        )
    return Reasoned(Sessions(active, state, last_known), reason)


@dataclass(frozen=True)
class Demand:
    session_replicas: Reasoned[int | None]
    peak: PeakTerm | None
    forecasts: dict[str, PeakForecast]  # by peak name: fresh, else kept from status


def demand(given: Given, *, sessions: Sessions) -> Demand:
    """The demand floors: the pods live calls need, and the raised peak window's floor."""
    capacity, observation, memory, now = given.capacity, given.observation, given.memory, given.now
    names = {peak.name for peak in capacity.spec.peaks}
    kept = forecast.with_kept(observation.history.forecasts, memory.forecasts)
    forecasts = {name: value for name, value in kept.items() if name in names}
    return Demand(
        floors.session_replicas(capacity, sessions.active, memory.session_replicas),
        peak_floor.peak_term(
            capacity, forecasts=forecasts, last_known=sessions.last_known, now=now
        ),
        forecasts,
    )


@dataclass(frozen=True)
class Bounds:
    tpm: Reasoned[TokenPlan]
    ceiling: Reasoned[tuple[int, CeilingSource]]
    fixed: int | None  # admission.maxSessions
    ceiling_sessions: int  # the calls the ceiling carries: the planning signal's denominator


def bounds(given: Given, *, sessions: Sessions) -> Bounds:
    """The ceiling: replicas.max, the TPM grant and admission.maxSessions, never below min."""
    capacity, observation = given.capacity, given.observation
    spec = capacity.spec
    per_pod = spec.sessions.per_pod
    tpm = ceilings.token_plan(capacity, observation.granted_tpm, sessions.last_known)
    fixed = spec.admission.max_sessions
    fixed_pods = pods_for_sessions(fixed, per_pod) if fixed is not None else None
    ceiling = ceilings.ceiling_of(spec.replicas.min, spec.replicas.max, tpm.value.pods, fixed_pods)
    carried = ceiling.value[0] * per_pod
    for bound in (tpm.value.ceiling_sessions, fixed):
        if bound is not None:
            carried = min(carried, bound)
    return Bounds(tpm, ceiling, fixed, carried)


@dataclass(frozen=True)
class Pressure:
    headroom: HeadroomVerdict
    near_ceiling: CeilingVerdict


def pressure(given: Given, *, sessions: Sessions, limits: Bounds) -> Pressure:
    """How close the calls are to the ready pods and to the ceiling, each sustained."""
    observation, memory, now = given.observation, given.memory, given.now
    spec = given.capacity.spec
    active = sessions.active
    verdict = headroom.evaluate(
        floors.headroom_utilization(active, observation.ready_replicas, spec.sessions.per_pod),
        warning=spec.headroom.warning,
        critical=spec.headroom.critical,
        sustain=spec.headroom.for_,
        previous=memory.headroom,
        now=now,
    )
    carried = limits.ceiling_sessions
    near = headroom.near_ceiling(
        active / carried if active is not None and carried > 0 else None,
        threshold=spec.headroom.ceiling_warning,
        sustain=spec.headroom.for_,
        previous=memory.headroom.near_ceiling_since,
        now=now,
    )
    return Pressure(verdict, near)


@dataclass(frozen=True)
class Clamped:
    headroom_floor: Reasoned[int | None]
    outage_hold: Reasoned[int | None]
    wanted: int  # the largest demand, before the ceiling
    floor: int
    recommendations: tuple[Recommendation, ...]
    reason: str


def clamp(
    given: Given, *, sessions: Sessions, wants: Demand, limits: Bounds, felt: Pressure
) -> Clamped:
    """The floor: the largest demand, clamped to the ceiling and stabilized on the way down."""
    capacity, observation, memory, now = given.capacity, given.observation, given.memory, given.now
    spec = capacity.spec
    blocking = spec.sessions.blocking_target
    room = floors.headroom_floor(capacity, sessions.active, felt.headroom.level)
    # The ready pods count only where the floor becomes the HPA's maxReplicas: while the HPA
    # says it cannot read its metric (core/apply/autoscaler.py).
    blind_ready = observation.ready_replicas if observation.hpa_scaling is False else None
    hold = floors.outage_hold(capacity, sessions.active, memory, blind_ready)
    candidates = {
        "min": spec.replicas.min,
        # The HPA follows live calls itself, with its own tolerance; the floor repeating it
        # would move (and write) with every wobble of the calls. It carries them only while the
        # HPA cannot read its metric, or has not said that it can, and with a blocking target,
        # whose Erlang B sizing no per-pod HPA target can express (the HPA is the backstop).
        "sessions": wants.session_replicas.value
        if observation.hpa_scaling is not True or blocking is not None
        else None,
        "peak": wants.peak.floor if wants.peak else None,
        "headroom": room.value,
        "hold": hold.value,
    }
    wanted = max(value for value in candidates.values() if value is not None)
    ceiling = limits.ceiling.value
    desired = min(wanted, ceiling[0])
    stabilized, recommendations = stabilize(
        desired, memory.recommendations, window=spec.scale_down.stabilization, now=now
    )
    floor = min(stabilized, ceiling[0])
    reason = floors.floor_reason(
        candidates, wanted, ceiling, desired=desired, floor=floor, spec=spec
    )
    return Clamped(room, hold, wanted, floor, recommendations, reason)


@dataclass(frozen=True)
class Report:
    utilization: Reasoned[Utilization]
    admission: AdmissionLimit | None
    admission_bound: AdmissionLimit | None
    sizing: Sizing
    pod_fit: PodFit | None
    forecasts: tuple[PeakForecast, ...]  # one per peak, in peak order
    scorecards: tuple[Scorecard, ...]
    burst_factor: float | None
    skipped: dict[str, tuple[date, ...]]


def report(
    given: Given, *, sessions: Sessions, wants: Demand, limits: Bounds, floor: int
) -> Report:
    """What to report: utilization, admission, sizing, and each peak's forecast and scorecard."""
    capacity, observation, memory, now = given.capacity, given.observation, given.memory, given.now
    spec = capacity.spec
    per_pod = spec.sessions.per_pod
    ready = observation.ready_replicas
    active, last_known = sessions.active, sessions.last_known
    history = observation.history
    sized = usage.resources_at(capacity, floor)
    tpm = limits.tpm.value
    return Report(
        utilization=usage.reported_utilization(last_known, ready, floor, per_pod),
        admission=ceilings.admission_limit(
            active, ready, per_pod, tpm.ceiling_sessions, limits.fixed
        ),
        admission_bound=ceilings.admission_bound(
            tpm, spec.model.tokens_per_session_minute if spec.model else None, limits.fixed
        ),
        sizing=sized,
        pod_fit=pod_fit(sized.cpu_per_pod, sized.memory_per_pod, observation.pod_requests, per_pod),
        forecasts=tuple(  # one entry per peak, Pending until its first refresh
            wants.forecasts.get(peak.name)
            or PeakForecast(peak.name, quantile=spec.forecast.quantile)
            for peak in spec.peaks
        ),
        scorecards=score(
            spec.peaks,
            memory.scorecards,
            now=now,
            baselines={
                peak.name: peak_floor.peak_baseline(peak, wants.forecasts, last_known)
                for peak in spec.peaks
            },
            over_capacity=active is not None and ready is not None and active > ready * per_pod,
            actuals=history.actuals,
            floor=floor,
            ready=ready,
        ),
        burst_factor=history.burst_factor if history.burst_known else memory.burst_factor,
        skipped={
            peak.name: tuple(days)
            for peak in spec.peaks
            if peak.exclude and (days := skipped_before_next(peak, now))
        },
    )


def remember(
    given: Given,
    *,
    sessions: Sessions,
    wants: Demand,
    felt: Pressure,
    clamped: Clamped,
    told: Report,
) -> Memory:
    """The next memory: what the next evaluation needs of this one (kept in status)."""
    observation, memory, now = given.observation, given.memory, given.now
    held = wants.session_replicas.value
    return Memory(
        floor=clamped.floor,
        session_replicas=held if held is not None else memory.session_replicas,
        sessions=sessions.last_known,
        sessions_at=(observation.sampled_at or now)
        if sessions.active is not None
        else memory.sessions_at,
        headroom=replace(felt.headroom.state, near_ceiling_since=felt.near_ceiling.since),
        recommendations=clamped.recommendations,
        forecasts=told.forecasts,
        burst_factor=told.burst_factor,
        scorecards=told.scorecards,
        readiness=track(
            memory.readiness,
            last_floor=memory.floor,
            floor=clamped.floor,
            ready=observation.ready_replicas,
            now=now,
        ),
    )
