"""How early a window is raised, and how far ahead a raised window's floor looks.

- `leadTime` as a duration keeps its meaning: the floor is raised that long before the start.
- `leadTime: auto` is what this vertical's pods measurably take to carry calls
  (core/planner/readiness.py: the 90th percentile of its last ten scale-ups to Ready, plus an
  HPA sync and a minute of metrics' lag), within [MIN_LEAD, MAX_LEAD]; AUTO_LEAD_DEFAULT until a
  scale-up has been measured. PrescaleLate still judges the result.
- Inside a window the floor covers the calls expected by the time a pod asked for now carries
  calls (that same measured time), not the whole lead time ahead: what the HPA can add by
  itself within a pod's start-up is left to it (core/planner/peak_floor.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from voicecap.api.models import VoiceCapacity
from voicecap.api.types import AUTO_LEAD_DEFAULT, AutoLeadTime, format_duration
from voicecap.core.planner.readiness import Readiness

MIN_LEAD = timedelta(minutes=2)
MAX_LEAD = timedelta(minutes=60)
LeadSource = Literal["Declared", "Measured", "Default"]


@dataclass(frozen=True)
class LeadTimeUsed:
    """The lead time a peak is raised with, where it comes from, and why."""

    peak: str
    lead: timedelta
    source: LeadSource
    reason: str


def resolve(
    capacity: VoiceCapacity, readiness: Readiness
) -> tuple[VoiceCapacity, tuple[LeadTimeUsed, ...]]:
    """The capacity with every `leadTime: auto` set to the measured lead time (the same object
    when nothing changes), and the lead time each peak uses."""
    startup = readiness.startup()
    used: list[LeadTimeUsed] = []
    peaks = []
    changed = False
    for peak in capacity.spec.peaks:
        if not isinstance(peak.lead_time, AutoLeadTime):
            used.append(LeadTimeUsed(peak.name, peak.lead_time, "Declared", "as declared"))
            peaks.append(peak)
            continue
        lead, source, reason = _auto(startup, len(readiness.recent))
        used.append(LeadTimeUsed(peak.name, lead, source, reason))
        if lead == peak.lead_time:
            peaks.append(peak)
            continue
        peaks.append(
            peak.model_copy(update={"lead_time": AutoLeadTime(seconds=lead.total_seconds())})
        )
        changed = True
    if not changed:
        return capacity, tuple(used)
    spec = capacity.spec.model_copy(update={"peaks": peaks})
    return capacity.model_copy(update={"spec": spec}), tuple(used)


def _auto(startup: timedelta | None, measured: int) -> tuple[timedelta, LeadSource, str]:
    if startup is None:
        why = f"auto: {format_duration(AUTO_LEAD_DEFAULT)} until a scale-up to Ready is measured"
        return AUTO_LEAD_DEFAULT, "Default", why
    lead = min(max(startup, MIN_LEAD), MAX_LEAD)
    lead = timedelta(seconds=round(lead.total_seconds()))
    bounded = "" if lead == startup else f", held within {format_duration(MIN_LEAD)}-60m"
    return (
        lead,
        "Measured",
        f"auto: pods carry calls {format_duration(startup)} after they are asked for (the 90th "
        f"percentile of {measured} scale-ups to Ready, an HPA sync and the metrics' lag)"
        f"{bounded}",
    )
