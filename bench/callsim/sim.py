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
  target (ready at once), within replicas.min and replicas.max: the limit nobody beats. Beside
  it, the same oracle holding its pods for spec.scaleDown.stabilization as every strategy's HPA
  must (the most pods of the window): what a strategy pays above it is its own doing.
- A trace with a Truth (callsim/truth.py), and voicecap-measured on any trace, run in the voice
  world of callsim/voice.py: the gateway admits up to the admission limit voicecap publishes
  (ready pods x the per-pod capacity it counts, the calls its TPM grant carries, the live calls
  while latency holds it), or ready pods x the declared perPod without voicecap (an agent's own
  load limit); pods answer at their true latency, callers hang up past 1.5 s and the provider
  refuses tokens past its cap; the oracle runs the pods the calls need at the TRUE capacity and
  admits what the provider can carry. What each strategy tells the HPA: callsim/controllers.py.

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

from callsim.controllers import Decision, Measuring, controller, measured_spec
from callsim.history import Forecaster
from callsim.hpa import HPA, SYNC_SECONDS
from callsim.traces import CALL_SIGMA, MEAN_CALL_SECONDS, Trace
from callsim.truth import Truth
from callsim.voice import Voice

METRIC_LAG_SECONDS = 30.0
Observer = Callable[[float, int, "Fleet"], None]  # (now, busy calls, fleet) each control tick


@dataclass
class Outcome:
    strategy: str
    offered: int = 0
    rejected: int = 0
    pod_seconds: float = 0.0
    floor_changes: int = 0
    floors: list[tuple[datetime, int]] = field(default_factory=list)
    alerts: set[str] = field(default_factory=set)
    voice: Voice | None = None  # a trace with a Truth: hang-ups, 429s, latency over target
    held_pod_seconds: float = 0.0  # the oracle's pods held through the scale-down window

    @property
    def rejected_ratio(self) -> float:
        return self.rejected / self.offered if self.offered else 0.0

    @property
    def pod_hours(self) -> float:
        return self.pod_seconds / 3600


