"""Scale-down stabilization: the floor is the highest recommendation within the window.

This is the HPA's own rule (behavior.scaleDown.stabilizationWindowSeconds) applied to the floor,
so long-lived calls are never squeezed by a dip. Only recommendations that can still be the
maximum are kept: one that is not higher than a later one never will be, so the history is a
strictly decreasing run and stays short enough to live in status across restarts.
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
    recent = [r for r in history if now - r.at < window]
    kept = [*(r for r in recent if r.floor > desired), Recommendation(now, desired)]
    # Drop any entry dominated by a later one (equal or higher, and expiring later).
    pruned: list[Recommendation] = []
    for recommendation in kept:
        while pruned and pruned[-1].floor <= recommendation.floor:
            pruned.pop()
        pruned.append(recommendation)
    return pruned[0].floor, tuple(pruned)
