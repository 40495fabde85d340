"""The floor's candidates: one function each and one row in FLOOR_RULES. The floors stage asks
every rule, in this order; the floor is the largest answer that counts, under the ceiling.

    min       replicas.min, a promise the user made
    sessions  ceil(active / plannedPerPod), held inside the HPA's tolerance (Erlang B pods with
              blockingTarget); it counts only while the HPA cannot follow live calls itself
    peak      the raised peak window's floor (core/planner/peak_floor.py)
    headroom  with action ScaleUp and sustained low headroom: the fewest pods under the warning
    hold      while sessions are unknown: the last floor (HoldLastKnown)
    latency   while the pods answer too slowly (spec.latency): a quarter more pods, and again
              each `for` it lasts (core/planner/latency.py)

To add a floor term: write its function `(given, judged, pressure) -> Asked` and add its row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from voicecap.api.models import VoiceCapacitySpec
from voicecap.api.types import format_duration
from voicecap.core import sizing
from voicecap.core.numbers import num
from voicecap.core.planner import peak_floor
from voicecap.core.planner.ceilings import CeilingSource
from voicecap.core.planner.records import (
    Asked,
    FloorKind,
    FloorTerm,
    Given,
    JudgedSessions,
    Pressure,
)


def min_replicas(given: Given, judged: JudgedSessions, pressure: Pressure) -> Asked:
    """replicas.min: never fewer pods."""
    return Asked(given.capacity.spec.replicas.min)


def session_replicas(given: Given, judged: JudgedSessions, pressure: Pressure) -> Asked:
    """The pods the live calls need: ceil(active / plannedPerPod), held inside the HPA's
    tolerance (Erlang B pods with a blocking target); nothing while calls are unknown.

    It counts towards the floor only while the HPA cannot read its metric (or has not said that
    it can), and with a blocking target: the HPA follows live calls itself, with its own
    tolerance, and a floor repeating it would move (and write) with every wobble of the calls;
    a blocking target's Erlang B sizing is one no per-pod HPA target can express."""
    active = judged.active
    if active is None:
        return Asked(None)
    sessions = given.capacity.spec.sessions
    per_pod, blocking, target = (
        given.per_pod.value,
        sessions.blocking_target,
        sessions.target_utilization,
    )
    held = given.memory.session_replicas
    counts = given.observation.hpa_scaling is not True or blocking is not None
    if blocking is not None:
        # Erlang B sizes the calls offered: those served and those refused now.
        refused = given.observation.refused_load
        offered = active + refused if refused is not None and refused > 0 else active
        replicas = sizing.tolerant_session_replicas(
            offered, held, per_pod, target, blocking=blocking
        )
        slots = sizing.slots_for_blocking(offered, blocking)
        calls = (
            f"{num(offered)} calls offered ({num(active)} served + {num(offered - active)} refused)"
            if offered > active
            else f"{num(active)} calls"
        )
        why = (
            f"Erlang B: {slots} slots carry {calls} at {num(blocking)} blocking "
            f"= {replicas} pods of {per_pod}"
        )
        return Asked(replicas, why, counts)
    replicas = sizing.tolerant_session_replicas(active, held, per_pod, target, blocking=blocking)
    planned = sizing.planned_per_pod(per_pod, target)
    why = (
        f"ceil({num(active)} / {num(planned)} planned per pod) = {replicas}"
        if replicas == sizing.session_replicas(active, per_pod, target)
        else f"{replicas}, held: {num(active)} calls are within the HPA's "
        f"tolerance of {num(planned)} per pod"
    )
    return Asked(replicas, why, counts)


def raised_peak(given: Given, judged: JudgedSessions, pressure: Pressure) -> Asked:
    """The largest floor among the peak windows raised now (core/planner/peak_floor.py)."""
    term = peak_floor.peak_term(
        given.capacity,
        forecasts=given.forecasts,
        last_known=judged.last_known,
        now=given.now,
        per_pod=given.per_pod.value,
        startup=given.memory.readiness.startup(),
    )
    if term is None:
        return Asked(None)
    return Asked(term.floor, term.reason, source=term.peak)


