"""The stages of a plan, in the order core/planner/plan.py runs them:

    judge     the live calls: known (finite, fresh) or why not
    bounds    the ceiling: replicas.max, the TPM grant, admission.maxSessions
    pressure  how close the calls are to the ready pods and to the ceiling, each sustained
    floors    every floor candidate (core/planner/floor_rules.py)
    clamp     the largest candidate, under the ceiling, held on the way down
    report    utilization, admission, sizing, each peak's forecast and scorecard
    remember  what the next evaluation needs of this one

Each is a pure function of what the stages before it returned (core/planner/records.py), and
returns its values with their reasons; nothing writes into anything shared."""

from __future__ import annotations

from dataclasses import replace

from voicecap.core.numbers import num
from voicecap.core.peaks.forecast import PeakForecast
from voicecap.core.peaks.scorecard import score
from voicecap.core.peaks.windows import skipped_before_next
from voicecap.core.planner import ceilings, floor_rules, headroom, latency, peak_floor, usage
from voicecap.core.planner.observation import Memory, judge_sessions
from voicecap.core.planner.pod_fit import pod_fit
from voicecap.core.planner.readiness import track
from voicecap.core.planner.reasoned import Reasoned
from voicecap.core.planner.records import (
    Bounds,
    Clamped,
    Floors,
    Given,
    JudgedSessions,
    Pressure,
    Report,
)
from voicecap.core.planner.stabilization import stabilize
from voicecap.core.planner.tiers import tiers
from voicecap.core.sizing import pods_for_sessions


def judge(given: Given) -> Reasoned[JudgedSessions]:
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
    return Reasoned(JudgedSessions(active, state, last_known), reason)


def bounds(given: Given, *, judged: JudgedSessions) -> Bounds:
    """The ceiling: replicas.max, the TPM grant and admission.maxSessions, never below min."""
    spec = given.capacity.spec
    per_pod = given.per_pod.value
    estimate = given.calibration.tokens
    tpm = ceilings.token_plan(
        given.capacity,
        given.observation.granted_tpm,
        judged.last_known,
        per_pod=per_pod,
        tokens=given.tokens_per_session_minute,
        measured_tokens=estimate.measured if estimate is not None else None,
    )
    fixed = spec.admission.max_sessions
    fixed_pods = pods_for_sessions(fixed, per_pod) if fixed is not None else None
    ceiling = ceilings.ceiling_of(spec.replicas.min, spec.replicas.max, tpm.value.pods, fixed_pods)
    carried = ceiling.value[0] * per_pod
    for bound in (tpm.value.ceiling_sessions, fixed):
        if bound is not None:
            carried = min(carried, bound)
    return Bounds(tpm, ceiling, fixed, carried)


def pressure(given: Given, *, judged: JudgedSessions, bounds: Bounds) -> Pressure:
    """How close the calls are to the ready pods and to the ceiling, and whether the pods answer
    too slowly; each sustained."""
    observation, memory, now = given.observation, given.memory, given.now
    spec = given.capacity.spec
    active = judged.active
    warning, critical = spec.headroom_levels
    verdict = headroom.evaluate(
        headroom.ready_utilization(active, observation.ready_replicas, given.per_pod.value),
        warning=warning,
        critical=critical,
        sustain=spec.headroom.for_,
        previous=memory.headroom,
        now=now,
    )
    carried = bounds.ceiling_sessions
    near = headroom.near_ceiling(
        active / carried if active is not None and carried > 0 else None,
        threshold=spec.headroom.ceiling_warning,
        sustain=spec.headroom.for_,
        previous=memory.headroom.near_ceiling_since,
        now=now,
    )
    return Pressure(verdict, near, _latency(given), observation.rate_limited)


def _latency(given: Given) -> latency.LatencyVerdict:
    watched = given.capacity.spec.latency
    if watched is None:
        return latency.LatencyVerdict(None, None, latency.LatencyState())
    observation, memory = given.observation, given.memory
    pods = observation.ready_replicas or memory.floor or given.capacity.spec.replicas.min
    return latency.evaluate(
        observation.latency,
        target=watched.target,
        sustain=watched.for_,
        pods=pods,
        previous=memory.latency,
        now=given.now,
    )


