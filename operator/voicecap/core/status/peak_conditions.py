"""The conditions about peaks that history and the calendar decide: ForecastReady, CalendarsReady
and PrescaleLate (BurstAboveFactor, which the benchmark reads, is in core/status/conditions.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from voicecap.api.models import Condition
from voicecap.api.timefmt import iso
from voicecap.api.types import format_duration
from voicecap.core.numbers import num
from voicecap.core.planner.plan import Plan


def forecast_condition(plan: Plan) -> Condition:
    """True when every peak that needs a forecast (no expectedSessions) has a fresh one."""
    needed = {peak.name for peak in plan.peaks if peak.expected_sessions is None}
    if not plan.peaks:
        return Condition(
            type="ForecastReady", status="True", reason="NoPeaks", message="no peaks declared"
        )
    forecasts = {forecast.peak: forecast for forecast in plan.forecasts}
    parts, missing = [], []
    for peak in plan.peaks:
        forecast = forecasts.get(peak.name)
        if forecast is None or forecast.reason == "Pending":
            parts.append(f"{peak.name}: not computed yet")
            if peak.name in needed:
                missing.append("Pending")
            continue
        if forecast.reason == "Forecast":
            parts.append(
                f"{peak.name}: {num(forecast.sessions or 0)} sessions from "
                f"{forecast.weeks_used} weeks"
            )
            continue
        kept = (
            f", keeping {num(forecast.sessions)} from {iso(forecast.computed_at)}"
            if forecast.usable and forecast.sessions is not None and forecast.computed_at
            else ""
        )
        detail = (
            f"{forecast.weeks_used} weeks with data"
            if forecast.reason == "InsufficientHistory"
            else "history query failed"
        )
        parts.append(f"{peak.name}: {forecast.reason} ({detail}{kept})")
        if peak.name in needed:
            missing.append(forecast.reason)
    if not missing:
        return Condition(
            type="ForecastReady", status="True", reason="Forecast", message="; ".join(parts)
        )
    # Pending is not a problem yet (the first refresh is one cycle away): Unknown, no Event.
    status: Literal["False", "Unknown"] = (
        "Unknown" if all(reason == "Pending" for reason in missing) else "False"
    )
    reason = (
        next(reason for reason in missing if reason != "Pending")
        if status == "False"
        else ("Pending")
    )
    fallback = "; peaks without one use current sessions" if status == "False" else ""
    return Condition(
        type="ForecastReady", status=status, reason=reason, message="; ".join(parts) + fallback
    )


def calendars_condition(plan: Plan) -> Condition | None:
    """Whether the holiday calendars the peaks name were read (only when some peak names one)."""
    calendars = plan.calendars
    if calendars.days is None:
        return None
    if calendars.problems:
        return Condition(
            type="CalendarsReady",
            status="False",
            reason=calendars.reason,
            message="; ".join(calendars.problems),
        )
    return Condition(
        type="CalendarsReady",
        status="True",
        reason="Resolved",
        message=", ".join(f"{name}: {days} days" for name, days in calendars.days.items()),
    )


def prescale_late_condition(plan: Plan) -> Condition | None:
    """Were the pods the pre-scale planned for Ready when each peak's latest window opened?"""
    leads = {peak.name: peak.lead_time for peak in plan.peaks}
    judged = [c for c in plan.scorecards if c.peak in leads and c.shortfall is not None]
    if not judged:
        return None
    readiness = plan.memory.readiness
    took = (
        f"; the last scale-up took {format_duration(timedelta(seconds=readiness.last_seconds))} "
        f"to Ready pods"
        if readiness.last_seconds is not None
        else ""
    )
    late = [card for card in judged if card.shortfall]
    if late:
        return Condition(
            type="PrescaleLate",
            status="True",
            reason="ReadyPodsShort",
            message="; ".join(
                f"{card.peak}: {card.ready_at_open} of {card.planned_floor} pods Ready when the "
                f"window opened at {iso(card.window_start)} (leadTime "
                f"{format_duration(leads[card.peak])})"
                for card in late
            )
            + took
            + ": raise leadTime (voicecap forecast suggests one)",
        )
    return Condition(
        type="PrescaleLate",
        status="False",
        reason="ReadyOnTime",
        message="; ".join(
            f"{card.peak}: {card.ready_at_open} of {card.planned_floor} pods Ready when the "
            f"window opened at {iso(card.window_start)}"
            for card in judged
        )
        + took,
    )
