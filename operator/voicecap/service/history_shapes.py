"""What a forecast query is about: its shape (schedule, zone, duration, quantile, session query,
excluded days), the spans it asks for (every slot of every week's window), and the two queries a
refresh makes, each timed and counted (service/history.py decides when)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from voicecap.adapters.history import SINGLE, SeriesKey, Span
from voicecap.adapters.metrics import OperatorMetrics
from voicecap.adapters.prometheus import DEFAULT_QUERY as DEFAULT_SESSIONS
from voicecap.adapters.prometheus import QueryFailedError
from voicecap.api.models import Peak, VoiceCapacity
from voicecap.core.peaks.forecast import (
    ForecastReason,
    WeekValue,
    forecast_window,
    last_closed_start,
    slots_of,
    week_value,
    weekly_windows,
)
from voicecap.service.ports import History as HistoryPort

log = logging.getLogger("voicecap")
CLOSED = "closed"  # the span label of the latest closed window (the scorecard's actual)


@dataclass(frozen=True)
class Shape:
    schedule: str
    time_zone: str
    duration: timedelta
    quantile: float
    query: str  # "" for the default, batched session query
    exclude: tuple[tuple[date, date], ...] = ()  # holidays: they choose the weeks looked at


@dataclass
class ShapeResult:
    window_start: datetime | None
    closed_start: datetime | None
    weeks: int
    at: datetime
    values: dict[SeriesKey, dict[str, float]] = field(default_factory=dict)
    failure: ForecastReason | None = None


@dataclass
class BurstResult:
    at: datetime
    values: dict[SeriesKey, tuple[float | None, float | None]] = field(default_factory=dict)
    failed: bool = False


def shape_of(capacity: VoiceCapacity, peak: Peak) -> Shape:
    return Shape(
        peak.schedule,
        peak.time_zone,
        peak.duration,
        capacity.spec.forecast.quantile,
        capacity.spec.sessions.query,
        tuple(peak.exclude),
    )


def weekly_spans(peak: Peak, window_start: datetime, weeks: int) -> list[Span]:
    """Every slot of each of the `weeks` windows before `window_start`, labelled "k.i" (week k,
    slot i): one term each in the shape's one query."""
    return [
        Span(f"{k}.{i}", start, end)
        for k, (week_start, week_end) in enumerate(
            weekly_windows(peak, window_start, weeks), start=1
        )
        for i, (start, end) in enumerate(slots_of(week_start, week_end))
    ]


def weeks_from(
    values: dict[str, float], peak: Peak, window_start: datetime, weeks: int
) -> list[WeekValue]:
    """The weekly slot values a shape query answered for one series, newest week first."""
    found = []
    for k, (start, end) in enumerate(weekly_windows(peak, window_start, weeks), start=1):
        slots = [values.get(f"{k}.{i}") for i in range(len(slots_of(start, end)))]
        found.append(week_value(start, end, slots))
    return found


def series_key(capacity: VoiceCapacity) -> SeriesKey:
    return SINGLE if capacity.spec.sessions.query else (capacity.namespace, capacity.vertical)


class HistoryQueries:
    """The two queries a refresh asks, each timed and counted; what failed, for the CLI."""

    def __init__(self, source: HistoryPort, metrics: OperatorMetrics) -> None:
        self._source = source
        self._metrics = metrics
        self.failures: list[str] = []

    def shape(self, shape: Shape, peak: Peak, weeks: int, now: datetime) -> ShapeResult:
        window_start = forecast_window(peak, now)
        closed_start = last_closed_start(peak, now)
        spans = []
        if closed_start is not None:
            spans.append(Span(CLOSED, closed_start, closed_start + peak.duration))
        if window_start is not None:
            spans += weekly_spans(peak, window_start, weeks)
        result = ShapeResult(window_start, closed_start, weeks, now)
        if not spans:
            return result
        try:
            result.values = self._source.quantiles(
                shape.query or DEFAULT_SESSIONS, shape.quantile, spans, batched=not shape.query
            )
        except QueryFailedError as failure:
            log.warning("forecast query for %s failed: %s", shape.schedule, failure)
            self.failures.append(str(failure))
            result.failure = (
                "PrometheusUnreachable"
                if failure.state == "PrometheusUnreachable"
                else "QueryError"
            )
        finally:
            self._record("forecast")
        return result

    def burst(self, query: str, now: datetime) -> BurstResult:
        result = BurstResult(now)
        try:
            result.values = self._source.burst(query or DEFAULT_SESSIONS, now, batched=not query)
        except QueryFailedError as failure:
            log.warning("burst-factor query failed: %s", failure)
            self.failures.append(str(failure))
            result.failed = True
        finally:
            self._record("burst")
        return result

    def _record(self, kind: str) -> None:
        self._metrics.record_queries(kind, self._source.history)
        self._source.history.clear()