def floors(given: Given, *, judged: JudgedSessions, pressure: Pressure) -> Floors:
    """Every floor candidate, each with what it asks for and why (core/planner/floor_rules.py)."""
    return Floors(tuple(rule.term(given, judged, pressure) for rule in floor_rules.FLOOR_RULES))


def clamp(given: Given, *, floors: Floors, bounds: Bounds) -> Clamped:
    """The floor: the largest candidate, clamped to the ceiling and stabilized on the way down."""
    spec = given.capacity.spec
    wanted = floors.wanted
    ceiling = bounds.ceiling.value
    desired = min(wanted, ceiling[0])
    stabilized, recommendations = stabilize(
        desired, given.memory.recommendations, window=spec.scale_down.stabilization, now=given.now
    )
    floor = min(stabilized, ceiling[0])
    reason = floor_rules.floor_reason(
        floors.terms, wanted, ceiling, desired=desired, floor=floor, spec=spec
    )
    return Clamped(wanted, floor, recommendations, reason)


def report(
    given: Given, *, judged: JudgedSessions, bounds: Bounds, pressure: Pressure, floor: int
) -> Report:
    """What to report: utilization, admission, sizing, and each peak's forecast and scorecard."""
    capacity, observation, memory, now = given.capacity, given.observation, given.memory, given.now
    spec = capacity.spec
    per_pod = given.per_pod.value
    ready = observation.ready_replicas
    active, last_known = judged.active, judged.last_known
    history = observation.history
    sized = usage.resources_at(capacity, floor, per_pod, bounds.ceiling.value[0])
    tpm = bounds.tpm.value
    forecasts = given.forecasts
    tokens = given.tokens_per_session_minute
    admitted = ceilings.admission_limit(active, ready, per_pod, tpm.ceiling_sessions, bounds.fixed)
    if pressure.latency.guarding:
        admitted = ceilings.held_by_latency(admitted, active)
    bound = ceilings.admission_bound(tpm, tokens.value if tokens else None, bounds.fixed)
    return Report(
        utilization=usage.reported_utilization(last_known, ready, floor, per_pod),
        admission=admitted,
        # On the bound while ready pods are unknown: what `voicecap plan` can show.
        tiers=tiers(
            capacity, admitted or bound, observation.mean_call_seconds, observation.tenant_caps
        ),
        admission_bound=bound,
        sizing=sized,
        pod_fit=pod_fit(sized, observation.pod_requests, per_pod),
        forecasts=tuple(  # one entry per peak, Pending until its first refresh
            forecasts.get(peak.name) or PeakForecast(peak.name, quantile=spec.forecast.quantile)
            for peak in spec.peaks
        ),
        scorecards=score(
            spec.peaks,
            memory.scorecards,
            now=now,
            baselines={
                peak.name: peak_floor.peak_baseline(peak, forecasts, last_known)
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
    judged: JudgedSessions,
    floors: Floors,
    pressure: Pressure,
    clamped: Clamped,
    report: Report,
) -> Memory:
    """The next memory: what the next evaluation needs of this one (kept in status)."""
    observation, memory, now = given.observation, given.memory, given.now
    held = floors.of(floor_rules.SESSIONS).value
    return Memory(
        floor=clamped.floor,
        session_replicas=held if held is not None else memory.session_replicas,
        sessions=judged.last_known,
        sessions_at=(observation.sampled_at or now)
        if judged.active is not None
        else memory.sessions_at,
        headroom=replace(pressure.headroom.state, near_ceiling_since=pressure.near_ceiling.since),
        latency=pressure.latency.state,
        recommendations=clamped.recommendations,
        forecasts=report.forecasts,
        burst_factor=report.burst_factor,
        scorecards=report.scorecards,
        calibration=given.calibration,
        readiness=track(
            memory.readiness,
            last_floor=memory.floor,
            floor=clamped.floor,
            ready=observation.ready_replicas,
            now=now,
        ),
    )
