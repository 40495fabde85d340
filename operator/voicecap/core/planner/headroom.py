"""Headroom levels with the sustained-for rule, as Prometheus' `for:` counts them.

A level counts once utilization has stayed at or above its threshold for `headroom.for`.
Named policy GapKeepsClock: while utilization is unknown (no session data, no ready count) the
tracker neither starts nor resets its clocks; the floor is protected by the outage policy then.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from voicecap.core import sizing

Level = Literal["Normal", "Warning", "Critical"]


@dataclass(frozen=True)
class HeadroomState:
    warning_since: datetime | None = None
    critical_since: datetime | None = None
    near_ceiling_since: datetime | None = None


@dataclass(frozen=True)
class HeadroomVerdict:
    level: Level  # sustained for `for`: what counts
    instantaneous: Level  # right now, maybe not yet sustained
    state: HeadroomState


def evaluate(
    utilization: float | None,
    *,
    warning: float,
    critical: float,
    sustain: timedelta,
    previous: HeadroomState,
    now: datetime,
) -> HeadroomVerdict:
    if utilization is None:
        state = previous
        instantaneous = _level_of(state, now, timedelta(0))
    else:
        state = HeadroomState(
            warning_since=(previous.warning_since or now) if utilization >= warning else None,
            critical_since=(previous.critical_since or now) if utilization >= critical else None,
            near_ceiling_since=previous.near_ceiling_since,
        )
        instantaneous = (
            "Critical"
            if utilization >= critical
            else "Warning"
            if utilization >= warning
            else "Normal"
        )
    return HeadroomVerdict(
        level=_level_of(state, now, sustain), instantaneous=instantaneous, state=state
    )


def _level_of(state: HeadroomState, now: datetime, sustain: timedelta) -> Level:
    if state.critical_since is not None and now - state.critical_since >= sustain:
        return "Critical"
    if state.warning_since is not None and now - state.warning_since >= sustain:
        return "Warning"
    return "Normal"


@dataclass(frozen=True)
class CeilingVerdict:
    """The planning signal: calls against what the ceiling can carry."""

    ratio: float | None  # calls / ceiling sessions; None while either is unknown
    threshold: float
    near: bool  # at or above the threshold for `for`
    since: datetime | None


def near_ceiling(
    ratio: float | None,
    *,
    threshold: float,
    sustain: timedelta,
    previous: datetime | None,
    now: datetime,
) -> CeilingVerdict:
    """calls / ceiling >= threshold sustained (GapKeepsClock while unknown, as above)."""
    rising = ratio is not None and ratio >= threshold
    since = previous if ratio is None else (previous or now) if rising else None
    return CeilingVerdict(ratio, threshold, since is not None and now - since >= sustain, since)


def ready_utilization(active: float | None, ready: int | None, per_pod: int) -> float | None:
    """Utilization of the ready pods for the headroom levels (0 ready pods with calls: inf)."""
    if active is None or ready is None:
        return None
    if ready == 0:
        return math.inf if active > 0 else 0.0  # calls and no ready pod: as bad as it gets
    return sizing.utilization(active, ready, per_pod)
