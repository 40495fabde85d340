"""What a raised peak window plans for at one moment, and the floor that carries it.

docs/api.md "Semantics" (the right-sizing revision):

    calls(now)  = the most calls the window's shape expects over [now, now + leadTime]
    peakFloor   = ceil(factor x calls(now) / perPod)      (Erlang B slots with blockingTarget)

- The shape is the forecast's profile (one value per slot of the window, core/peaks/forecast.py).
  Looking leadTime ahead gives pods the lead time to start before the calls they are for.
- expectedSessions is the window's peak: the profile scaled so its largest slot is that peak;
  without history (no profile) the window is flat at it.
- Without expectedSessions: the forecast's profile; a forecast without a profile (status
  written by an older operator) is flat at its sessions.
- Neither: the calls when the floor is computed (flat), else factor x replicas.min.

The factor is the headroom over the forecast at perPod, not stacked on targetUtilization: 1.5
over 600 calls is 900 slots (5 pods of 200), where the old rule planned 8 pods (1,600 slots).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from voicecap.api.models import Peak, VoiceCapacity
from voicecap.api.timefmt import iso
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


def calls_ahead(window: Window, profile: tuple[float, ...], scale: float, now: datetime) -> float:
    """The largest slot of the profile (times `scale`) that meets [now, now + leadTime]."""
    horizon = (max(now, window.start), now + window.peak.lead_time)
    ahead = [
        value
        for value, (start, end) in zip(profile, slots_of(window.start, window.end), strict=True)
        if start <= horizon[1] and end > horizon[0]
    ]
    return max(ahead, default=profile[-1]) * scale


def peak_term(
    capacity: VoiceCapacity,
    *,
    forecasts: Mapping[str, PeakForecast],
    last_known: float | None,
    now: datetime,
    per_pod: int,
) -> PeakTerm | None:
    """The largest floor among the windows raised now (list order breaks ties), at `per_pod`
    calls a pod (declared or measured)."""
    best: PeakTerm | None = None
    for peak in capacity.spec.peaks:
        window = active_window(peak, now)
        if window is None:
            continue
        term = _window_term(capacity, window, forecasts, last_known, now=now, per_pod=per_pod)
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
) -> PeakTerm:
    peak, spec = window.peak, capacity.spec
    when = "window open" if now >= window.start else f"lead time, starts {iso(window.start)}"
    prefix = f"{peak.name} ({when}, until {iso(window.end)})"
    baseline, source = peak_baseline(peak, forecasts, last_known)
    if baseline is None:
        value = math.ceil(sizing.exact(peak.factor) * spec.replicas.min)
        why = f"ceil({num(peak.factor)} x min {spec.replicas.min}) = {value} (no baseline known)"
        return PeakTerm(peak.name, value, f"{prefix}: {why}")
    calls, shaped = _calls_now(window, forecasts.get(peak.name), baseline, source, now)
    blocking = spec.sessions.blocking_target
    value = sizing.peak_floor(calls, per_pod, factor=peak.factor, blocking=blocking)
    sized = (
        f"Erlang B slots at {num(blocking)} blocking"
        if blocking is not None
        else f"{per_pod} per pod"
    )
    why = f"{num(peak.factor)} x {num(round(calls, 2))} calls ({shaped}) at {sized} = {value} pods"
    return PeakTerm(peak.name, value, f"{prefix}: {why}")


def _calls_now(
    window: Window,
    forecast: PeakForecast | None,
    baseline: float,
    source: BaselineSource,
    now: datetime,
) -> tuple[float, str]:
    """The calls to plan for now, and where they come from (for the reason)."""
    slots = len(slots_of(window.start, window.end))
    profile = forecast.shape(slots) if forecast is not None else None
    if source == "current" or profile is None:
        return baseline, f"{source}, flat"
    scale = baseline / max(profile) if source == "expected" else 1.0
    shaped = "forecast shape" if source == "forecast" else "expected peak, history's shape"
    return calls_ahead(window, profile, scale, now), f"{shaped}, next {_minutes(window)}"


def _minutes(window: Window) -> str:
    return f"{round(window.peak.lead_time.total_seconds() / 60)}m"
