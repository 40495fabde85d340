"""The live latency guard (spec.latency): when the vertical's latency quantile has stayed above
its target for `for`, the pods are too full whatever perPod says. The guard then

- raises the floor: by a quarter of the pods (at least one) when it acts, and again each `for`
  the latency stays above target;
- stops the admission limit from rising above the live calls (core/planner/stages.py, report);

and lets go once the latency has stayed under 90 % of the target for `for` (hysteresis: a
latency hovering at the target does not flap the floor). While the latency is unknown its clocks
neither start nor reset (GapKeepsClock, as for headroom).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

RELEASE = 0.9  # back under 90 % of the target: recovered
STEP = 1.25  # the floor rises by a quarter of the pods each time


@dataclass(frozen=True)
class LatencyState:
    above_since: datetime | None = None  # above target since
    below_since: datetime | None = None  # under RELEASE x target since
    guard_pods: int | None = None  # the floor the guard holds (None: not holding)
    raised_at: datetime | None = None  # when guard_pods last rose


@dataclass(frozen=True)
class LatencyVerdict:
    seconds: float | None  # the quantile now (None: unknown or not watched)
    target: float | None  # seconds (None: no spec.latency)
    state: LatencyState

    @property
    def guarding(self) -> bool:
        return self.state.guard_pods is not None


def evaluate(
    seconds: float | None,
    *,
    target: timedelta,
    sustain: timedelta,
    pods: int,
    previous: LatencyState,
    now: datetime,
) -> LatencyVerdict:
    """The guard's next state from the quantile now; `pods` are the ready pods (or the floor
    while they are unknown), from which the first raise counts."""
    goal = target.total_seconds()
    if seconds is None:
        return LatencyVerdict(None, goal, previous)
    above = seconds > goal
    state = replace(
        previous,
        above_since=(previous.above_since or now) if above else None,
        below_since=(previous.below_since or now) if seconds <= RELEASE * goal else None,
    )
    held = state.guard_pods
    if held is None:
        if state.above_since is not None and now - state.above_since >= sustain:
            state = replace(state, guard_pods=raised(pods), raised_at=now)
    elif state.below_since is not None and now - state.below_since >= sustain:
        state = replace(state, guard_pods=None, raised_at=None)
    elif above and state.raised_at is not None and now - state.raised_at >= sustain:
        state = replace(state, guard_pods=raised(held), raised_at=now)
    return LatencyVerdict(seconds, goal, state)


def raised(pods: int) -> int:
    """A quarter more pods, and at least one more."""
    return max(pods + 1, math.ceil(pods * STEP))
