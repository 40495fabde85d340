"""What a plan reports about use: the capacity and utilization of the ready pods (or of the
floor while they are unknown), and the resources sessionCost implies per pod, at the floor and
at the ceiling. Extended resources (GPUs) are whole units a pod requests: perPod x the cost of a
call, rounded up, per pod."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from voicecap.api.models import VoiceCapacity
from voicecap.api.types import parse_quantity
from voicecap.core import sizing
from voicecap.core.numbers import num
from voicecap.core.planner.reasoned import Reasoned

Basis = Literal["ReadyReplicas", "Floor"]


@dataclass(frozen=True)
class Sizing:
    """Resources implied by sessionCost (None where the cost is not declared)."""

    cpu_per_pod: Decimal | None = None
    memory_per_pod: Decimal | None = None
    cpu_at_floor: Decimal | None = None
    memory_at_floor: Decimal | None = None
    # Extended resources by name (e.g. nvidia.com/gpu): whole units per pod, at the floor and at
    # the ceiling (the most the HPA may scale to).
    extended_per_pod: Mapping[str, int] = field(default_factory=dict)
    extended_at_floor: Mapping[str, int] = field(default_factory=dict)
    extended_at_ceiling: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Utilization:
    capacity: int
    ratio: float | None
    basis: Basis


def reported_utilization(
    last_known: float | None, ready: int | None, floor: int, per_pod: int
) -> Reasoned[Utilization]:
    """Capacity and utilization of the ready pods, or of the floor when ready pods are unknown."""
    basis: Basis = "ReadyReplicas" if ready is not None else "Floor"
    pods = ready if ready is not None else floor
    capacity = pods * per_pod
    ratio = sizing.utilization(last_known, pods, per_pod) if last_known is not None else None
    reason = utilization_reason(last_known, capacity, ratio, basis)
    return Reasoned(Utilization(capacity, ratio, basis), reason)


def utilization_reason(
    active: float | None, capacity: int | None, utilization: float | None, basis: str
) -> str:
    if active is None:
        return "unknown: no session data"
    if utilization is None:
        return f"{num(active)} sessions and no capacity (0 ready pods)"
    of = "ready pods" if basis == "ReadyReplicas" else "the floor (ready pods unknown)"
    return f"{num(active)} / {capacity} capacity of {of} = {utilization:.2f}"


def resources_at(capacity: VoiceCapacity, floor: int, per_pod: int, ceiling: int) -> Sizing:
    """sessionCost x `per_pod` calls per pod, and at the floor (and the ceiling for extended
    resources, which are the expensive ones)."""
    cost = capacity.spec.session_cost
    cpu = parse_quantity(cost.cpu) * per_pod if cost.cpu is not None else None
    memory = parse_quantity(cost.memory) * per_pod if cost.memory is not None else None
    # A pod requests extended resources in whole units: 200 calls at 0.05 GPU each is 10 GPUs,
    # 30 calls at 0.05 is 2 (1.5 rounded up).
    extended = {
        name: math.ceil(parse_quantity(quantity) * per_pod)
        for name, quantity in sorted(cost.extended.items())
    }
    return Sizing(
        cpu_per_pod=cpu,
        memory_per_pod=memory,
        cpu_at_floor=cpu * floor if cpu is not None else None,
        memory_at_floor=memory * floor if memory is not None else None,
        extended_per_pod=extended,
        extended_at_floor={name: units * floor for name, units in extended.items()},
        extended_at_ceiling={name: units * ceiling for name, units in extended.items()},
    )
