"""One trace under one strategy, call by call, with simpy.

- Calls arrive as a Poisson process whose rate follows the trace minute by minute, and last a
  log-normal time (mean 4 minutes, long tail). The gateway admits a call when a ready slot is
  free (busy calls < ready pods x perPod, slots pooled across pods) and rejects it otherwise.
- Prometheus sees the busy calls 30 s late (a 15 s scrape plus the adapter's relist); the
  operator and the HPA read that.
- The HPA is Kubernetes' controller (pkg/controller/podautoscaler): every 15 s, a Pods metric
  averaged over the pods that report it (ready ones); within 10 % of the target it holds; on
  scale-up pods without the metric count as 0, on scale-down as at target; scale-up at most
  max(+100 %, +4 pods) per 15 s; scale-down to the highest recommendation of its stabilization
  window; clamped to [minReplicas, maxReplicas]. A pod is ready `startup` after it is asked for;
  a scale-down removes not-ready pods first, and calls on removed pods finish (they drain).
- voicecap: every 15 s, before the HPA, the product's own plan() gives minReplicas and
  maxReplicas, with the forecast as the product computes it from the trace's history.
- keda-cron: a cron minimum from window start to end (no lead time) at the largest floor
  voicecap plans for the window, plus the HPA.
- Every strategy's HPA has spec.scaleDown.stabilization (a user sets a plain HPA the same way).
- oracle: at every arrival and departure exactly the pods the busy calls need at the object's
  target (ready at once), within replicas.min and replicas.max: the limit nobody beats.

Nothing here imports a module the previous release lacked, so the same yardstick runs today's
and the previous semantics (bench/calls.py --before).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import simpy

from callsim.history import Forecaster
from callsim.traces import CALL_SIGMA, MEAN_CALL_SECONDS, Trace

SYNC_SECONDS = 15.0
METRIC_LAG_SECONDS = 30.0
TOLERANCE = 0.1


@dataclass
class Outcome:
    strategy: str
    offered: int = 0
    rejected: int = 0
    pod_seconds: float = 0.0
    floor_changes: int = 0
    floors: list[tuple[datetime, int]] = field(default_factory=list)
    alerts: set[str] = field(default_factory=set)

    @property
    def rejected_ratio(self) -> float:
        return self.rejected / self.offered if self.offered else 0.0

    @property
    def pod_hours(self) -> float:
        return self.pod_seconds / 3600


class HPA:
    """Kubernetes' HPA controller for one Pods metric (see the module docstring)."""

    def __init__(self, target: float, stabilization: float, startup: float, pods: int) -> None:
        self.target = target
        self.stabilization = stabilization
        self.startup = startup
        self.ready_at = [-startup] * pods
        self.recommendations: deque[tuple[float, int]] = deque()

    def ready(self, now: float) -> int:
        return sum(1 for moment in self.ready_at if moment <= now)

    def sync(self, now: float, metric: float | None, floor: int, ceiling: int) -> None:
        current = len(self.ready_at)
        proposal = self._proposal(now, metric, current)
        self.recommendations.append((now, proposal))
        while self.recommendations[0][0] <= now - self.stabilization:
            self.recommendations.popleft()
        desired = proposal
        if desired < current:
            desired = min(current, max(value for _, value in self.recommendations))
        desired = min(desired, max(2 * current, current + 4))
        desired = min(max(desired, floor), ceiling)
        if desired > current:
            self.ready_at += [now + self.startup] * (desired - current)
        elif desired < current:
            self.ready_at.sort()
            del self.ready_at[desired:]

    def _proposal(self, now: float, metric: float | None, current: int) -> int:
        if metric is None:
            return current
        ready = self.ready(now)
        missing = current - ready
        if ready == 0:
            return max(current, math.ceil(metric / self.target))
        ratio = metric / (ready * self.target)
        if missing and ratio > 1:  # scale-up: pods without the metric count as 0
            ratio = metric / (current * self.target)
            return current if ratio <= 1 + TOLERANCE else math.ceil(ratio * current)
        if missing and ratio < 1:  # scale-down: as at target
            ratio = (metric + missing * self.target) / (current * self.target)
            return current if ratio >= 1 - TOLERANCE else math.ceil(ratio * current)
        if abs(ratio - 1) <= TOLERANCE:
            return current
        return math.ceil(ratio * ready)


Controller = Callable[[float, float | None, int], tuple[int, int]]  # (now, seen, ready) -> bounds


class Fleet:
    """The pods of one strategy: how many calls they admit now, and what they cost."""

    def __init__(self, trace: Trace, strategy: str, planner: Any, forecaster: Forecaster) -> None:
        self.capacity = planner.capacity(trace.spec)
        spec = self.capacity.spec
        self.per_pod = spec.sessions.per_pod
        self.outcome = Outcome(strategy)
        self.planner = planner
        self.oracle = strategy == "oracle"
        self.pods, self.changed = spec.replicas.min, 0.0  # the oracle's
        blocking = getattr(spec.sessions, "blocking_target", None)
        target = (
            float(self.per_pod)
            if blocking is not None
            else self.per_pod * spec.sessions.target_utilization
        )
        # Every strategy's HPA has the spec's stabilization: the same user configures a plain
        # HPA (or KEDA's) the same way, so the comparison isolates what voicecap adds.
        window = spec.scale_down.stabilization.total_seconds()
        self.hpa = HPA(target, window, trace.startup.total_seconds(), spec.replicas.min)
        self.controller = (
            None
            if self.oracle
            else _controller(trace, strategy, planner, self.capacity, forecaster, self.outcome)
        )

    def slots(self, now: float, busy: int) -> int:
        """Calls the ready pods admit; the oracle has exactly the pods the next call needs."""
        if self.oracle:
            return self._oracle_pods(busy + 1) * self.per_pod
        return self.hpa.ready(now) * self.per_pod

    def calls_changed(self, now: float, busy: int) -> None:
        if self.oracle:
            self.outcome.pod_seconds += self.pods * (now - self.changed)
            self.pods, self.changed = self._oracle_pods(busy), now

    def control(self, now: float, seen: float | None) -> None:
        """One 15 s tick: the strategy's bounds, then the HPA."""
        if self.controller is None:
            return
        floor, ceiling = self.controller(now, seen, self.hpa.ready(now))
        self.hpa.sync(now, seen, floor, ceiling)
        self.outcome.pod_seconds += len(self.hpa.ready_at) * SYNC_SECONDS

    def _oracle_pods(self, calls: int) -> int:
        replicas = self.capacity.spec.replicas
        return min(
            max(self.planner.session_replicas(self.capacity, calls), replicas.min), replicas.max
        )


