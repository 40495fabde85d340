"""`voicecap replay`: the planner run over the sessions Prometheus recorded, beside the HPA
alone, KEDA's cron scaler, KEDA's last-week recipe, a perfect-foresight oracle and a fixed
size."""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from voicecap.adapters.history import PrometheusHistory
from voicecap.adapters.prometheus import DEFAULT_QUERY, QueryFailedError
from voicecap.adapters.prometheus_access import redact
from voicecap.api.models import VoiceCapacity
from voicecap.api.timefmt import iso
from voicecap.cli.args import UsageError
from voicecap.cli.history import connect, finite, short, text
from voicecap.cli.offline import load_capacities
from voicecap.cli.output import STRUCTURED, structured
from voicecap.cli.report import columns
from voicecap.core.numbers import num
from voicecap.core.peaks.forecast import PeakForecast, forecast_from
from voicecap.core.peaks.shapes import SeriesKey, series_key, shape_of, weekly_spans, weeks_from
from voicecap.core.peaks.windows import windows_meeting
from voicecap.core.replay.strategies import (
    LOOK_AHEAD,
    STRATEGIES,
    WEEK,
    Point,
    Strategy,
    Totals,
    replay,
)

_STRATEGY_NAMES: dict[Strategy, str] = {
    "voicecap": "voicecap",
    "reactive": "reactive (HPA only)",
    "keda-cron": "keda-cron (cron min + HPA)",
    "keda-week": "keda-week (last week + HPA)",
    "oracle": "oracle (perfect foresight)",
    "fixed": "fixed min",
}


def replay_command(args: argparse.Namespace) -> int:
    """`voicecap replay`: the plan over recorded history, beside the HPA alone, KEDA's cron,
    KEDA's last-week recipe, an oracle and a fixed minimum."""
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
    source = connect(args)
    try:
        points = _recorded(source, capacities, start, end, step)
        last_week = _recorded(source, capacities, start - WEEK, end - WEEK + LOOK_AHEAD, step)
        forecasts = _replayed_forecasts(source, capacities, start, end)
    except QueryFailedError as failure:
        raise UsageError(
            f"Prometheus at {redact(args.prometheus_url)}: {short(str(failure))}"
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
                last_week=last_week[capacity.key],
            ),
        )
        for capacity in capacities
    ]
    if args.png is not None:
        _chart(args.png, results, start, end)
    if args.output in STRUCTURED:
        price = args.cost_per_pod_hour
        print(
            structured(
                [_replay_json(c, r, start, end, step, cost_per_pod_hour=price) for c, r in results],
                args.output,
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
                "peakUtilization": finite(
                    None if totals.peak_utilization is None else round(totals.peak_utilization, 3)
                ),
                "podHours": totals.pod_hours,
                "podHoursToOracle": _ratio(totals.pod_hours, oracle.pod_hours),
                "cost": totals.cost(cost_per_pod_hour),
                "steps": [
                    {
                        "at": iso(row.at),
                        "calls": finite(row.sessions),
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
                text(_ratio(row.pod_hours, oracle)),
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
