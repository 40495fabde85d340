"""The conditions about peaks: PeakActive, ForecastReady, BurstAboveFactor, CalendarsReady,
PrescaleLate (their rows are in core/status/condition_types.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from voicecap.api.models import Condition
from voicecap.api.timefmt import iso
from voicecap.api.types import format_duration
from voicecap.core.apply.outcome import Outcome
from voicecap.core.numbers import num
from voicecap.core.planner import floor_rules
from voicecap.core.planner.plan import Plan


def peak_active(plan: Plan, outcome: Outcome) -> Condition:
    """Whether a peak window is raised now (its lead time included), and which."""
    if plan.active_peak is not None:
        return Condition(
            type="PeakActive",
            status="True",
            reason="InPeakWindow",
            message=plan.floors.of(floor_rules.PEAK).reason or plan.active_peak,
        )
    if plan.next_peak is not None:
        message = f"next peak {plan.next_peak[0]} starts {iso(plan.next_peak[1])}"
    else:
        message = "no peaks declared"
    return Condition(type="PeakActive", status="False", reason="NoActivePeak", message=message)


def forecast_ready(plan: Plan, outcome: Outcome) -> Condition:
    """True when every peak that needs a forecast (no expectedSessions) has a fresh one."""
    needed = {peak.name for peak in plan.peaks if peak.expected_sessions is None}
    if not plan.peaks:
        return Condition(
            type="ForecastReady", status="True", reason="NoPeaks", message="no peaks declared"
        )
    forecasts = {forecast.peak: forecast for forecast in plan.forecasts}
    parts, missing, censored = [], [], []
    for peak in plan.peaks:
        forecast = forecasts.get(peak.name)
        if forecast is None or forecast.reason == "Pending":
            parts.append(f"{peak.name}: not computed yet")
            if peak.name in needed:
                missing.append("Pending")
            continue
        if forecast.fresh:
            low = sum(1 for week in forecast.weeks if week.censored)
            lower = (
                f", {low} of them served at their limit: a lower bound (count refused calls "
                "with sessions.rejectedQuery)"
                if forecast.reason == "CensoredHistory"
                else ""
            )
            parts.append(
                f"{peak.name}: {num(forecast.sessions or 0)} sessions from "
                f"{forecast.weeks_used} weeks{lower}"
            )
            if forecast.reason == "CensoredHistory" and peak.name in needed:
                censored.append(peak.name)
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
            type="ForecastReady",
            status="True",
            reason="CensoredHistory" if censored else "Forecast",
            message="; ".join(parts),
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


def burst_above_factor(plan: Plan, outcome: Outcome) -> Condition | None:
    """Did a peak's last window carry more than factor x the calls it planned for? Like with
    like: the factor is the headroom over the forecast, so this is the burst it must cover."""
    factors = {peak.name: peak.factor for peak in plan.peaks}
    judged = [
        (card, card.actual / card.baseline)
        for card in plan.scorecards
        if card.peak in factors
        and card.actual is not None
        and card.baseline is not None
        and card.baseline > 0
    ]
    if not judged:
        return None
    short = [(card, ratio) for card, ratio in judged if ratio > factors[card.peak]]
    if short:
        return Condition(
            type="BurstAboveFactor",
            status="True",
            reason="BurstAboveFactor",
            message="; ".join(
                f"{card.peak}: the window of {iso(card.window_start)} peaked at "
                f"{num(round(card.actual or 0, 2))} calls, {ratio:.2f}x the "
                f"{num(round(card.baseline or 0, 2))} planned for (factor "
                f"{num(factors[card.peak])})"
                for card, ratio in short
            )
            + ": the pre-scale was short",
        )
    return Condition(
        type="BurstAboveFactor",
        status="False",
        reason="WithinFactor",
        message="; ".join(
            f"{card.peak}: {ratio:.2f}x the forecast, within factor {num(factors[card.peak])}"
            for card, ratio in judged
        ),
    )


def calendars_ready(plan: Plan, outcome: Outcome) -> Condition | None:
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


def prescale_late(plan: Plan, outcome: Outcome) -> Condition | None:
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
