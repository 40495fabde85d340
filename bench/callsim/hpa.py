"""Kubernetes' HPA controller for one Pods metric (pkg/controller/podautoscaler), as the benchmark
runs it for every strategy; written apart from the product's replay model
(operator/voicecap/core/replay/hpa_model.py) so that the yardstick does not share its mistakes.
tests/support/hpa_cases.py checks both against cases from the controller's own unit tests.

Every 15 s: a target outside [minReplicas, maxReplicas] goes to the bound; else the metric's
recommendation (10 % tolerance; pods not ready left out, or counted as carrying nothing on a
scale-up), stabilized (going up: the lowest recommendation of the scale-up window; going down:
the highest of the scale-down window, the first sync seeding it with the current replicas), then
clamped to the bounds and to the policies' rates over their periods. Times are seconds.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

SYNC_SECONDS = 15.0
TOLERANCE = 0.1


@dataclass(frozen=True)
class Rules:
    """One direction of spec.behavior: (kind, value, period seconds) policies."""

    window: float
    policies: tuple[tuple[str, int, float], ...]
    select: str = "Max"


UP = Rules(0.0, (("Pods", 4, SYNC_SECONDS), ("Percent", 100, SYNC_SECONDS)))


def down(window: float) -> Rules:
    return Rules(window, (("Percent", 100, SYNC_SECONDS),))


@dataclass
class HPA:
    target: float
    stabilization: float
    startup: float
    pods: int
    up: Rules = UP
    down_rules: Rules | None = None
    ready_at: list[float] = field(default_factory=list)
    recommendations: deque[tuple[float, int]] | None = None
    changes: list[tuple[float, int]] = field(default_factory=list)  # (moment, +added / -removed)
    going_down: Rules = field(init=False)

    def __post_init__(self) -> None:
        if not self.ready_at:
            self.ready_at = [-self.startup] * self.pods
        self.going_down = self.down_rules or down(self.stabilization)

    def ready(self, now: float) -> int:
        return sum(1 for moment in self.ready_at if moment <= now)

    def sync(
        self,
        now: float,
        metric: float | None,
        floor: int,
        ceiling: int,
        external: float | None = None,
    ) -> None:
        """One sync; `external` is a second metric's value (an External metric with an
        AverageValue target equal to the Pods metric's, as KEDA's prometheus trigger makes)."""
        current = len(self.ready_at)
        desired = self.decide(now, current, self.ready(now), metric, floor, ceiling, external)
        if desired > current:
            self.ready_at += [now + self.startup] * (desired - current)
        elif desired < current:
            self.ready_at.sort()
            del self.ready_at[desired:]

    def decide(  # noqa: PLR0917 (the controller's inputs)
        self,
        now: float,
        current: int,
        ready: int,
        metric: float | None,
        floor: int,
        ceiling: int,
        external: float | None = None,
    ) -> int:
        if self.recommendations is None:
            self.recommendations = deque([(now, current)])
        if current == 0 and floor != 0:
            return current
        if not floor <= current <= ceiling:
            desired = ceiling if current > ceiling else floor
        else:
            proposals = [self.proposal(current, ready, metric), self.external(current, external)]
            known = [value for value in proposals if value is not None]
            if not known:
                return current
            proposal = max(known)  # the controller takes the largest metric's recommendation
            desired = self.normalize(now, current, proposal, floor, ceiling)
        if desired != current:
            self.changes.append((now, desired - current))
        return desired

    def proposal(self, current: int, ready: int, metric: float | None) -> int | None:
        """The metric's own recommendation (None: no decision this sync)."""
        if metric is None or ready == 0:
            return None
        ratio = metric / (ready * self.target)
        starting = current - ready
        if starting > 0 and ratio > 1:  # a scale-up: pods still starting carry nothing
            ratio = metric / (current * self.target)
            if ratio < 1 or abs(ratio - 1) <= TOLERANCE:
                return current
            return math.ceil(ratio * current)
        return current if abs(ratio - 1) <= TOLERANCE else math.ceil(ratio * ready)

    def external(self, current: int, value: float | None) -> int | None:
        """GetExternalPerPodMetricReplicas: the value over the per-pod target, within tolerance."""
        if value is None or current == 0:
            return None
        if abs(value / (self.target * current) - 1) <= TOLERANCE:
            return current
        return math.ceil(value / self.target)

    def normalize(self, now: float, current: int, proposal: int, floor: int, ceiling: int) -> int:
        rules = self.up if proposal >= current else self.going_down
        history = self.recommendations if self.recommendations is not None else deque()
        recent = [value for moment, value in history if moment > now - rules.window]
        stabilized = (min if proposal >= current else max)([proposal, *recent])
        history.append((now, proposal))
        keep = max(self.up.window, self.going_down.window)
        while history[0][0] < now - keep:
            history.popleft()
        self.recommendations = history
        if stabilized > current:
            return min(stabilized, ceiling, max(self._rate(now, current, self.up, 1), current))
        if stabilized < current:
            limit = min(self._rate(now, current, self.going_down, -1), current)
            return max(stabilized, floor, limit)
        return stabilized

    def _rate(self, now: float, current: int, rules: Rules, sign: int) -> int:
        """The furthest the policies let the replicas go in direction `sign` now."""
        if rules.select == "Disabled":
            return current
        reach = []
        for kind, value, period in rules.policies:
            moved = sum(
                change
                for moment, change in self.changes
                if moment > now - period and change * sign > 0
            )
            start = current - moved
            if kind == "Pods":
                reach.append(start + sign * value)
            elif sign > 0:
                reach.append(math.ceil(start * (1 + value / 100)))
            else:
                reach.append(math.floor(start * (1 - value / 100)))
        wide = max if (rules.select == "Max") == (sign > 0) else min
        return wide(reach)
