"""The terms of a plan, each one rule of docs/api.md "Semantics" with the reason it gives:
the headroom and outage-hold floors, the TPM ceiling, utilization and sizing (the peak floor is
core/peak_sizing.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from voicecap.api.models import VoiceCapacity, VoiceCapacitySpec
from voicecap.api.types import format_duration, parse_quantity
from voicecap.core import sizing
from voicecap.core.headroom import Level
from voicecap.core.numbers import num
from voicecap.core.observation import Memory

CeilingSource = Literal["MaxReplicas", "TPM", "MaxSessions", "MinReplicas"]
AdmissionReason = Literal["Pods", "TPM", "MaxSessions"]


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
    reason: AdmissionReason


def admission_limit(
    active: float | None,
    ready: int | None,
    per_pod: int,
    tpm_sessions: int | None,
    fixed: int | None,
) -> AdmissionLimit | None:
    """min(ready pods x perPod, TPM ceiling sessions, admission.maxSessions); none while ready
    pods are unknown (a gateway keeps its last limit rather than admit on a guess). Ties name
    the first in that order: Pods, then TPM."""
    if ready is None:
        return None
    limits: list[tuple[int, AdmissionReason]] = [(ready * per_pod, "Pods")]
    if tpm_sessions is not None:
        limits.append((tpm_sessions, "TPM"))
    if fixed is not None:
        limits.append((fixed, "MaxSessions"))
    limit, reason = min(limits, key=lambda item: item[0])  # min keeps the first of equals
    headroom = None if active is None else math.floor(limit - active)
    return AdmissionLimit(limit, headroom, reason)


def admission_bound(
    tpm: TokenPlan, tokens_per_session_minute: int | None, fixed: int | None
) -> AdmissionLimit | None:
    """What the admission limit can be at most whatever the pods: the TPM calls (of the grant,
    else of the reservation, which no grant exceeds) and admission.maxSessions. `voicecap plan`
    shows it when ready pods are not given."""
    bounds: list[tuple[int, AdmissionReason]] = []
    if tpm.ceiling_sessions is not None:
        bounds.append((tpm.ceiling_sessions, "TPM"))
    elif tpm.requested is not None and tokens_per_session_minute:
        calls = sizing.tpm_ceiling_sessions(tpm.requested, tokens_per_session_minute)
        bounds.append((calls, "TPM"))
    if fixed is not None:
        bounds.append((fixed, "MaxSessions"))
    if not bounds:
        return None
    limit, reason = min(bounds, key=lambda item: item[0])
    return AdmissionLimit(limit, None, reason)


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
    capacity: VoiceCapacity,
    active: float | None,
    memory: Memory,
    ready: int | None,
    reasons: dict[str, str],
) -> int | None:
    """While sessions are unknown, HoldLastKnown keeps the last floor, and never less than the
    pods the last known calls needed, nor than `ready` (the ready pods, given while the HPA
    cannot read its metric: a blind HPA keeps its replicas, and the floor is its maxReplicas
    then, so it must not cut them). Floor lets it settle at max(min, peak floor)."""
    if active is not None:
        return None
    if capacity.spec.metrics_outage.mode == "Floor":
        reasons["outageHold"] = "sessions unknown: floor held at max(min, peak floor)"
        return None
    if memory.floor is None:
        reasons["outageHold"] = "sessions unknown and no floor decided yet"
        return None
    held = max(memory.floor, memory.session_replicas or 0, ready or 0)
    if held == memory.floor:
        reasons["outageHold"] = f"sessions unknown: holding the last floor {memory.floor}"
    elif held == (ready or 0):
        reasons["outageHold"] = f"sessions unknown: holding the {held} ready pods"
    else:
        reasons["outageHold"] = (
            f"sessions unknown: holding {held} pods, what the last known calls needed"
        )
    return held


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
    minimum: int,
    maximum: int,
    tpm_pods: int | None,
    fixed_pods: int | None,
    reasons: dict[str, str],
) -> tuple[int, CeilingSource]:
    """min(replicas.max, the TPM grant's pods, admission.maxSessions' pods), never below min."""
    bounds: list[tuple[int, CeilingSource, str]] = [(maximum, "MaxReplicas", "")]
    if tpm_pods is not None:
        bounds.append((tpm_pods, "TPM", "TPM grant"))
    if fixed_pods is not None:
        bounds.append((fixed_pods, "MaxSessions", "admission.maxSessions"))
    pods, source, what = min(bounds, key=lambda bound: bound[0])
    if source == "MaxReplicas":
        reasons["ceiling"] = f"replicas.max {maximum}"
        return maximum, "MaxReplicas"
    if pods >= minimum:
        reasons["ceiling"] = f"{what}: {pods} pods (below replicas.max {maximum})"
        return pods, source
    # Named policy MinWins: replicas.min is a promise the user made; a short grant (or a
    # trunk's ceiling) cannot break it, but the object says so (CapacityLimited) and the alerts
    # fire.
    reasons["ceiling"] = f"{what} carries {pods} pods, below replicas.min {minimum}: min wins"
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
