"""Kubernetes' HPA controller as the replay models it (pkg/controller/podautoscaler: horizontal.go
and replica_calculator.go), for one Pods metric, every strategy's (core/replay/strategies.py):

1. A target below minReplicas or above maxReplicas is set to that bound at once.
2. Else the metric's recommendation (calcPlainMetricReplicas): the average over the ready pods
   against the target; within the 10 % tolerance the replicas stay. Pods not ready yet (Pending)
   are left out, except on a scale-up, where they count as carrying nothing. No metric: no
   decision at all (the controller fails to compute one and keeps the replicas).
3. The recommendation is stabilized (stabilizeRecommendationWithBehaviors): going up, the lowest
   recommendation of the scale-up window (0s by default: the one just made); going down, the
   highest of the scale-down window. The recommendation stored is the metric's own, never
   clamped by minReplicas: a minReplicas that falls is not held a second time. The first sync
   seeds the window with the current replicas (recordInitialRecommendation).
4. Then minReplicas, maxReplicas and the scaling policies (convertDesiredReplicasWithBehaviorRate):
   by default up by max(4 pods, 100 %) and down by 100 % per 15 s, counting the changes made
   within each policy's period.

tests/support/hpa_cases.py holds cases taken from the controller's own unit tests; the same
cases check the call-level benchmark's HPA (bench/callsim/hpa.py), written apart from this one.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from voicecap.api.base import HPA_SYNC, HPA_TOLERANCE
from voicecap.api.models import VoiceCapacity
from voicecap.core import sizing


@dataclass(frozen=True)
class ScalingPolicy:
    kind: Literal["Pods", "Percent"]
    value: int
    period: timedelta


@dataclass(frozen=True)
class ScalingRules:
    """One direction of spec.behavior."""

    stabilization: timedelta
    policies: tuple[ScalingPolicy, ...]
    select: Literal["Max", "Min", "Disabled"] = "Max"


def default_scale_up() -> ScalingRules:
    """The API's default scaleUp: no stabilization, max(+4 pods, +100 %) per 15 s."""
    return ScalingRules(
        timedelta(0),
        (ScalingPolicy("Pods", 4, HPA_SYNC), ScalingPolicy("Percent", 100, HPA_SYNC)),
    )


def default_scale_down(stabilization: timedelta = timedelta(minutes=5)) -> ScalingRules:
    """The API's default scaleDown (100 % per 15 s) with the given stabilization window."""
    return ScalingRules(stabilization, (ScalingPolicy("Percent", 100, HPA_SYNC),))


@dataclass
class HPAController:
    """The controller's decision for one HPA, sync by sync, and the history it keeps."""

    scale_up: ScalingRules = field(default_factory=default_scale_up)
    scale_down: ScalingRules = field(default_factory=default_scale_down)
    tolerance: float = HPA_TOLERANCE
    recommendations: deque[tuple[datetime, int]] | None = None  # None: not seen yet
    up_events: list[tuple[datetime, int]] = field(default_factory=list)
    down_events: list[tuple[datetime, int]] = field(default_factory=list)

    def desired(
        self,
        now: datetime,
        *,
        current: int,
        ready: int,
        metric: float | None,
        target: float,
        minimum: int,
        maximum: int,
        external: float | None = None,
    ) -> int:
        """The replicas the controller sets the target to at `now`; `metric` is the sum of the
        ready pods' values (None: unavailable), `target` the per-pod AverageValue; `external`
        a second metric's value (an External metric with the same AverageValue, as KEDA's
        prometheus trigger makes): the controller takes the larger recommendation."""
        if self.recommendations is None:
            self.recommendations = deque([(now, current)])
        if current == 0 and minimum != 0:
            return current  # scaling disabled
        if current > maximum or current < minimum:
            wanted = maximum if current > maximum else minimum
            self._record(now, current, wanted)
            return wanted
        proposals = (
            self.metric_recommendation(current, ready, metric, target)
            if metric is not None
            else None,
            self.external_recommendation(current, external, target),
        )
        known = [value for value in proposals if value is not None]
        if not known:
            return current
        recommendation = max(known)
        wanted = self.normalize(now, current, recommendation, minimum, maximum)
        self._record(now, current, wanted)
        return wanted

    def metric_recommendation(
        self, current: int, ready: int, metric: float, target: float
    ) -> int | None:
        """calcPlainMetricReplicas for pods that are ready (with the metric) or Pending."""
        if ready <= 0 or target <= 0:
            return None  # no metrics for any ready pod: no decision
        ratio = metric / (ready * target)
        pending = max(current - ready, 0)
        if not (pending and ratio > 1):
            if abs(1 - ratio) <= self.tolerance:
                return current
            return math.ceil(ratio * ready)
        rebalanced = metric / ((ready + pending) * target)  # Pending pods carry nothing
        if abs(1 - rebalanced) <= self.tolerance or rebalanced < 1:
            return current
        return math.ceil(rebalanced * (ready + pending))

    def external_recommendation(
        self, current: int, value: float | None, target: float
    ) -> int | None:
        """GetExternalPerPodMetricReplicas: the value over the per-pod target, within the
        tolerance of the current replicas."""
        if value is None or current <= 0 or target <= 0:
            return None
        if abs(value / (target * current) - 1) <= self.tolerance:
            return current
        return math.ceil(value / target)

    def normalize(
        self, now: datetime, current: int, recommendation: int, minimum: int, maximum: int
    ) -> int:
        """normalizeDesiredReplicasWithBehaviors: stabilize, then the bounds and the rates."""
        stabilized = self.stabilize(now, current, recommendation)
        if stabilized > current:
            limit = max(_up_limit(current, self.up_events, self.scale_up, now), current)
            return min(stabilized, maximum, limit)
        if stabilized < current:
            limit = min(_down_limit(current, self.down_events, self.scale_down, now), current)
            return max(stabilized, minimum, limit)
        return stabilized

    def stabilize(self, now: datetime, current: int, recommendation: int) -> int:
        """The window's lowest recommendation going up, its highest going down; stores this one."""
        history = self.recommendations if self.recommendations is not None else deque()
        up = recommendation >= current
        window = (self.scale_up if up else self.scale_down).stabilization
        cutoff = now - window
        pick = min if up else max
        stabilized = recommendation
        for moment, value in history:
            if moment > cutoff:
                stabilized = pick(stabilized, value)
        longest = max(self.scale_up.stabilization, self.scale_down.stabilization)
        while history and history[0][0] < now - longest:
            history.popleft()
        history.append((now, recommendation))
        self.recommendations = history
        return stabilized

    def _record(self, now: datetime, current: int, wanted: int) -> None:
        if wanted > current:
            self.up_events.append((now, wanted - current))
        elif wanted < current:
            self.down_events.append((now, current - wanted))


