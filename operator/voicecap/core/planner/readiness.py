"""How long the target takes from a raised floor to Ready pods, measured at every evaluation.

A scale-up starts when the floor is raised above the ready pods, and ends when the ready pods
reach the floor it asked for: the time in between is what a pre-scale's leadTime must cover
(nodes provisioned, images pulled, models loaded). A scale-up overtaken by a lower floor is
dropped; one raised again while pending keeps its start (the pods were asked for then). The
resolution is the evaluation interval (the fleet cycle, 15 s by default).

The last RECENT scale-ups are kept; their STARTUP_QUANTILE (the slowest but one of ten), plus an
HPA sync and the metrics' lag, is how long a pod asked for now takes to carry calls: the peak
floor looks that far ahead, and `leadTime: auto` raises a window that early
(core/planner/lead_time.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from voicecap.api.base import HPA_SYNC

RECENT = 10  # scale-ups kept
STARTUP_QUANTILE = 0.9
# The HPA acts on a pod's calls within one sync (HPA_SYNC) of Prometheus' scrape showing them.
METRIC_LAG = timedelta(minutes=1)  # Prometheus' default scrape interval


@dataclass(frozen=True)
class ScaleUp:
    started: datetime
    target: int  # the floor asked for


@dataclass(frozen=True)
class Readiness:
    pending: ScaleUp | None = None
    last_seconds: float | None = None  # the last scale-up measured, start to Ready
    last_target: int | None = None
    recent: tuple[float, ...] = ()  # the last RECENT scale-ups' seconds, oldest first

    def startup(self) -> timedelta | None:
        """How long a pod asked for now takes to carry calls: the STARTUP_QUANTILE of the recent
        scale-ups (nearest rank), plus an HPA sync and the metrics' lag; None: none measured."""
        if not self.recent:
            return None
        ordered = sorted(self.recent)
        rank = max(math.ceil(STARTUP_QUANTILE * len(ordered)), 1)
        return timedelta(seconds=ordered[rank - 1]) + HPA_SYNC + METRIC_LAG


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
            seconds = round(max((now - pending.started).total_seconds(), 0.0), 1)
            recent = (*previous.recent, seconds)[-RECENT:]
            return Readiness(None, seconds, pending.target, recent)
        if floor <= ready:
            return replace(previous, pending=None)  # no longer wanted
        if floor > pending.target:
            return replace(previous, pending=ScaleUp(pending.started, floor))
        return previous
    if last_floor is not None and floor > last_floor and floor > ready:
        return replace(previous, pending=ScaleUp(now, floor))
    return previous
