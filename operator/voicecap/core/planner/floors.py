"""The lower bounds of a plan besides replicas.min and the peak (core/planner/peak_floor.py):
the pods live calls need, the headroom floor, the outage hold, and how the floor's reason reads."""

from __future__ import annotations

import math

from voicecap.api.models import VoiceCapacity, VoiceCapacitySpec
from voicecap.api.types import format_duration
from voicecap.core import sizing
from voicecap.core.numbers import num
from voicecap.core.planner.ceilings import CeilingSource
from voicecap.core.planner.headroom import Level
from voicecap.core.planner.observation import Memory
from voicecap.core.planner.reasoned import Reasoned


def session_replicas(
    capacity: VoiceCapacity, active: float | None, held: int | None
) -> Reasoned[int | None]:
    """ceil(active / plannedPerPod), held inside the HPA's tolerance (Erlang B pods with a
    blocking target); none while calls are unknown."""
    if active is None:
        return Reasoned(None)
    sessions = capacity.spec.sessions
    per_pod, blocking = sessions.per_pod, sessions.blocking_target
    replicas = sizing.tolerant_session_replicas(
        active, held, per_pod, sessions.target_utilization, blocking=blocking
    )
    if blocking is not None:
        slots = sizing.slots_for_blocking(active, blocking)
        return Reasoned(
            replicas,
            f"Erlang B: {slots} slots carry {num(active)} calls at {num(blocking)} blocking "
            f"= {replicas} pods of {per_pod}",
        )
    target = sessions.target_utilization
    planned = sizing.planned_per_pod(per_pod, target)
    return Reasoned(
        replicas,
        f"ceil({num(active)} / {num(planned)} planned per pod) = {replicas}"
        if replicas == sizing.session_replicas(active, per_pod, target)
        else f"{replicas}, held: {num(active)} calls are within the HPA's "
        f"tolerance of {num(planned)} per pod",
    )


def headroom_floor(
    capacity: VoiceCapacity, active: float | None, level: Level
) -> Reasoned[int | None]:
    """With action ScaleUp and sustained low headroom: the fewest pods under the warning."""
    rules = capacity.spec.headroom
    if active is None or rules.action != "ScaleUp" or level == "Normal":
        return Reasoned(None)
    floor = sizing.headroom_replicas(active, capacity.spec.sessions.per_pod, rules.warning)
    return Reasoned(
        floor,
        f"utilization >= {num(rules.warning)} for {format_duration(rules.for_)}: "
        f"{floor} pods bring it under",
    )


def outage_hold(
    capacity: VoiceCapacity, active: float | None, memory: Memory, ready: int | None
) -> Reasoned[int | None]:
    """While sessions are unknown, HoldLastKnown keeps the last floor, and never less than the
    pods the last known calls needed, nor than `ready` (the ready pods, given while the HPA
    cannot read its metric: a blind HPA keeps its replicas, and the floor is its maxReplicas
    then, so it must not cut them). Floor lets it settle at max(min, peak floor)."""
    if active is not None:
        return Reasoned(None)
    if capacity.spec.metrics_outage.mode == "Floor":
        return Reasoned(None, "sessions unknown: floor held at max(min, peak floor)")
    if memory.floor is None:
        return Reasoned(None, "sessions unknown and no floor decided yet")
    held = max(memory.floor, memory.session_replicas or 0, ready or 0)
    if held == memory.floor:
        return Reasoned(held, f"sessions unknown: holding the last floor {memory.floor}")
    if held == (ready or 0):
        return Reasoned(held, f"sessions unknown: holding the {held} ready pods")
    return Reasoned(
        held, f"sessions unknown: holding {held} pods, what the last known calls needed"
    )


def headroom_utilization(active: float | None, ready: int | None, per_pod: int) -> float | None:
    """Utilization of the ready pods for the headroom levels (0 ready pods with calls: inf)."""
    if active is None or ready is None:
        return None
    if ready == 0:
        return math.inf if active > 0 else 0.0  # calls and no ready pod: as bad as it gets
    return sizing.utilization(active, ready, per_pod)


def floor_reason(
    candidates: dict[str, int | None],
    wanted: int,
    ceiling: tuple[int, CeilingSource],
    *,
    desired: int,
    floor: int,
    spec: VoiceCapacitySpec,
) -> str:
    parts = ", ".join(f"{name} {value}" for name, value in candidates.items() if value is not None)
    text = f"max({parts}) = {wanted}"
    if wanted > ceiling[0]:
        text += f"; capped at ceiling {ceiling[0]} ({ceiling[1]})"
    if floor > desired:
        window = format_duration(spec.scale_down.stabilization)
        text += f"; held at {floor} by scale-down stabilization ({window})"
    return text
