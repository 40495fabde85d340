"""Forecasts for the whole fleet from history: one query per window shape per refresh.

A shape is what a window query depends on: (schedule, time zone, duration, quantile, session
query, excluded days). Its terms are every slot of every week's window (core/forecast.py: at most
8 slots a window, so 13 weeks are at most 104 terms). Every VoiceCapacity peak with the same
shape shares its query, however many there are.
A shape is refreshed when its forecast.refresh has passed (the shortest among its users), when
the window it forecasts moves on, or when a window has just closed (for the scorecard). The
burst factor is one more query per distinct session query, at the same pace.

A failed refresh keeps the last forecasts (core/forecast.py: failed_forecast) and is tried again
after RETRY_AFTER, so an outage costs one query per shape a minute, not one per cycle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from voicecap.adapters.history import SINGLE, SeriesKey, Span
from voicecap.adapters.metrics import OperatorMetrics
from voicecap.adapters.prometheus import DEFAULT_QUERY as DEFAULT_SESSIONS
from voicecap.adapters.prometheus import QueryFailedError
from voicecap.api.models import Peak, VoiceCapacity
from voicecap.core.forecast import (
    ForecastReason,
    History,
    PeakForecast,
    WeekValue,
    burst_factor,
    failed_forecast,
    forecast_from,
    forecast_window,
    last_closed_start,
    slots_of,
    week_value,
    weekly_windows,
)
from voicecap.service.clock import Clock
from voicecap.service.ports import History as HistoryPort

log = logging.getLogger("voicecap")
RETRY_AFTER = timedelta(minutes=1)
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


class HistoryCache:
    """What history says for each VoiceCapacity (core History), refreshed in the background."""

    def __init__(self, prometheus: HistoryPort, clock: Clock, metrics: OperatorMetrics):
        self._queries = HistoryQueries(prometheus, metrics)
        self._clock = clock
        self._shapes: dict[Shape, ShapeResult] = {}
        self._bursts: dict[str, BurstResult] = {}
        self._views: dict[str, tuple[VoiceCapacity, int, History]] = {}
        self._version = 0  # moves with every refresh: cached views are rebuilt
        self._task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------ reading

    def view(self, capacity: VoiceCapacity) -> History:
        cached = self._views.get(capacity.key)
        if cached is not None and cached[0] is capacity and cached[1] == self._version:
            return cached[2]
        previous = cached[2] if cached is not None else None
        history = self._build(capacity, previous)
        self._views[capacity.key] = (capacity, self._version, history)
        return history

    def forget_except(self, keys: set[str]) -> None:
        for key in set(self._views) - keys:
            del self._views[key]

    def _build(self, capacity: VoiceCapacity, previous: History | None) -> History:
        key = series_key(capacity)
        settings = capacity.spec.forecast
        forecasts: dict[str, PeakForecast] = {}
        actuals: dict[str, tuple[datetime, float]] = {}
        for peak in capacity.spec.peaks:
            result = self._shapes.get(shape_of(capacity, peak))
            if result is None:
                continue
            if result.failure is not None:
                before = previous.forecasts.get(peak.name) if previous else None
                forecasts[peak.name] = failed_forecast(
                    peak,
                    settings,
                    result.failure,
                    window_start=result.window_start,
                    previous=before,
                )
                if previous is not None and peak.name in previous.actuals:
                    actuals[peak.name] = previous.actuals[peak.name]
                continue
            values = result.values.get(key, {})
            if result.window_start is not None:
                weeks = weeks_from(values, peak, result.window_start, settings.weeks)
                forecasts[peak.name] = forecast_from(
                    peak, settings, weeks, window_start=result.window_start, at=result.at
                )
            if result.closed_start is not None and CLOSED in values:
                actuals[peak.name] = (result.closed_start, values[CLOSED])
        burst = self._bursts.get(capacity.spec.sessions.query)
        known = burst is not None and not burst.failed
        largest, median = burst.values.get(key, (None, None)) if burst and known else (None, None)
        return History(
            forecasts=forecasts,
            burst_factor=burst_factor(largest, median) if known else None,
            burst_known=known,
            actuals=actuals,
        )

    # ------------------------------------------------------------ refreshing

    @property
    def failures(self) -> list[str]:
        """What the last refresh could not ask (for the CLI)."""
        return self._queries.failures

    def start_refresh(self, capacities: list[VoiceCapacity]) -> None:
        """Refresh what is due in the background; the cycle goes on with what is known."""
        if self._task is not None and not self._task.done():
            return
        self._task = asyncio.get_running_loop().create_task(self.refresh(capacities))

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def wait(self) -> None:
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task

    async def refresh(self, capacities: list[VoiceCapacity]) -> None:
        now = self._clock.now()
        try:
            changed = await asyncio.to_thread(self._refresh, capacities, now)
        except Exception:  # never let a refresh take the cycle down; the next one retries
            log.exception("history refresh failed")
            return
        if changed:
            self._version += 1

    def _refresh(self, capacities: Iterable[VoiceCapacity], now: datetime) -> bool:
        self._queries.failures = []
        shapes: dict[Shape, tuple[Peak, int, timedelta]] = {}
        bursts: dict[str, timedelta] = {}
        for capacity in capacities:
            settings = capacity.spec.forecast
            for peak in capacity.spec.peaks:
                shape = shape_of(capacity, peak)
                _, weeks, refresh = shapes.get(shape, (peak, 0, settings.refresh))
                shapes[shape] = (peak, max(weeks, settings.weeks), min(refresh, settings.refresh))
            if capacity.spec.peaks:
                query = capacity.spec.sessions.query
                bursts[query] = min(bursts.get(query, settings.refresh), settings.refresh)
        for gone in set(self._shapes) - set(shapes):
            del self._shapes[gone]
        for query in set(self._bursts) - set(bursts):
            del self._bursts[query]
        changed = False
        for shape, (peak, weeks, refresh) in shapes.items():
            if self._shape_due(shape, peak, weeks, refresh, now):
                self._shapes[shape] = self._queries.shape(shape, peak, weeks, now)
                changed = True
        for query, refresh in bursts.items():
            last = self._bursts.get(query)
            wait = RETRY_AFTER if last is not None and last.failed else refresh
            if last is None or now >= last.at + wait:
                self._bursts[query] = self._queries.burst(query, now)
                changed = True
        return changed

    def _shape_due(
        self, shape: Shape, peak: Peak, weeks: int, refresh: timedelta, now: datetime
    ) -> bool:
        last = self._shapes.get(shape)
        if last is None or last.weeks < weeks:
            return True
        if last.failure is not None:
            return now >= last.at + RETRY_AFTER
        moved = (last.window_start, last.closed_start) != (
            forecast_window(peak, now),
            last_closed_start(peak, now),
        )
        return moved or now >= last.at + refresh


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
