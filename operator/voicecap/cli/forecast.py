"""`voicecap forecast`: what the operator would forecast for each peak, from the history in
Prometheus, with a suggested spec change."""

from __future__ import annotations

import argparse
import asyncio
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from voicecap.adapters.metrics import OperatorMetrics
from voicecap.adapters.prometheus import QueryFailedError
from voicecap.adapters.prometheus_access import redact
from voicecap.api.models import Peak, VoiceCapacity
from voicecap.api.timefmt import iso, iso_or_none
from voicecap.api.types import format_duration
from voicecap.cli.args import UsageError
from voicecap.cli.history import connect, finite, service_quiet, short, text
from voicecap.cli.offline import load_capacities
from voicecap.cli.output import STRUCTURED, structured
from voicecap.cli.report import columns
from voicecap.core import sizing
from voicecap.core.numbers import num
from voicecap.core.peaks.forecast import PeakForecast
from voicecap.core.peaks.windows import skipped_before_next
from voicecap.service.clock import Clock
from voicecap.service.history import HistoryCache

MIN_BACKTEST_WEEKS = 4  # fewer past weeks forecast say little about a trend


def forecast(args: argparse.Namespace) -> int:
    """`voicecap forecast`: each peak's forecast from history, as the operator computes it,
    with the floor it implies and a lead time that covers the slowest recent scale-up."""
    capacities = load_capacities(args.files)
    at = args.at or datetime.now(UTC)
    source = connect(args)
    try:
        with service_quiet():
            cache = HistoryCache(source, Clock(at, speed=0), OperatorMetrics())  # time stands
            asyncio.run(cache.refresh(capacities))
        try:
            scale_ups = source.slowest_scale_ups(at)
        except QueryFailedError:  # no operator metrics in this Prometheus: no advice on it
            scale_ups = {}
    finally:
        source.close()
    if cache.failures:
        raise UsageError(f"Prometheus at {redact(args.prometheus_url)}: {short(cache.failures[0])}")
    rows = []
    for capacity in capacities:
        history = cache.view(capacity)
        for peak in capacity.spec.peaks:
            result = history.forecasts.get(peak.name, PeakForecast(peak.name))
            took = scale_ups.get((capacity.namespace, capacity.vertical))
            rows.append(
                _forecast_row(capacity, peak, result, history.burst_factor, at, scale_up=took)
            )
    if args.output in STRUCTURED:
        print(structured(rows, args.output))
    else:
        print(_forecast_table(rows))
    return 0


def _forecast_row(
    capacity: VoiceCapacity,
    peak: Peak,
    result: PeakForecast,
    burst: float | None,
    at: datetime,
    *,
    scale_up: float | None = None,
) -> dict[str, Any]:
    spec = capacity.spec
    floor = (
        sizing.peak_floor(
            result.sessions,
            spec.sessions.per_pod,
            factor=peak.factor,
            blocking=spec.sessions.blocking_target,
        )
        if result.sessions is not None
        else None
    )
    return {
        "namespace": capacity.namespace,
        "name": capacity.metadata.name,
        "vertical": capacity.vertical,
        "peak": peak.name,
        "windowStart": iso_or_none(result.window_start),
        "weeks": [
            {
                "start": iso(week.start),
                "sessions": finite(week.sessions),
                "offered": week.offered,
                "censored": week.censored,
            }
            for week in result.weeks
        ],
        "weeksUsed": result.weeks_used,
        "replacedWeeks": [day.isoformat() for day in result.replaced],
        "skippedBeforeNext": [day.isoformat() for day in skipped_before_next(peak, at)],
        "forecastSessions": result.sessions,
        "profile": list(result.profile),
        "quantile": result.quantile,
        "floor": floor,
        "burstFactor": burst,
        "reason": result.reason,
        "trend": result.trend,
        "backtest": None
        if result.backtest is None
        else {
            "weeks": result.backtest.weeks,
            "meanAbsoluteError": result.backtest.mean_absolute_error,
            "underForecastWeeks": result.backtest.under_forecast_weeks,
        },
        "slowestScaleUpSeconds": scale_up,
        "suggestion": _suggestion(capacity, peak, result, floor, scale_up),
    }


