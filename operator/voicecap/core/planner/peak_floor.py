"""What a raised peak window plans for at one moment, and the floor that carries it.

docs/api.md "Semantics" (the right-sizing revision):

    calls(now)  = the calls the window's shape expects at now + ahead
    peakFloor   = ceil(f x calls(now) / perPod)           (Erlang B slots with blockingTarget)
    f           = factor before the window opens; min(factor, 1 / targetUtilization) once open

- The shape is the forecast's profile (one value per slot of the window, core/peaks/forecast.py).
- `ahead` is how long a pod asked for now takes to carry calls, as measured
  (core/planner/readiness.py), else leadTime: the floor covers the calls it cannot be late for,
  and what the HPA adds by itself within a pod's start-up is left to it. Before the window opens
  it covers the window's first slot from the lead time on (core/planner/lead_time.py).
- expectedSessions is the window's peak: the profile scaled so its largest slot is that peak;
  without history (no profile) the window is flat at it.
- Without expectedSessions: the forecast's profile; a forecast without a profile (status
  written by an older operator) is flat at its sessions.
- Neither: the calls when the floor is computed (flat), else factor x replicas.min.

The factor is the headroom over the forecast at perPod, not stacked on targetUtilization: 1.5
over 600 calls is 900 slots (5 pods of 200), where the old rule planned 8 pods (1,600 slots).
Once the window is open the HPA follows live calls with 1/targetUtilization of headroom, so the
floor keeps no more than that over the forecast: the factor's extra pays for the opening the HPA
cannot follow, not for what it follows by itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from voicecap.api.models import Peak, VoiceCapacity
from voicecap.api.timefmt import iso
from voicecap.api.types import format_duration
from voicecap.core import sizing
from voicecap.core.numbers import num
from voicecap.core.peaks.forecast import BaselineSource, PeakForecast, slots_of
from voicecap.core.peaks.windows import Window, active_window


@dataclass(frozen=True)
class PeakTerm:
    """The floor a raised window asks for now, and why."""

    peak: str
    floor: int
    reason: str


def peak_baseline(
    peak: Peak, forecasts: Mapping[str, PeakForecast], last_known: float | None
) -> tuple[float | None, BaselineSource]:
    """The window's peak calls: expectedSessions, else the forecast, else current sessions."""
    if peak.expected_sessions is not None:
        return float(peak.expected_sessions), "expected"
    forecast = forecasts.get(peak.name)
    if forecast is not None and forecast.usable and forecast.sessions is not None:
        return forecast.sessions, "forecast"
    if last_known is not None:
        return last_known, "current"
    return None, "none"


def calls_ahead(
    window: Window, profile: tuple[float, ...], scale: float, now: datetime, ahead: timedelta
) -> float:
    """The slot of the profile (times `scale`) at now + ahead, when pods asked for now carry
    calls (before the window opens: its first slot at least; past its end: its last)."""
    moment = max(now + ahead, window.start)
    meeting = [
        value
        for value, (start, end) in zip(profile, slots_of(window.start, window.end), strict=True)
        if start <= moment < end
    ]
    return max(meeting, default=profile[-1]) * scale


def peak_term(
    capacity: VoiceCapacity,
    *,
    forecasts: Mapping[str, PeakForecast],
    last_known: float | None,
    now: datetime,
    per_pod: int,
    startup: timedelta | None = None,
) -> PeakTerm | None:
    """The largest floor among the windows raised now (list order breaks ties), at `per_pod`
    calls a pod (declared or measured), looking `startup` ahead (None: leadTime)."""
    best: PeakTerm | None = None
    for peak in capacity.spec.peaks:
        window = active_window(peak, now)
        if window is None:
            continue
        ahead = startup if startup is not None else peak.lead_time
        term = _window_term(
            capacity,
            window,
            forecasts,
            last_known,
            now=now,
            per_pod=per_pod,
            ahead=ahead,
        )
        if best is None or term.floor > best.floor:
            best = term
    return best


def _window_term(
    capacity: VoiceCapacity,
    window: Window,
    forecasts: Mapping[str, PeakForecast],
    last_known: float | None,
    *,
    now: datetime,
    per_pod: int,
    ahead: timedelta,
) -> PeakTerm:
    peak, spec = window.peak, capacity.spec
    when = "window open" if now >= window.start else f"lead time, starts {iso(window.start)}"
    prefix = f"{peak.name} ({when}, until {iso(window.end)})"
    baseline, source = peak_baseline(peak, forecasts, last_known)
    if baseline is None:
        value = math.ceil(sizing.exact(peak.factor) * spec.replicas.min)
        why = f"ceil({num(peak.factor)} x min {spec.replicas.min}) = {value} (no baseline known)"
        return PeakTerm(peak.name, value, f"{prefix}: {why}")
    calls, shaped = _calls_now(
        window, forecasts.get(peak.name), baseline, source, now=now, ahead=ahead
    )
    blocking = spec.sessions.blocking_target
    factor, told = peak.factor, num(round(peak.factor, 3))
    if (
        now >= window.start
        and blocking is None
        and peak.factor * spec.sessions.target_utilization > 1
    ):
        # Open, the HPA follows live calls with 1/targetUtilization of headroom: the floor
        # needs no more over the forecast. The factor's extra is for the opening it cannot
        # follow (measured: a smooth ramp 1.14 -> 1.10x the oracle, the surge unchanged).
        factor = 1 / spec.sessions.target_utilization
        capped = num(round(factor, 3))
        told = f"{capped} (1/targetUtilization, below factor {num(peak.factor)} once open)"
    value = sizing.peak_floor(calls, per_pod, factor=factor, blocking=blocking)
    sized = (
        f"Erlang B slots at {num(blocking)} blocking"
        if blocking is not None
        else f"{per_pod} per pod"
    )
    why = f"{told} x {num(round(calls, 2))} calls ({shaped}) at {sized} = {value} pods"
    return PeakTerm(peak.name, value, f"{prefix}: {why}")


def _calls_now(
    window: Window,
    forecast: PeakForecast | None,
    baseline: float,
    source: BaselineSource,
    *,
    now: datetime,
    ahead: timedelta,
) -> tuple[float, str]:
    """The calls to plan for now, and where they come from (for the reason)."""
    slots = len(slots_of(window.start, window.end))
    profile = forecast.shape(slots) if forecast is not None else None
    if source == "current" or profile is None:
        return baseline, f"{source}, flat"
    scale = baseline / max(profile) if source == "expected" else 1.0
    shaped = "forecast shape" if source == "forecast" else "expected peak, history's shape"
    return calls_ahead(window, profile, scale, now, ahead), f"{shaped}, next {_span(ahead)}"


def _span(ahead: timedelta) -> str:
    return format_duration(timedelta(seconds=round(ahead.total_seconds())))
