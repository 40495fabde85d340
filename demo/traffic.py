"""Synthetic call traffic: how many calls each vertical holds at a moment, in its own time zone.

Office verticals (healthcare, sales, real estate) sleep at night, ramp up from 7 am and surge on
Monday 9-11 am to about 5x a Sunday afternoon; the after-hours line is the mirror image, busy in
the evening and overnight. Levels are piecewise linear between (hour, share of the peak) points,
with a small deterministic wobble so the curve looks like calls, not a drawing.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

Curve = tuple[tuple[float, float], ...]  # (local hour, share of the peak), hours ascending

OFFICE_MONDAY: Curve = (
    (0, 0.03), (6, 0.04), (7, 0.2), (8, 0.45), (8.75, 0.8), (9, 1.0), (11, 1.0), (11.5, 0.65),
    (13, 0.55), (17, 0.45), (19, 0.12), (24, 0.04),
)  # fmt: skip
OFFICE_SUNDAY: Curve = ((0, 0.03), (9, 0.05), (12, 0.2), (17, 0.2), (20, 0.08), (24, 0.03))
AFTER_HOURS: Curve = (
    (0, 0.5), (3, 0.25), (7, 0.12), (9, 0.08), (16, 0.12), (17.5, 0.55), (18, 0.95), (21, 1.0),
    (24, 0.6),
)  # fmt: skip


@dataclass(frozen=True)
class Vertical:
    name: str
    namespace: str
    deployment: str
    zone: ZoneInfo
    peak_calls: float
    monday: Curve
    sunday: Curve

    def calls(self, at: datetime) -> float:
        local = at.astimezone(self.zone)
        curve = self.monday if local.weekday() == 0 else self.sunday
        hour = local.hour + local.minute / 60 + local.second / 3600
        return max(0.0, self.peak_calls * level(curve, hour) * wobble(at.timestamp()))


def level(curve: Curve, hour: float) -> float:
    index = bisect_right([point[0] for point in curve], hour)
    if index == 0:
        return curve[0][1]
    if index == len(curve):
        return curve[-1][1]
    (h0, v0), (h1, v1) = curve[index - 1], curve[index]
    return v0 + (v1 - v0) * (hour - h0) / (h1 - h0)


def wobble(seconds: float) -> float:
    """About +-6 %, smooth in time (two incommensurate waves), the same on every run."""
    return 1 + 0.04 * math.sin(seconds / 1100) + 0.02 * math.sin(seconds / 317 + 1.3)


def verticals(namespace: str = "voice") -> list[Vertical]:
    """The four examples/ verticals, each peaking a little above what its VoiceCapacity expects."""
    return [
        Vertical("healthcare", namespace, "healthcare-agent", ZoneInfo("America/New_York"), 720, OFFICE_MONDAY, OFFICE_SUNDAY),
        Vertical("sales", namespace, "sales-agent", ZoneInfo("America/Chicago"), 340, OFFICE_MONDAY, OFFICE_SUNDAY),
        Vertical("real-estate", namespace, "real-estate-agent", ZoneInfo("America/Los_Angeles"), 230, OFFICE_MONDAY, OFFICE_SUNDAY),
        Vertical("after-hours", namespace, "after-hours-agent", ZoneInfo("Europe/London"), 330, AFTER_HOURS, AFTER_HOURS),
    ]  # fmt: skip


def split(calls: float, pods: int, deployment: str) -> dict[str, float]:
    """Calls spread over a Deployment's pods, as its load balancer would (whole calls)."""
    pods = max(1, pods)
    whole = round(calls)
    base, extra = divmod(whole, pods)
    return {f"{deployment}-{index}": float(base + (index < extra)) for index in range(pods)}
