"""Kubernetes' default HPA controller as the replay models it: every sync it wants
ceil(calls / target per pod) within its tolerance, scales up by its default policy, holds the
highest recommendation of its scale-down window, and each new pod becomes ready after a start-up
time. Every replayed strategy runs this same HPA (core/replay/strategies.py)."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from voicecap.api.base import HPA_TOLERANCE
from voicecap.api.models import VoiceCapacity
from voicecap.core import sizing

HPA_SYNC = timedelta(seconds=15)  # --horizontal-pod-autoscaler-sync-period


@dataclass
class SimulatedHPA:
    """The target's pods under Kubernetes' HPA: when each becomes ready."""

    target_per_pod: float  # the Pods metric's AverageValue
    scale_down_window: timedelta = timedelta(minutes=5)  # the HPA's default
    ready_at: list[datetime] = field(default_factory=list)
    recommendations: deque[tuple[datetime, int]] = field(default_factory=deque)

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
        elapsed: timedelta = HPA_SYNC,
    ) -> None:
        """One reconcile of the HPA (`elapsed` since the last: the scale-up policy's periods)."""
        current = self.pods
        wanted = self._wanted(sessions, current)
        self.recommendations.append((now, min(max(wanted, floor), ceiling)))
        # The window always holds the recommendation just made: with a 0s window it is the only
        # one (an empty window made `voicecap replay` fail on stabilization: 0s).
        cutoff = now - self.scale_down_window
        while len(self.recommendations) > 1 and self.recommendations[0][0] <= cutoff:
            self.recommendations.popleft()
        desired = self.recommendations[-1][1]
        if desired < current:  # scale-down: the highest recommendation of the window
            desired = min(current, max(value for _, value in self.recommendations))
        if desired > current:  # the default scale-up policy: max(+100 %, +4 pods) per 15 s
            allowed = current
            for _ in range(max(1, round(elapsed / HPA_SYNC))):
                allowed = max(2 * allowed, allowed + 4)
            desired = min(desired, allowed)
        desired = min(max(desired, floor), ceiling)
        if desired > current:
            self.ready_at += [now + startup] * (desired - current)
        elif desired < current:
            self.ready_at.sort()  # latest ready last: the not-ready pods are cut first
            del self.ready_at[desired:]

    def _wanted(self, sessions: float | None, current: int) -> int:
        if sessions is None:
            return current  # no metric: the HPA leaves the replicas where they are
        if current > 0:
            usage = sessions / (current * self.target_per_pod)
            if abs(usage - 1) <= HPA_TOLERANCE:
                return current
        return math.ceil(sessions / self.target_per_pod)


def hpa_for(capacity: VoiceCapacity) -> SimulatedHPA:
    """The HPA every strategy runs, with the spec's scale-down stabilization: the same user
    would configure a plain HPA (or KEDA's) the same way, so the comparison isolates what
    voicecap adds."""
    sessions = capacity.spec.sessions
    target = sizing.hpa_target_per_pod(
        sessions.per_pod, sessions.target_utilization, sessions.blocking_target
    )
    return SimulatedHPA(float(target), capacity.spec.scale_down.stabilization)
