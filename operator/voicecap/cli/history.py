"""The commands that read history from Prometheus: `voicecap forecast` and `voicecap replay`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from voicecap.adapters.history import PrometheusHistory, SeriesKey
from voicecap.adapters.metrics import OperatorMetrics
from voicecap.adapters.prometheus import DEFAULT_QUERY, QueryFailedError
from voicecap.adapters.prometheus_access import redact
from voicecap.api.models import Peak, VoiceCapacity
from voicecap.api.timefmt import iso, iso_or_none
from voicecap.api.types import format_duration
from voicecap.cli.args import UsageError
from voicecap.cli.offline import load_capacities
from voicecap.cli.prometheus_flags import add_prometheus_flags, prometheus_access
from voicecap.core import sizing
from voicecap.core.forecast import PeakForecast, forecast_from
from voicecap.core.numbers import num
from voicecap.core.peaks import skipped_before_next, windows_meeting
from voicecap.core.replay import STRATEGIES, Point, Strategy, Totals, replay
from voicecap.report import columns
from voicecap.service.clock import Clock
from voicecap.service.history import (
    HistoryCache,
    series_key,
    shape_of,
    weekly_spans,
    weeks_from,
)


def _connect(args: argparse.Namespace) -> PrometheusHistory:
    access = prometheus_access(args)
    if not access.url.startswith(("http://", "https://")):
        raise UsageError(
            f"--prometheus-url {redact(access.url)!r}: expected http://HOST:PORT or https://..."
        )
    try:
        return PrometheusHistory(access, timeout=args.timeout)
    except OSError as error:  # a CA bundle that is not one
        raise UsageError(f"Prometheus access: {error}") from error


# ---------------------------------------------------------------- forecast


def forecast(args: argparse.Namespace) -> int:
    capacities = load_capacities(args.files)
    at = args.at or datetime.now(UTC)
    source = _connect(args)
    service_log = logging.getLogger("voicecap")
    level = service_log.level
    service_log.setLevel(logging.CRITICAL)  # the service's warnings: this command says it once
    try:
        cache = HistoryCache(source, Clock(at, speed=0), OperatorMetrics())  # time stands at --at
        asyncio.run(cache.refresh(capacities))
        try:
            scale_ups = source.slowest_scale_ups(at)
        except QueryFailedError:  # no operator metrics in this Prometheus: no advice on it
            scale_ups = {}
    finally:
        service_log.setLevel(level)
        source.close()
    if cache.failures:
        raise UsageError(
            f"Prometheus at {redact(args.prometheus_url)}: {_short(cache.failures[0])}"
        )
    rows = []
    for capacity in capacities:
        history = cache.view(capacity)
        for peak in capacity.spec.peaks:
            result = history.forecasts.get(peak.name, PeakForecast(peak.name))
            took = scale_ups.get((capacity.namespace, capacity.vertical))
            rows.append(
                _forecast_row(capacity, peak, result, history.burst_factor, at, scale_up=took)
            )
    if args.output == "json":
        print(json.dumps(rows, indent=2))
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
            {"start": iso(week.start), "sessions": _finite(week.sessions)} for week in result.weeks
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
                _text(row["forecastSessions"]),
                _text(row["floor"]),
                _text(row["burstFactor"]),
                row["reason"],
            )
        )
        weekly = " ".join(_text(week["sessions"]) for week in row["weeks"]) or "-"
        shape = " ".join(_text(value) for value in row["profile"]) or "-"
        excluded = ""
        if row["replacedWeeks"]:
            excluded += (
                f"\n  excluded weeks, replaced by older ones: {', '.join(row['replacedWeeks'])}"
            )
        if row["skippedBeforeNext"]:
            excluded += f"\n  does not open on: {', '.join(row['skippedBeforeNext'])}"
        details.append(f"{row['namespace']}/{row['name']} {row['peak']}: weeks (newest first) "
                       f"{weekly}\n  shape (slot by slot): {shape}{excluded}"
                       f"\n  suggestion: {row['suggestion']}")  # fmt: skip
    return columns(table) + "\n\n" + "\n".join(details)


# ---------------------------------------------------------------- replay


def replay_command(args: argparse.Namespace) -> int:
    capacities = load_capacities(args.files)
    start, end, step = args.from_, args.to, timedelta(seconds=args.step)
    if start >= end:
        raise UsageError(f"--from {iso(start)} must be before --to {iso(end)}")
    if args.cost_per_pod_hour is not None and not args.cost_per_pod_hour >= 0:
        raise UsageError(f"--cost-per-pod-hour must be 0 or more, not {args.cost_per_pod_hour:g}")
    if step.total_seconds() < 1 or step.total_seconds() % 1:
        raise UsageError("--step must be a whole number of seconds, at least 1s")
    if (end - start) / step > 200_000:
        raise UsageError("--from .. --to is more than 200,000 steps: use a longer --step")
    source = _connect(args)
    try:
        points = _recorded(source, capacities, start, end, step)
        forecasts = _replayed_forecasts(source, capacities, start, end)
    except QueryFailedError as failure:
        raise UsageError(
            f"Prometheus at {redact(args.prometheus_url)}: {_short(str(failure))}"
        ) from failure
    finally:
        source.close()
    results = [
        (
            capacity,
            replay(
                capacity,
                points[capacity.key],
                step=step,
                forecasts=forecasts.get(capacity.key, {}),
                startup=timedelta(seconds=args.pod_startup),
            ),
        )
        for capacity in capacities
    ]
    if args.png is not None:
        _chart(args.png, results, start, end)
    if args.output == "json":
        price = args.cost_per_pod_hour
        print(
            json.dumps(
                [_replay_json(c, r, start, end, step, cost_per_pod_hour=price) for c, r in results],
                indent=2,
            )
        )
    else:
        print(_replay_table(results, args.cost_per_pod_hour))
    return 0


def _recorded(
    source: PrometheusHistory,
    capacities: list[VoiceCapacity],
    start: datetime,
    end: datetime,
    step: timedelta,
) -> dict[str, list[Point]]:
    """Each VoiceCapacity's sessions at every step: one range query per distinct session query
    (in chunks of 10,000 steps); a step without a sample is an outage (None)."""
    by_query: dict[str, dict[SeriesKey, list[tuple[datetime, float]]]] = {}
    for query in {capacity.spec.sessions.query for capacity in capacities}:
        by_query[query] = source.series(
            query or DEFAULT_QUERY,
            start,
            end,
            step_seconds=int(step.total_seconds()),
            batched=not query,
        )
    count = int((end - start) / step) + 1
    moments = [start + index * step for index in range(count)]
    points = {}
    for capacity in capacities:
        series = by_query[capacity.spec.sessions.query].get(series_key(capacity), [])
        values = {moment: value for moment, value in series if math.isfinite(value)}
        points[capacity.key] = [Point(moment, values.get(moment)) for moment in moments]
    return points


def _replayed_forecasts(
    source: PrometheusHistory,
    capacities: list[VoiceCapacity],
    start: datetime,
    end: datetime,
) -> dict[str, dict[tuple[str, datetime], PeakForecast]]:
    """Each window raised inside [start, end], forecast as it would have been when it was
    raised: one query per (window shape, window), shared by every object with that shape."""
    asked: dict[tuple[Any, datetime], dict[SeriesKey, dict[str, float]]] = {}
    forecasts: dict[str, dict[tuple[str, datetime], PeakForecast]] = {}
    for capacity in capacities:
        settings = capacity.spec.forecast
        for peak in capacity.spec.peaks:
            # Asked even where expectedSessions is declared: history gives its window's shape.
            for window_start in (w.start for w in windows_meeting(peak, start, end)):
                shape = shape_of(capacity, peak)
                if (shape, window_start) not in asked:
                    asked[(shape, window_start)] = source.quantiles(
                        shape.query or DEFAULT_QUERY,
                        shape.quantile,
                        weekly_spans(peak, window_start, settings.weeks),
                        batched=not shape.query,
                    )
                values = asked[(shape, window_start)].get(series_key(capacity), {})
                weeks = weeks_from(values, peak, window_start, settings.weeks)
                forecasts.setdefault(capacity.key, {})[(peak.name, window_start)] = forecast_from(
                    peak,
                    settings,
                    weeks,
                    window_start=window_start,
                    at=window_start - peak.lead_time,
                )
    return forecasts


def _replay_json(
    capacity: VoiceCapacity,
    results: Mapping[Strategy, Totals],
    start: datetime,
    end: datetime,
    step: timedelta,
    *,
    cost_per_pod_hour: float | None,
) -> dict[str, Any]:
    oracle = results["oracle"]
    return {
        "namespace": capacity.namespace,
        "name": capacity.metadata.name,
        "vertical": capacity.vertical,
        "from": iso(start),
        "to": iso(end),
        "stepSeconds": int(step.total_seconds()),
        "costPerPodHour": cost_per_pod_hour,
        "strategies": {
            name: {
                "blockedCallMinutes": totals.blocked_call_minutes,
                "overCapacityMinutes": totals.over_capacity_minutes,
                "peakUtilization": _finite(
                    None if totals.peak_utilization is None else round(totals.peak_utilization, 3)
                ),
                "podHours": totals.pod_hours,
                "podHoursToOracle": _ratio(totals.pod_hours, oracle.pod_hours),
                "cost": totals.cost(cost_per_pod_hour),
                "steps": [
                    {
                        "at": iso(row.at),
                        "calls": _finite(row.sessions),
                        "pods": row.pods,
                        "ready": row.ready,
                        "floor": row.floor,
                    }
                    for row in totals.steps
                ],
            }
            for name, totals in results.items()
        },
    }


_STRATEGY_NAMES: dict[Strategy, str] = {
    "voicecap": "voicecap",
    "reactive": "reactive (HPA only)",
    "keda-cron": "keda-cron (cron min + HPA)",
    "oracle": "oracle (perfect foresight)",
    "fixed": "fixed min",
}


def _replay_table(
    results: Sequence[tuple[VoiceCapacity, Mapping[Strategy, Totals]]],
    cost_per_pod_hour: float | None,
) -> str:
    header: tuple[str, ...] = ("NAMESPACE/NAME", "STRATEGY", "BLOCKED-CALL-MIN", "MIN-SHORT")
    header += ("PEAK-UTIL", "POD-HOURS", "X-ORACLE")
    header += ("COST",) if cost_per_pod_hour is not None else ()
    table: list[tuple[str, ...]] = [header]
    for capacity, totals in results:
        oracle = totals["oracle"].pod_hours
        for name in STRATEGIES:
            row = totals[name]
            cells: tuple[str, ...] = (
                capacity.key,
                _STRATEGY_NAMES[name],
                num(row.blocked_call_minutes),
                num(row.over_capacity_minutes),
                "-" if row.peak_utilization is None else f"{row.peak_utilization:.2f}",
                num(row.pod_hours),
                _text(_ratio(row.pod_hours, oracle)),
            )
            if cost_per_pod_hour is not None:
                cells += (f"{row.cost(cost_per_pod_hour):,.2f}",)
            table.append(cells)
    return columns(table)


def _ratio(value: float, oracle: float) -> float | None:
    return round(value / oracle, 2) if oracle > 0 else None


def _chart(
    path: Path,
    results: Sequence[tuple[VoiceCapacity, Mapping[Strategy, Totals]]],
    start: datetime,
    end: datetime,
) -> None:
    try:
        from voicecap.cli import replay_chart  # noqa: PLC0415 (matplotlib only when asked)
    except ImportError as error:
        raise UsageError(
            f"--png needs matplotlib ({error}): pip install 'voicecap-operator[demo]'"
        ) from error
    replay_chart.write(path, results, start, end)


# ---------------------------------------------------------------- helpers


def _short(failure: str) -> str:
    """A failure's first line: the adapter already says an unreachable Prometheus in a few
    words (adapters/prometheus_access.py, `explain`)."""
    return failure.splitlines()[0][:300]


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _text(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return num(value)
    return str(value)


def add_history_commands(
    commands: Any, instant: Callable[[str], datetime], duration: Callable[[str], float]
) -> None:
    def common(command: argparse.ArgumentParser) -> None:
        command.add_argument("files", nargs="+", metavar="FILE")
        add_prometheus_flags(command)
        command.add_argument(
            "--timeout", type=duration, default=30.0, help="per query (default 30s)"
        )
        command.add_argument("--output", "-o", choices=("table", "json"), default="table")

    forecast_parser = commands.add_parser(
        "forecast",
        help="forecast each peak from the vertical's session history in Prometheus",
        description="For each VoiceCapacity and peak in FILE: the weekly values inside the "
        "peak's window, forecastSessions, the floor it implies, the 28-day burst factor, and a "
        "suggested spec change (docs/api.md Forecasts).",
    )
    common(forecast_parser)
    forecast_parser.add_argument(
        "--at", type=instant, help="forecast as of this instant (ISO 8601); default: now"
    )
    forecast_parser.set_defaults(handler=forecast)

    replay_parser = commands.add_parser(
        "replay",
        help="replay recorded sessions through the planner beside the HPA alone, KEDA's cron "
        "scaler, a perfect-foresight oracle and a fixed size",
        description="Run the planner over the sessions Prometheus recorded between --from and "
        "--to, step by step, and report per vertical what users lose and pay: blocked "
        "call-minutes, minutes short, peak utilization, pod-hours (and their ratio to the "
        "oracle's) and cost, for voicecap, the HPA alone, KEDA's cron minimum plus the HPA, "
        "the oracle and replicas.min (docs/api.md Replay).",
    )
    common(replay_parser)
    replay_parser.add_argument("--from", dest="from_", type=instant, required=True)
    replay_parser.add_argument("--to", type=instant, required=True)
    replay_parser.add_argument("--step", type=duration, default=60.0, help="default 1m")
    replay_parser.add_argument(
        "--pod-startup",
        type=duration,
        default=120.0,
        help="how long a new pod takes to become ready (default 2m)",
    )
    replay_parser.add_argument(
        "--cost-per-pod-hour",
        type=float,
        metavar="PRICE",
        help="also report each strategy's cost: pod-hours x PRICE (0 or more)",
    )
    replay_parser.add_argument("--png", type=Path, help="also draw the replay into this PNG")
    replay_parser.set_defaults(handler=replay_command)
