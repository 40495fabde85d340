"""What would have happened: the pure core over recorded sessions, step by step, beside the
alternatives a user has (docs/api.md "Replay"; `voicecap replay`).

Six strategies see the same sessions:
- voicecap: every step, plan() with the memory of the step before (stabilization, headroom and
  outage holds carry over) and each peak's forecast as it was when that window was raised; its
  HPA then scales between the plan's floor and ceiling.
- reactive: the HPA alone between replicas.min and replicas.max (no peaks).
- keda-cron: the closest KEDA set-up: a cron minimum from each window's start to its end (no
  lead time) at the largest floor voicecap plans for that window, plus the HPA.
- keda-week: KEDA's predictive recipe (Grafana Mimir's): a prometheus trigger on
  max_over_time(<calls>[30m] offset 6d23h30m), the most calls of the half hour that followed
  this moment a week before, beside the live metric; the HPA takes the larger.
- oracle: perfect foresight at the object's targetUtilization (or blocking target): every step
  exactly the pods its calls need, ready when needed, within replicas.min and replicas.max. The
  limit nobody beats; the other strategies are reported as ratios to it.
- fixed: replicas.min pods, always.

The HPA model (core/replay/hpa_model.py) is Kubernetes' controller as it computes: the metric's
recommendation within its 10 % tolerance, stabilized (scale-down to the highest recommendation
of spec.scaleDown.stabilization, for every strategy, as the operator writes it for its own HPA
and a user would for a plain one), then minReplicas, maxReplicas and the default rates (up by
max(+100 %, +4 pods), down by 100 %, per 15 s). It syncs every 15 s within each step. A new pod
is ready `startup` after it is asked for; removed pods go at once, not-ready ones first (as the
ReplicaSet controller does). While sessions are unknown it keeps its replicas.

What users lose and pay, per strategy: blocked call-minutes (the integral of calls above ready
pods x perPod), minutes short (steps with any), pod-hours (every pod that exists, ready or
not), and their cost at a price per pod-hour.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from voicecap.api.base import HPA_SYNC
from voicecap.api.models import VoiceCapacity
from voicecap.core import sizing
from voicecap.core.peaks.forecast import History, PeakForecast
from voicecap.core.peaks.windows import active_window
from voicecap.core.planner.observation import Memory, Observation
from voicecap.core.planner.peak_floor import peak_baseline
from voicecap.core.planner.plan import plan
from voicecap.core.replay.hpa_model import SimulatedHPA, hpa_for

Strategy = Literal["voicecap", "reactive", "keda-cron", "keda-week", "oracle", "fixed"]
STRATEGIES: tuple[Strategy, ...] = (
    "voicecap", "reactive", "keda-cron", "keda-week", "oracle", "fixed",
)  # fmt: skip
# A strategy's own minimum at a moment, under its HPA (None: replicas.min).
MinimumAt = Callable[[datetime], int | None]
# A strategy's second HPA metric at a moment (None: no value).
ExternalAt = Callable[[datetime], float | None]
WEEK = timedelta(weeks=1)
LOOK_AHEAD = timedelta(minutes=30)  # the recipe's [30m] window, offset 6d23h30m


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
    floor: int | None  # the floor the HPA was given (None: fixed)


@dataclass(frozen=True)
class Totals:
    strategy: Strategy
    over_capacity_minutes: float  # minutes short: steps with calls above ready capacity
    blocked_call_minutes: float  # calls above ready capacity, integrated over time
    peak_utilization: float | None
    pod_hours: float
    steps: tuple[Step, ...] = field(repr=False, compare=False)

    def cost(self, per_pod_hour: float | None) -> float | None:
        return None if per_pod_hour is None else round(self.pod_hours * per_pod_hour, 2)


def replay(
    capacity: VoiceCapacity,
    points: Sequence[Point],
    *,
    step: timedelta,
    forecasts: Mapping[tuple[str, datetime], PeakForecast],
    startup: timedelta = timedelta(minutes=2),
    last_week: Sequence[Point] = (),
) -> dict[Strategy, Totals]:
    """`forecasts`: (peak name, window start) -> the forecast as it was when it was raised;
    `last_week`: the sessions recorded a week before `points` (and 30 minutes past their end),
    what keda-week reads."""
    per_pod = capacity.spec.sessions.per_pod
    voicecap = _voicecap(capacity, points, step, startup, forecasts)
    return {
        "voicecap": voicecap,
        "reactive": _with_hpa(capacity, points, step, startup, strategy="reactive"),
        "keda-cron": _with_hpa(
            capacity,
            points,
            step,
            startup,
            strategy="keda-cron",
            minimum_at=lambda at: cron_minimum(capacity, forecasts, at),
        ),
        "keda-week": _with_hpa(
            capacity,
            points,
            step,
            startup,
            strategy="keda-week",
            external_at=week_before(last_week),
        ),
        "oracle": _totals("oracle", _oracle_steps(capacity, points), step, per_pod),
        "fixed": _totals("fixed", _fixed_steps(capacity, points), step, per_pod),
    }


def cron_minimum(
    capacity: VoiceCapacity, forecasts: Mapping[tuple[str, datetime], PeakForecast], at: datetime
) -> int | None:
    """KEDA's cron scaler: from each window's start to its end (no lead time), a fixed minimum at
    the largest floor voicecap plans for that window."""
    spec = capacity.spec
    best: int | None = None
    for peak in spec.peaks:
        window = active_window(peak, at)
        if window is None or at < window.start:
            continue
        raised = forecasts.get((peak.name, window.start))
        baseline, _ = peak_baseline(peak, {peak.name: raised} if raised else {}, None)
        if baseline is None:
            continue
        size = sizing.peak_floor(
            baseline,
            spec.sessions.per_pod,
            factor=peak.factor,
            blocking=spec.sessions.blocking_target,
        )
        best = size if best is None else max(best, size)
    return best


def week_before(recorded: Sequence[Point]) -> ExternalAt:
    """max_over_time(<calls>[30m] offset 6d23h30m) over `recorded`: at each moment, the most
    calls in [moment - 1 week, moment - 1 week + 30 minutes] (None: no sample there)."""
    known = sorted((p.at, p.sessions) for p in recorded if p.sessions is not None)
    moments = [moment for moment, _ in known]

    def at(moment: datetime) -> float | None:
        start = moment - WEEK
        first = bisect_left(moments, start)
        last = bisect_right(moments, start + LOOK_AHEAD)
        return max((value for _, value in known[first:last]), default=None)

    return at


def _voicecap(
    capacity: VoiceCapacity,
    points: Sequence[Point],
    step: timedelta,
    startup: timedelta,
    forecasts: Mapping[tuple[str, datetime], PeakForecast],
) -> Totals:
    hpa: SimulatedHPA | None = None
    memory = Memory()
    steps = []
    for point in points:
        ready = hpa.ready(point.at) if hpa is not None else None
        decided = plan(capacity, _observation(capacity, point, ready, forecasts), point.at, memory)
        memory = decided.memory
        if hpa is None:  # the replay starts from a settled state: the floor, ready
            hpa = _settled(hpa_for(capacity), decided.floor, point.at, startup)
        steps.append(Step(point.at, point.sessions, hpa.pods, hpa.ready(point.at), decided.floor))
        _syncs(hpa, point, step, floor=decided.floor, ceiling=decided.ceiling, startup=startup)
    return _totals("voicecap", steps, step, capacity.spec.sessions.per_pod)


def _with_hpa(
    capacity: VoiceCapacity,
    points: Sequence[Point],
    step: timedelta,
    startup: timedelta,
    *,
    strategy: Strategy,
    minimum_at: MinimumAt | None = None,
    external_at: ExternalAt | None = None,
) -> Totals:
    """A plain HPA between replicas.min (or a strategy's own minimum) and replicas.max, with a
    strategy's second metric where it has one."""
    spec = capacity.spec
    hpa: SimulatedHPA | None = None
    steps = []
    for point in points:
        own = minimum_at(point.at) if minimum_at is not None else None
        floor = max(spec.replicas.min, own or 0)
        floor = min(floor, spec.replicas.max)
        if hpa is None:
            hpa = _settled(hpa_for(capacity), floor, point.at, startup)
        steps.append(Step(point.at, point.sessions, hpa.pods, hpa.ready(point.at), floor))
        external = external_at(point.at) if external_at is not None else None
        _syncs(
            hpa,
            point,
            step,
            floor=floor,
            ceiling=spec.replicas.max,
            startup=startup,
            external=external,
        )
    return _totals(strategy, steps, step, spec.sessions.per_pod)


def _syncs(
    hpa: SimulatedHPA,
    point: Point,
    step: timedelta,
    *,
    floor: int,
    ceiling: int,
    startup: timedelta,
    external: float | None = None,
) -> None:
    """The controller's syncs within one step (every 15 s), on the step's sessions."""
    for k in range(max(1, round(step / HPA_SYNC))):
        hpa.sync(
            point.at + k * HPA_SYNC,
            point.sessions,
            floor=floor,
            ceiling=ceiling,
            startup=startup,
            external=external,
        )


def _fixed_steps(capacity: VoiceCapacity, points: Sequence[Point]) -> list[Step]:
    pods = capacity.spec.replicas.min
    return [Step(point.at, point.sessions, pods, pods, None) for point in points]


def _oracle_steps(capacity: VoiceCapacity, points: Sequence[Point]) -> list[Step]:
    spec = capacity.spec
    steps = []
    pods = spec.replicas.min
    for point in points:
        if point.sessions is not None:  # unknown: keep what it had (it cannot see a gap either)
            needed = sizing.session_replicas(
                point.sessions,
                spec.sessions.per_pod,
                spec.sessions.target_utilization,
                blocking=spec.sessions.blocking_target,
            )
            pods = min(max(needed, spec.replicas.min), spec.replicas.max)
        steps.append(Step(point.at, point.sessions, pods, pods, None))
    return steps


def _settled(hpa: SimulatedHPA, pods: int, at: datetime, startup: timedelta) -> SimulatedHPA:
    hpa.ready_at = [at - startup] * pods
    return hpa


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
    if point.sessions is None:  # the HPA cannot read its metric either
        return Observation(
            failure="NoData", ready_replicas=ready, history=history, hpa_scaling=False
        )
    return Observation(
        sessions=point.sessions,
        sampled_at=point.at,
        ready_replicas=ready,
        history=history,
        hpa_scaling=True,
    )


def _totals(strategy: Strategy, steps: list[Step], step: timedelta, per_pod: int) -> Totals:
    minutes = step.total_seconds() / 60
    short = blocked = 0.0
    peak: float | None = None
    for row in steps:
        if row.sessions is None:
            continue
        capacity = row.ready * per_pod
        if row.sessions > capacity:
            short += minutes
            blocked += (row.sessions - capacity) * minutes
        utilization = row.sessions / capacity if capacity else (math.inf if row.sessions else 0.0)
        peak = utilization if peak is None else max(peak, utilization)
    pod_hours = sum(row.pods for row in steps) * step.total_seconds() / 3600
    return Totals(strategy, short, round(blocked, 2), peak, round(pod_hours, 3), tuple(steps))
