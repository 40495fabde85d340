"""Forecasts for the whole fleet from history: one query per window shape per refresh.

A shape is what a window query depends on: (schedule, time zone, duration, quantile, session query,
excluded days). Its terms are every slot of every week's window (core/peaks/forecast.py: at most 24
slots a window, so 13 weeks are at most 312 terms). Every VoiceCapacity peak with the same shape
shares its query, however many there are. A shape is refreshed when its forecast.refresh has passed
(the shortest among its users), when the window it forecasts moves on, or when a window has just
closed (for the scorecard). The burst factor is one more query per distinct session query, at the
same pace.

A failed refresh keeps the last forecasts (core/peaks/forecast.py: failed_forecast) and is tried
again after RETRY_AFTER, so an outage costs one query per shape a minute, not one per cycle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Set
from datetime import datetime, timedelta

from voicecap.adapters.metrics import OperatorMetrics
from voicecap.api.models import Peak, VoiceCapacity
from voicecap.core.peaks.forecast import (
    History,
    PeakForecast,
    burst_factor,
    failed_forecast,
    forecast_from,
    forecast_window,
    last_closed_start,
)
from voicecap.core.peaks.shapes import CLOSED, Shape, series_key, shape_of, weeks_from
from voicecap.service.clock import Clock
from voicecap.service.history_queries import BurstResult, HistoryQueries, ShapeResult
from voicecap.service.ports import History as HistoryPort

log = logging.getLogger("voicecap")
RETRY_AFTER = timedelta(minutes=1)


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
        """What history says for this VoiceCapacity now (forecasts, burst factor, the last
        window's actual), rebuilt only after a refresh or a spec change. Never queries."""
        cached = self._views.get(capacity.key)
        if cached is not None and cached[0] is capacity and cached[1] == self._version:
            return cached[2]
        previous = cached[2] if cached is not None else None
        history = self._build(capacity, previous)
        self._views[capacity.key] = (capacity, self._version, history)
        return history

    def forget_except(self, keys: Set[str]) -> None:
        """Forgets deleted objects' views (service/ports.Forgetting)."""
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
                weeks = weeks_from(
                    values, peak, result.window_start, settings.weeks, result.flags.get(key)
                )
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
        """Cancel a refresh in flight (the operator is stopping)."""
        if self._task is not None:
            self._task.cancel()

    async def wait(self) -> None:
        """Wait for the refresh in flight to land (tests, and `voicecap forecast`)."""
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task

    async def refresh(self, capacities: list[VoiceCapacity]) -> None:
        """Ask Prometheus for every shape and burst factor that is due, now; a failure keeps
        what is known and is logged."""
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