def run(trace: Trace, strategy: str, planner: Any, forecaster: Forecaster, seed: int) -> Outcome:
    """Simulate the trace's span; `planner` is the product (plan, models) under test."""
    start = trace.start()
    span = (trace.end() - start).total_seconds()
    fleet = Fleet(trace, strategy, planner, forecaster)
    outcome = fleet.outcome
    env = simpy.Environment()
    busy = [0]
    samples: deque[tuple[float, int]] = deque([(0.0, 0)])
    rng = np.random.default_rng(seed)
    mu = math.log(MEAN_CALL_SECONDS) - CALL_SIGMA**2 / 2

    def control() -> Any:
        while True:
            fleet.control(env.now, _seen(samples, env.now))
            yield env.timeout(SYNC_SECONDS)

    def call(duration: float) -> Any:
        for change in (1, -1):
            busy[0] += change
            fleet.calls_changed(env.now, busy[0])
            samples.append((env.now, busy[0]))
            if change == 1:
                yield env.timeout(duration)

    def arrivals() -> Any:
        while env.now < span:
            minute = env.now // 60
            moment = start + timedelta(seconds=minute * 60)
            rate = trace.rate(_local_hour(moment, trace.zone)) / 60  # per second
            gap = rng.exponential(1 / rate) if rate > 0 else 60.0
            if env.now + gap >= (minute + 1) * 60:  # memoryless: restart at the next minute
                yield env.timeout((minute + 1) * 60 - env.now)
                continue
            yield env.timeout(gap)
            outcome.offered += 1
            if busy[0] >= fleet.slots(env.now, busy[0]):
                outcome.rejected += 1
                continue
            env.process(call(float(rng.lognormal(mu, CALL_SIGMA))))

    env.process(control())
    env.process(arrivals())
    env.run(until=span)
    fleet.calls_changed(span, busy[0])
    return outcome


def _seen(samples: deque[tuple[float, int]], now: float) -> float | None:
    """The busy calls as Prometheus saw them METRIC_LAG_SECONDS ago."""
    moment = now - METRIC_LAG_SECONDS
    while len(samples) > 1 and samples[1][0] <= moment:
        samples.popleft()
    return float(samples[0][1])


def _local_hour(moment: datetime, zone: str) -> float:
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    wall = moment.astimezone(ZoneInfo(zone))
    return wall.hour + wall.minute / 60


def _controller(  # noqa: PLR0917 (one call site, in Fleet)
    trace: Trace,
    strategy: str,
    planner: Any,
    capacity: Any,
    forecaster: Forecaster,
    outcome: Outcome,
) -> Controller:
    spec = capacity.spec
    start = trace.start()
    if strategy == "hpa":
        return lambda _now, _seen, _ready: (spec.replicas.min, spec.replicas.max)
    if strategy == "keda-cron":
        sizes = _cron_sizes(trace, planner, capacity, forecaster)

        def cron(now: float, _seen: float | None, _ready: int) -> tuple[int, int]:
            moment = start + timedelta(seconds=now)
            size = max(
                (size for (s, e), size in sizes.items() if s <= moment < e),
                default=spec.replicas.min,
            )
            return min(max(size, spec.replicas.min), spec.replicas.max), spec.replicas.max

        return cron
    state: dict[str, Any] = {"memory": None}

    def voicecap(now: float, seen: float | None, ready: int) -> tuple[int, int]:
        moment = start + timedelta(seconds=now)
        decided = planner.plan(
            capacity,
            sessions=seen,
            at=moment,
            ready=ready,
            forecasts=forecaster.raised(capacity, moment),
            memory=state["memory"],
            actuals=forecaster.actuals(capacity, moment),
            burst=forecaster.burst,
        )
        state["memory"] = decided.memory
        if outcome.floors and outcome.floors[-1][1] != decided.floor:
            outcome.floor_changes += 1
        outcome.floors.append((moment, decided.floor))
        outcome.alerts |= planner.alerts(decided)
        return decided.floor, decided.ceiling

    return voicecap


def _cron_sizes(
    trace: Trace, planner: Any, capacity: Any, forecaster: Forecaster
) -> dict[tuple[datetime, datetime], int]:
    """Each window's cron minimum: the largest peak floor voicecap plans inside it, minute by
    minute (with no live calls, so only the peak term counts)."""
    sizes: dict[tuple[datetime, datetime], int] = {}
    capacity = planner.every_day(capacity)
    for window in planner.windows(capacity, trace.start(), trace.end()):
        moment, best = window[0], 0
        while moment < window[1]:
            decided = planner.plan(
                capacity,
                sessions=None,
                at=moment,
                ready=None,
                forecasts=forecaster.raised(capacity, moment),
                memory=None,
            )
            best = max(best, decided.peak_floor or 0)
            moment += timedelta(minutes=1)
        sizes[window] = best
    return sizes
