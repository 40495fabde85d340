"""Scale-down stabilization: the floor is the highest recommendation within the window.

This is the HPA's own rule (behavior.scaleDown.stabilizationWindowSeconds) applied to the floor,
so long-lived calls are never squeezed by a dip.

The history is kept in the object's status, so it must not change while nothing changes (a
steady cycle writes nothing). The newest entry is the current recommendation, dated from when it
began; every earlier entry is dated from when it stopped being recommended, which is when the
window starts counting for it. Only entries that can still be the maximum are kept, so the
history is a strictly decreasing run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Recommendation:
    at: datetime
    floor: int


def stabilize(
    desired: int,
    history: tuple[Recommendation, ...],
    *,
    window: timedelta,
    now: datetime,
) -> tuple[int, tuple[Recommendation, ...]]:
    """(stabilized floor, history to remember) after recommending `desired` at `now`."""
    if window <= timedelta(0):
        return desired, ()
    past = list(history[:-1])
    current = history[-1] if history else None
    if current is not None and current.floor != desired:
        past.append(Recommendation(now, current.floor))  # recommended until now
        current = None
    current = current or Recommendation(now, desired)
    live = [r for r in past if now - r.at < window and r.floor > desired]
    pruned: list[Recommendation] = []
    for recommendation in [*live, current]:
        while pruned and pruned[-1].floor <= recommendation.floor:
            pruned.pop()
        pruned.append(recommendation)
    return pruned[0].floor, tuple(pruned)
