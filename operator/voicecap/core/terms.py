"""The terms of a plan, each one rule of docs/api.md "Semantics" with the reason it gives:
the peak, headroom and outage-hold floors, the TPM ceiling, utilization and sizing."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from voicecap.api.models import Peak, VoiceCapacity, VoiceCapacitySpec
from voicecap.api.timefmt import iso
from voicecap.api.types import format_duration, parse_quantity
from voicecap.core import sizing
from voicecap.core.forecast import BaselineSource, PeakForecast
from voicecap.core.headroom import Level
from voicecap.core.observation import Memory
from voicecap.core.peaks import active_window

CeilingSource = Literal["MaxReplicas", "TPM", "MinReplicas"]


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
class AdmissionLimit:
    """The calls the gateway may admit now (docs/api.md "Admission")."""

    max_sessions: int
    headroom_sessions: int | None
    reason: Literal["Pods", "TPM"]


def admission_limit(
    active: float | None, ready: int | None, per_pod: int, tpm_sessions: int | None
) -> AdmissionLimit | None:
    """min(ready pods x perPod, TPM ceiling sessions); none while ready pods are unknown (a
    gateway keeps its last limit rather than admit on a guess). Ties name Pods."""
    if ready is None:
        return None
    pods = ready * per_pod
    limit, reason = (
        (tpm_sessions, "TPM")
        if tpm_sessions is not None and tpm_sessions < pods
        else (pods, "Pods")
    )
    headroom = None if active is None else math.floor(limit - active)
    return AdmissionLimit(limit, headroom, reason)  # type: ignore[arg-type]


def headroom_floor(
    capacity: VoiceCapacity, active: float | None, level: Level, reasons: dict[str, str]
) -> int | None:
    rules = capacity.spec.headroom
    if active is None or rules.action != "ScaleUp" or level == "Normal":
        return None
    floor = sizing.headroom_replicas(active, capacity.spec.sessions.per_pod, rules.warning)
    reasons["headroomFloor"] = (
        f"utilization >= {num(rules.warning)} for {format_duration(rules.for_)}: "
        f"{floor} pods bring it under"
    )
    return floor


def outage_hold(
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


def reported_utilization(
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
    reasons["utilization"] = utilization_reason(last_known, capacity, utilization, basis)
    return capacity, utilization, basis


def peak_floor(
    capacity: VoiceCapacity,
    *,
    forecasts: Mapping[str, PeakForecast],
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
        baseline, source = peak_baseline(peak, forecasts, last_known)
        if baseline is None:
            value = math.ceil(sizing.exact(peak.factor) * minimum)
            why = f"ceil({num(peak.factor)} x min {minimum}) = {value} (no baseline known)"
        else:
            value = sizing.peak_floor(baseline, per_pod, target, peak.factor)
            pods = sizing.session_replicas(baseline, per_pod, target)
            why = (
                f"ceil({num(peak.factor)} x {pods} baseline pods for {num(baseline)} {source} "
                f"sessions) = {value}"
            )
        when = "window open" if now >= window.start else f"lead time, starts {iso(window.start)}"
        why = f"{peak.name} ({when}, until {iso(window.end)}): {why}"
        if best is None or value > best[0]:
            best = (value, peak.name, why)
    if best is None:
        return None, None
    reasons["peakFloor"] = best[2]
    return best[0], best[1]


def peak_baseline(
    peak: Peak, forecasts: Mapping[str, PeakForecast], last_known: float | None
) -> tuple[float | None, BaselineSource]:
    """expectedSessions, else the forecast, else current sessions (docs/api.md "Forecasts")."""
    if peak.expected_sessions is not None:
        return float(peak.expected_sessions), "expected"
    forecast = forecasts.get(peak.name)
    if forecast is not None and forecast.usable and forecast.sessions is not None:
        return forecast.sessions, "forecast"
    if last_known is not None:
        return last_known, "current"
    return None, "none"


def token_plan(
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


def ceiling_of(
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


def headroom_utilization(active: float | None, ready: int | None, per_pod: int) -> float | None:
    if active is None or ready is None:
        return None
    if ready == 0:
        return math.inf if active > 0 else 0.0  # calls and no ready pod: as bad as it gets
    return sizing.utilization(active, ready, per_pod)


def floor_reason(
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


def utilization_reason(
    active: float | None, capacity: int | None, utilization: float | None, basis: str
) -> str:
    if active is None:
        return "unknown: no session data"
    if utilization is None:
        return f"{num(active)} sessions and no capacity (0 ready pods)"
    of = "ready pods" if basis == "ReadyReplicas" else "the floor (ready pods unknown)"
    return f"{num(active)} / {capacity} capacity of {of} = {utilization:.2f}"


def resources_at(capacity: VoiceCapacity, floor: int) -> Sizing:
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


def num(value: float | Fraction) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:.4g}"
