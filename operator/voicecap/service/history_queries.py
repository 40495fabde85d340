"""The queries a forecast refresh makes, each timed and counted, and what they answered
(service/history.py decides when; core/peaks/shapes.py says what each asks for): per shape the
calls offered in every slot of every week (served + refused x the mean call duration, where
the default metrics are batched) and each week's flags (refusals counted, served at its limit);
and the burst factor."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from voicecap.adapters.metrics import OperatorMetrics
from voicecap.adapters.prometheus import DEFAULT_QUERY as DEFAULT_SESSIONS
from voicecap.adapters.prometheus import QueryFailedError
from voicecap.api.models import Peak
from voicecap.core.measured import queries
from voicecap.core.peaks.forecast import ForecastReason, forecast_window, last_closed_start
from voicecap.core.peaks.shapes import (
    CLOSED,
    SeriesKey,
    Shape,
    Span,
    weekly_flag_spans,
    weekly_spans,
)
from voicecap.service.ports import History as HistoryPort

log = logging.getLogger("voicecap")


@dataclass
class ShapeResult:
    """What one shape's query answered (or why it failed), and for which windows."""

    window_start: datetime | None
    closed_start: datetime | None
    weeks: int
    at: datetime
    values: dict[SeriesKey, dict[str, float]] = field(default_factory=dict)
    # per series: {"offered" | "censored": {week "k": value}} (core/peaks/shapes.weeks_from)
    flags: dict[SeriesKey, dict[str, dict[str, float]]] = field(default_factory=dict)
    failure: ForecastReason | None = None


@dataclass
class BurstResult:
    """What one burst-factor query answered (largest, median per series)."""

    at: datetime
    values: dict[SeriesKey, tuple[float | None, float | None]] = field(default_factory=dict)
    failed: bool = False


class HistoryQueries:
    """The two queries a refresh asks, each timed and counted; what failed, for the CLI. Not for
    deciding when to ask: HistoryCache (service/history.py) does."""

    def __init__(self, source: HistoryPort, metrics: OperatorMetrics) -> None:
        self._source = source
        self._metrics = metrics
        self.failures: list[str] = []

    def shape(self, shape: Shape, peak: Peak, weeks: int, now: datetime) -> ShapeResult:
        """One query for every slot of `weeks` windows of the shape, and the last closed one."""
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
        batched = not shape.query
        sessions = (
            queries.offered(
                DEFAULT_SESSIONS,
                batched=True,
                declared_call_seconds=shape.call_seconds,
                rejected=shape.rejected,
            )
            if batched
            else shape.query
        )
        try:
            result.values = self._source.quantiles(sessions, shape.quantile, spans, batched=batched)
            if batched and window_start is not None:
                result.flags = self._source.week_flags(
                    queries.refused_rate(shape.rejected),
                    queries.served_share_of_limit(DEFAULT_SESSIONS),
                    shape.quantile,
                    weekly_flag_spans(peak, window_start, weeks),
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
        """The 28 days' largest and median calls of every series of `query`."""
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