def _suggestion(
    capacity: VoiceCapacity,
    peak: Peak,
    result: PeakForecast,
    floor: int | None,
    scale_up: float | None = None,
) -> str:
    """What to change in the spec, if anything; the forecast itself needs no edit to be used."""
    spec = capacity.spec
    where = f"peaks[{peak.name}]"
    advice = []
    if scale_up is not None and scale_up > peak.lead_time.total_seconds():
        lead = timedelta(minutes=math.ceil(scale_up / 60))
        advice.append(
            f"raise {where}.leadTime to {format_duration(lead)} or more: the slowest scale-up "
            f"to Ready pods in 28 days took {format_duration(timedelta(seconds=round(scale_up)))}, "
            f"longer than {format_duration(peak.lead_time)}"
        )
    if result.sessions is None:
        if peak.expected_sessions is None:
            advice.append(
                f"set {where}.expectedSessions until {spec.forecast.min_weeks} weeks of history "
                "exist (the peak follows current sessions until then)"
            )
    elif peak.expected_sessions is not None:
        expected = peak.expected_sessions
        if abs(result.sessions - expected) > 0.1 * max(expected, 1):
            advice.append(
                f"{where}.expectedSessions is {expected}, history says "
                f"{math.ceil(result.sessions)}: set it, or remove it to follow the forecast"
            )
    backtest = result.backtest
    if (
        spec.forecast.trend == "Off"
        and backtest is not None
        and backtest.weeks >= MIN_BACKTEST_WEEKS
        and backtest.under_forecast_weeks >= 0.75 * backtest.weeks
        and backtest.mean_absolute_error >= 0.1
    ):
        advice.append(
            f"set forecast.trend: Weekly: {backtest.under_forecast_weeks} of "
            f"{backtest.weeks} past weeks carried more than their forecast (mean error "
            f"{backtest.mean_absolute_error:.0%}): the calls grow faster than the weeks show"
        )
    censored = sum(1 for week in result.weeks if week.censored and week.sessions is not None)
    if censored:
        advice.append(
            f"{censored} of the weeks read were served at their admission limit: the forecast "
            "is a lower bound; count the calls refused (voice_calls_rejected_total, or "
            "sessions.rejectedQuery) so it sees the demand offered"
        )
    if floor is not None and floor > spec.replicas.max:
        advice.append(f"raise replicas.max to {floor} (the forecast floor)")
    if floor is not None and spec.model is not None:
        needed = floor * spec.sessions.per_pod * spec.model.tokens_per_session_minute
        if needed > spec.model.reserved_tpm:
            advice.append(f"raise model.reservedTPM to {needed:,} for {floor} pods")
    if result.sessions:
        # Like with like: a past week's window against the forecast the factor multiplies.
        worst = max(
            (week for week in result.weeks if week.sessions is not None),
            key=lambda week: week.sessions or 0.0,
            default=None,
        )
        if worst is not None and (worst.sessions or 0) > peak.factor * result.sessions:
            advice.append(
                f"the window of {iso(worst.start)} peaked at {num(worst.sessions or 0)}, "
                f"{(worst.sessions or 0) / result.sessions:.2f}x the forecast: {where}.factor "
                f"{num(peak.factor)} would not have covered it"
            )
    return "; ".join(advice) or "none"


def _forecast_table(rows: list[dict[str, Any]]) -> str:
    header = ("NAMESPACE/NAME", "PEAK", "WINDOW", "WEEKS", "FORECAST", "FLOOR", "BURST", "REASON")
    table: list[tuple[str, ...]] = [header]
    details = []
    for row in rows:
        table.append(
            (
                f"{row['namespace']}/{row['name']}",
                row["peak"],
                row["windowStart"] or "-",
                f"{row['weeksUsed']}/{len(row['weeks'])}",
                text(row["forecastSessions"]),
                text(row["floor"]),
                text(row["burstFactor"]),
                row["reason"],
            )
        )
        weekly = " ".join(_week_cell(week) for week in row["weeks"]) or "-"
        shape = " ".join(text(value) for value in row["profile"]) or "-"
        excluded = ""
        if row["replacedWeeks"]:
            excluded += (
                f"\n  excluded weeks, replaced by older ones: {', '.join(row['replacedWeeks'])}"
            )
        if row["skippedBeforeNext"]:
            excluded += f"\n  does not open on: {', '.join(row['skippedBeforeNext'])}"
        if row["backtest"]:
            test = row["backtest"]
            trend = f", trend {row['trend']:+.1%} a week" if row["trend"] is not None else ""
            excluded += (
                f"\n  backtest: {test['weeks']} past weeks, mean error "
                f"{test['meanAbsoluteError']:.0%}, {test['underForecastWeeks']} under{trend}"
            )
        if any(week["censored"] for week in row["weeks"]):
            excluded += "\n  >N: served at its admission limit, the calls offered were more"
        details.append(f"{row['namespace']}/{row['name']} {row['peak']}: weeks (newest first) "
                       f"{weekly}\n  shape (slot by slot): {shape}{excluded}"
                       f"\n  suggestion: {row['suggestion']}")  # fmt: skip
    return columns(table) + "\n\n" + "\n".join(details)


def _week_cell(week: dict[str, Any]) -> str:
    """A week's value; '>' marks one served at its limit (a lower bound)."""
    value = text(week["sessions"])
    return f">{value}" if week["censored"] and week["sessions"] is not None else value
