"""Kubernetes' HPA controller for one Pods metric (pkg/controller/podautoscaler), as the
benchmark runs it for every strategy (callsim/sim.py says what it models)."""

from __future__ import annotations

import math
from collections import deque

SYNC_SECONDS = 15.0
TOLERANCE = 0.1


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