def _changed_within(events: list[tuple[datetime, int]], period: timedelta, now: datetime) -> int:
    return sum(change for moment, change in events if moment > now - period)


def _up_limit(
    current: int, events: list[tuple[datetime, int]], rules: ScalingRules, now: datetime
) -> int:
    if rules.select == "Disabled":
        return current
    proposals = []
    for policy in rules.policies:
        start = current - _changed_within(events, policy.period, now)
        if policy.kind == "Pods":
            proposals.append(start + policy.value)
        else:
            proposals.append(math.ceil(start * (1 + policy.value / 100)))
    pick = min if rules.select == "Min" else max
    return pick(proposals, default=current)


def _down_limit(
    current: int, events: list[tuple[datetime, int]], rules: ScalingRules, now: datetime
) -> int:
    if rules.select == "Disabled":
        return current
    proposals = []
    for policy in rules.policies:
        start = current + _changed_within(events, policy.period, now)
        if policy.kind == "Pods":
            proposals.append(start - policy.value)
        else:
            proposals.append(math.floor(start * (1 - policy.value / 100)))
    pick = max if rules.select == "Min" else min
    return pick(proposals, default=current)


@dataclass
class SimulatedHPA:
    """The target's pods under the controller: when each becomes ready."""

    target_per_pod: float  # the Pods metric's AverageValue
    controller: HPAController = field(default_factory=HPAController)
    ready_at: list[datetime] = field(default_factory=list)

    def ready(self, now: datetime) -> int:
        return sum(1 for moment in self.ready_at if moment <= now)

    @property
    def pods(self) -> int:
        return len(self.ready_at)

    def sync(
        self,
        now: datetime,
        sessions: float | None,
        *,
        floor: int,
        ceiling: int,
        startup: timedelta,
        external: float | None = None,
    ) -> None:
        """One sync of the controller; new pods are ready `startup` after they are asked for,
        and a scale-down removes the not-ready pods first (as the ReplicaSet controller does)."""
        current = self.pods
        wanted = self.controller.desired(
            now,
            current=current,
            ready=self.ready(now),
            metric=sessions,
            target=self.target_per_pod,
            minimum=floor,
            maximum=ceiling,
            external=external,
        )
        if wanted > current:
            self.ready_at += [now + startup] * (wanted - current)
        elif wanted < current:
            self.ready_at.sort()
            del self.ready_at[wanted:]


def hpa_for(capacity: VoiceCapacity) -> SimulatedHPA:
    """The HPA every strategy runs, with the spec's scale-down stabilization: the same user
    would configure a plain HPA (or KEDA's) the same way, so the comparison isolates what
    voicecap adds."""
    sessions = capacity.spec.sessions
    target = sizing.hpa_target_per_pod(
        sessions.per_pod, sessions.target_utilization, sessions.blocking_target
    )
    controller = HPAController(
        scale_down=default_scale_down(capacity.spec.scale_down.stabilization)
    )
    return SimulatedHPA(float(target), controller)
