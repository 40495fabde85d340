"""How long the target takes from a raised floor to Ready pods, measured at every evaluation.

A scale-up starts when the floor is raised above the ready pods, and ends when the ready pods
reach the floor it asked for: the time in between is what a pre-scale's leadTime must cover
(nodes provisioned, images pulled, models loaded). A scale-up overtaken by a lower floor is
dropped; one raised again while pending keeps its start (the pods were asked for then). The
resolution is the evaluation interval (the fleet cycle, 15 s by default).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime


@dataclass(frozen=True)
class ScaleUp:
    started: datetime
    target: int  # the floor asked for


@dataclass(frozen=True)
class Readiness:
    pending: ScaleUp | None = None
    last_seconds: float | None = None  # the last scale-up measured, start to Ready
    last_target: int | None = None


def track(
    previous: Readiness,
    *,
    last_floor: int | None,
    floor: int,
    ready: int | None,
    now: datetime,
) -> Readiness:
    if ready is None:
        return previous  # the target is unknown: nothing to measure, nothing to drop
    pending = previous.pending
    if pending is not None:
        if ready >= pending.target:
            seconds = max((now - pending.started).total_seconds(), 0.0)
            return Readiness(None, round(seconds, 1), pending.target)
        if floor <= ready:
            return replace(previous, pending=None)  # no longer wanted
        if floor > pending.target:
            return replace(previous, pending=ScaleUp(pending.started, floor))
        return previous
    if last_floor is not None and floor > last_floor and floor > ready:
        return replace(previous, pending=ScaleUp(now, floor))
    return previous
