"""What would have happened: the pure core over recorded sessions, step by step, beside two
baselines (docs/api.md "Replay"; `voicecap replay`).

Three strategies see the same sessions:
- voicecap: every step, plan() with the memory of the step before (stabilization, headroom and
  outage holds carry over) and each peak's forecast as it was when that window was raised; the
  HPA then scales between the plan's floor and ceiling.
- reactive: the HPA alone between replicas.min and replicas.max (no peaks), as with KEDA or a
  plain HPA.
- fixed: replicas.min pods, always.

The HPA model is Kubernetes' default: desired = ceil(sessions / (perPod x targetUtilization)),
clamped to [floor, ceiling]; scale-up at once, scale-down to the highest recommendation of the
last 5 minutes; while sessions are unknown it keeps its replicas. A new pod is ready
`startup` after it is asked for; removed pods go at once (not-ready ones first, as the
ReplicaSet controller does). Capacity is ready pods x perPod; a step whose sessions exceed it
counts as `step` minutes over capacity. Pod-hours count every pod that exists, ready or not.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from voicecap.api.models import VoiceCapacity
from voicecap.core import sizing
from voicecap.core.forecast import History, PeakForecast
from voicecap.core.observation import Memory, Observation
from voicecap.core.peaks import active_window
from voicecap.core.plan import plan

Strategy = Literal["voicecap", "reactive", "fixed"]
STRATEGIES: tuple[Strategy, ...] = ("voicecap", "reactive", "fixed")
HPA_SCALE_DOWN_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True)
class Point:
    at: datetime
    sessions: float | None  # None: no data at this step (an outage)


@dataclass(frozen=True)
class Step:
    at: datetime
    sessions: float | None
    pods: int  # pods that exist
    ready: int
    floor: int | None  # the plan's floor (voicecap only)


@dataclass(frozen=True)
class Totals:
    strategy: Strategy
    over_capacity_minutes: float
    peak_utilization: float | None
    pod_hours: float
    steps: tuple[Step, ...] = field(repr=False, compare=False)


@dataclass
class _Pods:
    """The target's pods: when each becomes ready."""

    ready_at: list[datetime]
    recommendations: deque[tuple[datetime, int]] = field(default_factory=deque)

    def ready(self, now: datetime) -> int:
        return sum(1 for moment in self.ready_at if moment <= now)

    def scale(
        self,
        now: datetime,
        sessions: float | None,
        *,
        floor: int,
        ceiling: int,
        per_pod: int,
        target: float,
        startup: timedelta,
    ) -> None:
        current = len(self.ready_at)
        wanted = (
            sizing.session_replicas(sessions, per_pod, target) if sessions is not None else current
        )
        self.recommendations.append((now, min(max(wanted, floor), ceiling)))
        while self.recommendations and self.recommendations[0][0] <= now - HPA_SCALE_DOWN_WINDOW:
            self.recommendations.popleft()
        desired = self.recommendations[-1][1]
        if desired < current:  # scale-down: the highest recommendation of the window
            desired = min(current, max(value for _, value in self.recommendations))
        desired = min(max(desired, floor), ceiling)
        if desired > current:
            self.ready_at += [now + startup] * (desired - current)
        elif desired < current:
            self.ready_at.sort()  # the newest (not yet ready) go first
            del self.ready_at[desired:]


def replay(
    capacity: VoiceCapacity,
    points: Sequence[Point],
    *,
    step: timedelta,
    forecasts: Mapping[tuple[str, datetime], PeakForecast],
    startup: timedelta = timedelta(minutes=2),
) -> dict[Strategy, Totals]:
    """`forecasts`: (peak name, window start) -> the forecast as it was when it was raised."""
    return {
        "voicecap": _run(capacity, points, step, startup, forecasts, reactive=False),
        "reactive": _run(capacity, points, step, startup, forecasts, reactive=True),
        "fixed": _fixed(capacity, points, step),
    }


def _run(
    capacity: VoiceCapacity,
    points: Sequence[Point],
    step: timedelta,
    startup: timedelta,
    forecasts: Mapping[tuple[str, datetime], PeakForecast],
    *,
    reactive: bool,
) -> Totals:
    spec = capacity.spec
    if reactive:
        capacity = capacity.model_copy(update={"spec": spec.model_copy(update={"peaks": []})})
    per_pod, target = spec.sessions.per_pod, spec.sessions.target_utilization
    pods: _Pods | None = None
    memory = Memory()
    steps = []
    for point in points:
        if reactive:
            floor, ceiling = spec.replicas.min, spec.replicas.max
        else:
            ready = pods.ready(point.at) if pods is not None else None
            decided = plan(
                capacity,
                _observation(capacity, point, ready, forecasts),
                point.at,
                memory,
            )
            memory, floor, ceiling = decided.memory, decided.floor, decided.ceiling
        if pods is None:  # the replay starts from a settled state: the floor, ready
            pods = _Pods([point.at - startup] * floor)
        ready = pods.ready(point.at)
        steps.append(Step(point.at, point.sessions, len(pods.ready_at), ready, floor))
        pods.scale(
            point.at,
            point.sessions,
            floor=floor,
            ceiling=ceiling,
            per_pod=per_pod,
            target=target,
            startup=startup,
        )
    return _totals("reactive" if reactive else "voicecap", steps, step, per_pod)


def _fixed(capacity: VoiceCapacity, points: Sequence[Point], step: timedelta) -> Totals:
    pods = capacity.spec.replicas.min
    steps = [Step(point.at, point.sessions, pods, pods, None) for point in points]
    return _totals("fixed", steps, step, capacity.spec.sessions.per_pod)


def _observation(
    capacity: VoiceCapacity,
    point: Point,
    ready: int | None,
    forecasts: Mapping[tuple[str, datetime], PeakForecast],
) -> Observation:
    raised = {}
    for peak in capacity.spec.peaks:
        window = active_window(peak, point.at)
        if window is not None and (peak.name, window.start) in forecasts:
            raised[peak.name] = forecasts[(peak.name, window.start)]
    history = History(forecasts=raised)
    if point.sessions is None:
        return Observation(failure="NoData", ready_replicas=ready, history=history)
    return Observation(
        sessions=point.sessions, sampled_at=point.at, ready_replicas=ready, history=history
    )


def _totals(strategy: Strategy, steps: list[Step], step: timedelta, per_pod: int) -> Totals:
    minutes = step.total_seconds() / 60
    over = 0.0
    peak: float | None = None
    for row in steps:
        if row.sessions is None:
            continue
        capacity = row.ready * per_pod
        if row.sessions > capacity:
            over += minutes
        utilization = row.sessions / capacity if capacity else (math.inf if row.sessions else 0.0)
        peak = utilization if peak is None else max(peak, utilization)
    pod_hours = sum(row.pods for row in steps) * step.total_seconds() / 3600
    return Totals(strategy, over, peak, round(pod_hours, 3), tuple(steps))