class Fleet:
    """The pods of one strategy: how many calls they admit now, and what they cost."""

    def __init__(
        self,
        trace: Trace,
        strategy: str,
        planner: Any,
        forecaster: Forecaster,
        calibration: Any = None,
    ) -> None:
        measured = strategy == "voicecap-measured"
        self.capacity = planner.capacity(measured_spec(trace.spec) if measured else trace.spec)
        spec = self.capacity.spec
        self.per_pod = spec.sessions.per_pod
        self.outcome = Outcome(strategy)
        self.planner = planner
        self.oracle = strategy == "oracle"
        self.pods, self.changed = spec.replicas.min, 0.0  # the oracle's
        truth = trace.truth or (Truth.declared(spec) if measured else None)
        self.voice = Voice(truth, trace.start(), trace.zone, METRIC_LAG_SECONDS) if truth else None
        self.outcome.voice = self.voice
        self.decision: Decision | None = None
        self._needed: deque[tuple[float, int]] = deque([(0.0, self.pods)])  # the oracle's
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
        measuring = Measuring(self.voice, calibration) if measured and self.voice else None
        self.controller = (
            None
            if self.oracle
            else controller(
                trace, strategy, planner, self.capacity, forecaster, self.outcome, measuring
            )
        )

    def slots(self, now: float, busy: int) -> int:
        """Calls the gateway admits now; the oracle has exactly the pods the next call needs."""
        if self.voice is not None:
            return self._admitted(now, busy)
        if self.oracle:
            return self._oracle_pods(busy + 1, now) * self.per_pod
        return self.hpa.ready(now) * self.per_pod

    def _held(self, now: float) -> int:
        """The most pods the oracle needed within the scale-down window before `now`."""
        window = self.hpa.stabilization
        while len(self._needed) > 1 and self._needed[1][0] <= now - window:
            self._needed.popleft()
        return max(pods for _, pods in self._needed)

    def serving(self, now: float) -> int:
        """The pods the calls are spread over."""
        return self.pods if self.oracle else self.hpa.ready(now)

    def serving_next(self, now: float, busy: int) -> int:
        """The pods the next call is spread over with the `busy` ones."""
        return self._oracle_pods(busy + 1, now) if self.oracle else self.hpa.ready(now)

    def calls_changed(self, now: float, busy: int) -> None:
        if self.oracle:
            self.outcome.pod_seconds += self.pods * (now - self.changed)
            self.outcome.held_pod_seconds += self._held(now) * (now - self.changed)
            self.pods, self.changed = self._oracle_pods(busy, now), now
            self._needed.append((now, self.pods))
        if self.voice is not None:
            self.voice.account(now, busy, self.serving(now), self.most(now))

    def control(self, now: float, seen: float | None, busy: int) -> None:
        """One 15 s tick: the strategy's bounds, then the HPA."""
        if self.controller is None:
            return
        decision = self.controller(now, seen, self.hpa.ready(now))
        if decision.hpa_target is not None:
            self.hpa.target = decision.hpa_target
        self.decision = decision
        self.hpa.sync(now, seen, decision.floor, decision.ceiling, decision.external)
        self.outcome.pod_seconds += len(self.hpa.ready_at) * SYNC_SECONDS
        if self.voice is not None:
            self.voice.account(now, busy, self.serving(now), self.most(now))

    def most(self, now: float) -> float:
        """The most calls the gateway puts on one pod (the voice world)."""
        assert self.voice is not None
        if self.oracle:
            return self.voice.capacity(now)
        decision = self.decision
        return float(
            decision.per_pod if decision is not None and decision.per_pod else self.per_pod
        )

    def _admitted(self, now: float, busy: int) -> int:
        """The voice world's admission limit (the module docstring)."""
        assert self.voice is not None
        truth = self.voice.truth
        if self.oracle:
            pods = self._oracle_pods(busy + 1, now)
            limit = math.floor(pods * self.voice.capacity(now))
            if truth.tpm_cap is not None and truth.tokens_per_minute:
                limit = min(limit, math.floor(truth.tpm_cap / truth.tokens_per_minute))
            return limit
        ready = self.hpa.ready(now)
        decision = self.decision
        if decision is None or decision.per_pod is None:  # no voicecap: the agents' own limit
            return ready * self.per_pod
        limit = ready * decision.per_pod
        for bound in (decision.tpm_calls, decision.held):
            if bound is not None:
                limit = min(limit, bound)
        return limit

    def _oracle_pods(self, calls: int, now: float) -> int:
        replicas = self.capacity.spec.replicas
        if self.voice is None:
            wanted = self.planner.session_replicas(self.capacity, calls)
        else:  # the pods the calls need at the TRUE capacity now, at the object's target
            sessions = self.capacity.spec.sessions
            wanted = math.ceil(calls / (self.voice.capacity(now) * sessions.target_utilization))
        return min(max(wanted, replicas.min), replicas.max)


def run(  # noqa: PLR0917 (the benchmark's one entry)
    trace: Trace,
    strategy: str,
    planner: Any,
    forecaster: Forecaster,
    seed: int,
    calibration: Any = None,
    observe: Observer | None = None,
) -> Outcome:
    """Simulate the trace's span; `planner` is the product (plan, models) under test;
    `calibration` what voicecap-measured measured the day before; `observe` sees every tick."""
    start = trace.start()
    span = (trace.end() - start).total_seconds()
    fleet = Fleet(trace, strategy, planner, forecaster, calibration)
    outcome = fleet.outcome
    env = simpy.Environment()
    busy = [0]
    samples: deque[tuple[float, int]] = deque([(0.0, 0)])
    rng = np.random.default_rng(seed)
    mu = math.log(MEAN_CALL_SECONDS) - CALL_SIGMA**2 / 2

    def control() -> Any:
        while True:
            fleet.control(env.now, _seen(samples, env.now), busy[0])
            if observe is not None:
                observe(env.now, busy[0], fleet)
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
            if fleet.voice is not None and fleet.voice.lost(
                env.now, busy[0], fleet.serving_next(env.now, busy[0]), fleet.most(env.now)
            ):
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