def headroom_floor(given: Given, judged: JudgedSessions, pressure: Pressure) -> Asked:
    """With action ScaleUp and sustained low headroom: the fewest pods under the warning."""
    rules = given.capacity.spec.headroom
    active = judged.active
    if active is None or rules.action != "ScaleUp" or pressure.headroom.level == "Normal":
        return Asked(None)
    warning = given.capacity.spec.headroom_levels[0]
    floor = sizing.headroom_replicas(active, given.per_pod.value, warning)
    return Asked(
        floor,
        f"utilization >= {num(warning)} for {format_duration(rules.for_)}: "
        f"{floor} pods bring it under",
    )


def outage_hold(given: Given, judged: JudgedSessions, pressure: Pressure) -> Asked:
    """While sessions are unknown, HoldLastKnown keeps the last floor, and never less than the
    pods the last known calls needed, nor than the ready pods while the HPA cannot read its
    metric (a blind HPA keeps its replicas, and the floor is its maxReplicas then, so it must
    not cut them). Floor lets it settle at max(min, peak floor)."""
    if judged.active is not None:
        return Asked(None)
    if given.capacity.spec.metrics_outage.mode == "Floor":
        return Asked(None, "sessions unknown: floor held at max(min, peak floor)")
    memory = given.memory
    if memory.floor is None:
        return Asked(None, "sessions unknown and no floor decided yet")
    observation = given.observation
    ready = observation.ready_replicas if observation.hpa_scaling is False else None
    held = max(memory.floor, memory.session_replicas or 0, ready or 0)
    if held == memory.floor:
        return Asked(held, f"sessions unknown: holding the last floor {memory.floor}")
    if held == (ready or 0):
        return Asked(held, f"sessions unknown: holding the {held} ready pods")
    return Asked(held, f"sessions unknown: holding {held} pods, what the last known calls needed")


def latency_guard(given: Given, judged: JudgedSessions, pressure: Pressure) -> Asked:
    """While the latency guard holds: its pods (a quarter more each `for` it lasts)."""
    verdict, watched = pressure.latency, given.capacity.spec.latency
    pods = verdict.state.guard_pods
    if pods is None or verdict.target is None or watched is None:
        return Asked(None)
    now = f"{num(round(verdict.seconds * 1000))}ms" if verdict.seconds is not None else "unknown"
    return Asked(
        pods,
        f"latency quantile {now} above its {num(round(verdict.target * 1000))}ms target for "
        f"{format_duration(watched.for_)}: {pods} pods, and new calls only as calls end",
    )


@dataclass(frozen=True)
class FloorRule:
    """One row: a floor term, its names, and the function that says what it asks for."""

    name: str  # as the floor's reason names it
    reason_key: str | None  # its key in the plan's reasons and JSON
    kind: FloorKind
    ask: Callable[[Given, JudgedSessions, Pressure], Asked]

    def term(self, given: Given, judged: JudgedSessions, pressure: Pressure) -> FloorTerm:
        return FloorTerm(self.name, self.reason_key, self.kind, self.ask(given, judged, pressure))


MIN = FloorRule("min", None, "demand", min_replicas)
SESSIONS = FloorRule("sessions", "sessionReplicas", "demand", session_replicas)
PEAK = FloorRule("peak", "peakFloor", "demand", raised_peak)
HEADROOM = FloorRule("headroom", "headroomFloor", "guard", headroom_floor)
HOLD = FloorRule("hold", "outageHold", "guard", outage_hold)
LATENCY = FloorRule("latency", "latencyGuard", "guard", latency_guard)

FLOOR_RULES: tuple[FloorRule, ...] = (MIN, SESSIONS, PEAK, HEADROOM, HOLD, LATENCY)


def floor_reason(
    terms: tuple[FloorTerm, ...],
    wanted: int,
    ceiling: tuple[int, CeilingSource],
    *,
    desired: int,
    floor: int,
    spec: VoiceCapacitySpec,
) -> str:
    """ "max(min 2, sessions 4, peak 5) = 5", then what capped or held it."""
    parts = ", ".join(f"{t.name} {t.binding}" for t in terms if t.binding is not None)
    text = f"max({parts}) = {wanted}"
    if wanted > ceiling[0]:
        text += f"; capped at ceiling {ceiling[0]} ({ceiling[1]})"
    if floor > desired:
        window = format_duration(spec.scale_down.stabilization)
        text += f"; held at {floor} by scale-down stabilization ({window})"
    return text
