"""plan = f(spec, observation, memory, now): one vertical's floor and ceiling, with reasons.

No I/O, no clock, no environment. `memory` is what the previous evaluation decided (kept in the
object's status by the operator), so that the rules which span time (scale-down stabilization,
sustained headroom, holding the last known floor through an outage) survive restarts.

The math is API.md's "Semantics":
    plannedPerPod   = perPod x targetUtilization
    sessionReplicas = ceil(active / plannedPerPod)
    peakFloor       = ceil(factor x ceil(baseline / plannedPerPod))   inside [start - lead, end)
    headroomFloor   = fewest pods with utilization < warning           (ScaleUp, sustained)
    ceiling         = min(replicas.max, ceil(floor(grantedTPM / tokensPerSessionMinute) / perPod))
    floor           = clamp(max(min, sessionReplicas, peakFloor, headroomFloor, outageHold),
                            min, ceiling)
then never lower than the highest floor within scaleDown.stabilization.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from voicecap.api.models import Peak, VoiceCapacity, VoiceCapacitySpec
from voicecap.api.types import format_duration, parse_quantity
from voicecap.core import headroom, sizing
from voicecap.core.headroom import HeadroomState, Level
from voicecap.core.peaks import active_window, next_start
from voicecap.core.stabilization import Recommendation, stabilize

Mode = Literal["Normal", "Peak", "Degraded", "Paused"]
# Why sessions are or are not known. Everything but Known means UNKNOWN, never zero.
SessionsState = Literal[
    "Known",
    "NoData",
    "Stale",
    "InvalidValue",
    "MultipleSeries",
    "PrometheusUnreachable",
    "QueryError",
]
CeilingSource = Literal["MaxReplicas", "TPM", "MinReplicas"]


@dataclass(frozen=True)
class Observation:
    """What was seen this cycle. Adapters fill it; they never decide what a value means."""

    sessions: float | None = None
    sampled_at: datetime | None = None
    failure: SessionsState | None = None  # set when the query gave no usable answer
    ready_replicas: int | None = None
    granted_tpm: int | None = None  # None: no budget grant is known
    forecast: Mapping[str, float] = field(default_factory=dict)  # peak name -> baseline


@dataclass(frozen=True)
class Memory:
    """What the previous evaluation decided."""

    floor: int | None = None
    sessions: float | None = None
    sessions_at: datetime | None = None
    headroom: HeadroomState = field(default_factory=HeadroomState)
    recommendations: tuple[Recommendation, ...] = ()


@dataclass(frozen=True)
class TokenPlan:
    requested: int | None = None
    granted: int | None = None
    projected: int | None = None
    ceiling_sessions: int | None = None


@dataclass(frozen=True)
class Sizing:
    """Resources implied by sessionCost (None where the cost is not declared)."""

    cpu_per_pod: Decimal | None = None
    memory_per_pod: Decimal | None = None
    cpu_at_floor: Decimal | None = None
    memory_at_floor: Decimal | None = None


@dataclass(frozen=True)
class Plan:
    namespace: str
    name: str
    vertical: str
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
    sizing: Sizing
    reasons: Mapping[str, str]
    memory: Memory

    @property
    def capacity_limited(self) -> bool:
        return self.wanted > self.ceiling

    @property
    def sessions_known(self) -> bool:
        return self.sessions_state == "Known"


def judge_sessions(
    observation: Observation, *, max_staleness_seconds: float, now: datetime
) -> tuple[float | None, SessionsState]:
    """Named policies for session data: only a finite, non-negative, fresh number is known."""
    if observation.failure is not None:
        return None, observation.failure
    value = observation.sessions
    if value is None:
        return None, "NoData"
    if not math.isfinite(value) or value < 0:
        return None, "InvalidValue"
    if (
        observation.sampled_at is not None
        and (now - observation.sampled_at).total_seconds() > max_staleness_seconds
    ):
        return None, "Stale"
    return value, "Known"


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
    reasons["sessions"] = _sessions_reason(active, state, last_known)

    session_replicas = None
    if active is not None:
        session_replicas = sizing.session_replicas(
            active, per_pod, spec.sessions.target_utilization
        )
        planned = sizing.planned_per_pod(per_pod, spec.sessions.target_utilization)
        reasons["sessionReplicas"] = (
            f"ceil({_num(active)} / {_num(planned)} planned per pod) = {session_replicas}"
        )

    peak_floor, active_peak = _peak_floor(
        capacity, observation=observation, last_known=last_known, now=now, reasons=reasons
    )
    tpm, tpm_pods = _tokens(capacity, observation.granted_tpm, last_known, reasons)
    ceiling, ceiling_source = _ceiling(minimum, spec.replicas.max, tpm_pods, reasons)

    verdict = headroom.evaluate(
        _headroom_utilization(active, observation.ready_replicas, per_pod),
        warning=spec.headroom.warning,
        critical=spec.headroom.critical,
        sustain=spec.headroom.for_,
        previous=memory.headroom,
        now=now,
    )
    terms = {
        "min": minimum,
        "sessions": session_replicas,
        "peak": peak_floor,
        "headroom": _headroom_floor(capacity, active, verdict.level, reasons),
        "hold": _outage_hold(capacity, active, memory, reasons),
    }
    wanted = max(value for value in terms.values() if value is not None)
    desired = min(wanted, ceiling)
    stabilized, recommendations = stabilize(
        desired, memory.recommendations, window=spec.scale_down.stabilization, now=now
    )
    floor = min(stabilized, ceiling)
    reasons["floor"] = _floor_reason(
        terms, wanted, (ceiling, ceiling_source), desired=desired, floor=floor, spec=spec
    )
    capacity_sessions, utilization, basis = _reported_utilization(
        last_known, observation.ready_replicas, floor, per_pod, reasons
    )
    upcoming = next_start(spec.peaks, now)

    return Plan(
        namespace=capacity.namespace,
        name=capacity.metadata.name,
        vertical=capacity.vertical,
        mode=_mode(capacity, known=active is not None, active_peak=active_peak),
        floor=floor,
        ceiling=ceiling,
        wanted=wanted,
        ceiling_source=ceiling_source,
        session_replicas=session_replicas,
        peak_floor=peak_floor,
        headroom_floor=terms["headroom"],
        outage_hold=terms["hold"],
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
        sizing=_sizing(capacity, floor),
        reasons=reasons,
        memory=Memory(
            floor=floor,
            sessions=last_known,
            sessions_at=(observation.sampled_at or now)
            if active is not None
            else memory.sessions_at,
            headroom=verdict.state,
            recommendations=recommendations,
        ),
    )


def _sessions_reason(active: float | None, state: SessionsState, last_known: float | None) -> str:
    if active is not None:
        return f"{_num(active)} active"
    if last_known is not None:
        return f"unknown ({state}); last known {_num(last_known)}"
    return f"unknown ({state}); never known"


def _mode(capacity: VoiceCapacity, *, known: bool, active_peak: str | None) -> Mode:
    """Paused over Degraded over Peak: what an SRE most needs to know comes first."""
    if capacity.spec.paused:
        return "Paused"
    if not known:
        return "Degraded"
    return "Peak" if active_peak is not None else "Normal"


def _headroom_floor(
    capacity: VoiceCapacity, active: float | None, level: Level, reasons: dict[str, str]
) -> int | None:
    rules = capacity.spec.headroom
    if active is None or rules.action != "ScaleUp" or level == "Normal":
        return None
    floor = sizing.headroom_replicas(active, capacity.spec.sessions.per_pod, rules.warning)
    reasons["headroomFloor"] = (
        f"utilization >= {_num(rules.warning)} for {format_duration(rules.for_)}: "
        f"{floor} pods bring it under"
    )
    return floor


def _outage_hold(
    capacity: VoiceCapacity, active: float | None, memory: Memory, reasons: dict[str, str]
) -> int | None:
    """While sessions are unknown, HoldLastKnown keeps the last floor; Floor lets it settle."""
    if active is not None:
        return None
    if capacity.spec.metrics_outage.mode == "Floor":
        reasons["outageHold"] = "sessions unknown: floor held at max(min, peak floor)"
        return None
    if memory.floor is None:
        reasons["outageHold"] = "sessions unknown and no floor decided yet"
        return None
    reasons["outageHold"] = f"sessions unknown: holding the last floor {memory.floor}"
    return memory.floor


def _reported_utilization(
    last_known: float | None,
    ready: int | None,
    floor: int,
    per_pod: int,
    reasons: dict[str, str],
) -> tuple[int, float | None, Literal["ReadyReplicas", "Floor"]]:
    """Capacity and utilization of the ready pods, or of the floor when ready pods are unknown."""
    basis: Literal["ReadyReplicas", "Floor"] = "ReadyReplicas" if ready is not None else "Floor"
    pods = ready if ready is not None else floor
    capacity = pods * per_pod
    utilization = sizing.utilization(last_known, pods, per_pod) if last_known is not None else None
    reasons["utilization"] = _utilization_reason(last_known, capacity, utilization, basis)
    return capacity, utilization, basis


def _peak_floor(
    capacity: VoiceCapacity,
    *,
    observation: Observation,
    last_known: float | None,
    now: datetime,
    reasons: dict[str, str],
) -> tuple[int | None, str | None]:
    """The largest floor among the windows raised now (list order breaks ties)."""
    minimum = capacity.spec.replicas.min
    per_pod = capacity.spec.sessions.per_pod
    target = capacity.spec.sessions.target_utilization
    best: tuple[int, str, str] | None = None
    for peak in capacity.spec.peaks:
        window = active_window(peak, now)
        if window is None:
            continue
        baseline, source = _baseline(peak, observation, last_known)
        if baseline is None:
            value = math.ceil(sizing.exact(peak.factor) * minimum)
            why = f"ceil({_num(peak.factor)} x min {minimum}) = {value} (no baseline known)"
        else:
            value = sizing.peak_floor(baseline, per_pod, target, peak.factor)
            pods = sizing.session_replicas(baseline, per_pod, target)
            why = (
                f"ceil({_num(peak.factor)} x {pods} baseline pods for {_num(baseline)} {source} "
                f"sessions) = {value}"
            )
        when = "window open" if now >= window.start else f"lead time, starts {_iso(window.start)}"
        why = f"{peak.name} ({when}, until {_iso(window.end)}): {why}"
        if best is None or value > best[0]:
            best = (value, peak.name, why)
    if best is None:
        return None, None
    reasons["peakFloor"] = best[2]
    return best[0], best[1]


def _baseline(
    peak: Peak, observation: Observation, last_known: float | None
) -> tuple[float | None, str]:
    if peak.expected_sessions is not None:
        return float(peak.expected_sessions), "expected"
    forecast = observation.forecast.get(peak.name)
    if forecast is not None and math.isfinite(forecast) and forecast >= 0:
        return forecast, "forecast"
    if last_known is not None:
        return last_known, "current"
    return None, "none"


def _tokens(
    capacity: VoiceCapacity,
    granted: int | None,
    last_known: float | None,
    reasons: dict[str, str],
) -> tuple[TokenPlan, int | None]:
    model = capacity.spec.model
    if model is None:
        return TokenPlan(), None
    per_minute = model.tokens_per_session_minute
    projected = math.ceil(sizing.exact(last_known) * per_minute) if last_known is not None else None
    if granted is None:
        reasons["tpm"] = f"no grant known from TokenBudget {model.budget_ref}: no TPM ceiling"
        return TokenPlan(requested=model.reserved_tpm, projected=projected), None
    ceiling_sessions = sizing.tpm_ceiling_sessions(granted, per_minute)
    pods = sizing.pods_for_sessions(ceiling_sessions, capacity.spec.sessions.per_pod)
    reasons["tpm"] = (
        f"granted {granted:,} of {model.reserved_tpm:,} TPM / {per_minute} per call-minute = "
        f"{ceiling_sessions} calls = {pods} pods at {capacity.spec.sessions.per_pod} per pod"
    )
    plan = TokenPlan(
        requested=model.reserved_tpm,
        granted=granted,
        projected=projected,
        ceiling_sessions=ceiling_sessions,
    )
    return plan, pods


def _ceiling(
    minimum: int, maximum: int, tpm_pods: int | None, reasons: dict[str, str]
) -> tuple[int, CeilingSource]:
    if tpm_pods is None or tpm_pods >= maximum:
        reasons["ceiling"] = f"replicas.max {maximum}"
        return maximum, "MaxReplicas"
    if tpm_pods >= minimum:
        reasons["ceiling"] = f"TPM grant: {tpm_pods} pods (below replicas.max {maximum})"
        return tpm_pods, "TPM"
    # Named policy MinWins: replicas.min is a promise the user made; a short grant cannot
    # break it, but the object says so (CapacityLimited) and the TPM alerts fire.
    reasons["ceiling"] = (
        f"TPM grant carries {tpm_pods} pods, below replicas.min {minimum}: min wins"
    )
    return minimum, "MinReplicas"


def _headroom_utilization(active: float | None, ready: int | None, per_pod: int) -> float | None:
    if active is None or ready is None:
        return None
    if ready == 0:
        return math.inf if active > 0 else 0.0  # calls and no ready pod: as bad as it gets
    return sizing.utilization(active, ready, per_pod)


def _floor_reason(
    terms: dict[str, int | None],
    wanted: int,
    ceiling: tuple[int, CeilingSource],
    *,
    desired: int,
    floor: int,
    spec: VoiceCapacitySpec,
) -> str:
    parts = ", ".join(f"{name} {value}" for name, value in terms.items() if value is not None)
    text = f"max({parts}) = {wanted}"
    if wanted > ceiling[0]:
        text += f"; capped at ceiling {ceiling[0]} ({ceiling[1]})"
    if floor > desired:
        window = format_duration(spec.scale_down.stabilization)
        text += f"; held at {floor} by scale-down stabilization ({window})"
    return text


def _utilization_reason(
    active: float | None, capacity: int | None, utilization: float | None, basis: str
) -> str:
    if active is None:
        return "unknown: no session data"
    if utilization is None:
        return f"{_num(active)} sessions and no capacity (0 ready pods)"
    of = "ready pods" if basis == "ReadyReplicas" else "the floor (ready pods unknown)"
    return f"{_num(active)} / {capacity} capacity of {of} = {utilization:.2f}"


def _sizing(capacity: VoiceCapacity, floor: int) -> Sizing:
    cost = capacity.spec.session_cost
    per_pod = capacity.spec.sessions.per_pod
    cpu = parse_quantity(cost.cpu) * per_pod if cost.cpu is not None else None
    memory = parse_quantity(cost.memory) * per_pod if cost.memory is not None else None
    return Sizing(
        cpu_per_pod=cpu,
        memory_per_pod=memory,
        cpu_at_floor=cpu * floor if cpu is not None else None,
        memory_at_floor=memory * floor if memory is not None else None,
    )


def _num(value: float | Fraction) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:.4g}"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
