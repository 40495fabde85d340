"""The weeks of history before a trace's Monday, and the forecasts the product makes from them.

Each week is an M/G/infinity run of the trace's history rate, sampled every minute by wall time
in the trace's zone: the demand. A trace whose history was served at an old ceiling
(Truth.history_ceiling) recorded the calls served, the demand clipped at the ceiling; the calls
offered (served + refused x the mean call) are the demand again where the refusals were counted.
voicecap reads the calls served, voicecap-measured the calls offered. The product
asks for its weekly windows (core/peaks/forecast.weekly_windows, DST-correct) and gets each window's
quantile, or each slot's with slot-aware releases, computed by PromQL's quantile rule over the
1-minute samples inside it, as `quantile_over_time` over a `[D:60s]` subquery would.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import numpy as np

from callsim.traces import CALL_SIGMA, HISTORY_WEEKS, MEAN_CALL_SECONDS, Trace


def promql_quantile(values: Sequence[float], q: float) -> float:
    """PromQL's quantile: rank q x (n - 1), linear between neighbours."""
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def concurrency(trace: Trace, weeks_back: int, seed: int) -> dict[datetime, float]:
    """Concurrent calls at every minute of the trace's span, `weeks_back` weeks before its day."""
    rate = trace.rate if weeks_back == 0 else trace.history_rate(weeks_back)
    day = trace.day - timedelta(weeks=weeks_back)
    start = replace_day(trace, day, trace.hours[0] - 1)  # an hour of warm-up
    end = replace_day(trace, day, trace.hours[1])
    minutes = int((end - start).total_seconds() // 60)
    rng = np.random.default_rng(seed)
    mu = math.log(MEAN_CALL_SECONDS) - CALL_SIGMA**2 / 2
    starts_list = []
    for minute in range(minutes):
        hour = trace.hours[0] - 1 + minute / 60
        count = rng.poisson(max(rate(hour), 0.0))
        starts_list.append(minute * 60 + rng.uniform(0, 60, size=count))
    starts = np.sort(np.concatenate(starts_list))
    ends = np.sort(starts + rng.lognormal(mu, CALL_SIGMA, size=starts.size))
    moments = np.arange(minutes) * 60.0
    active = np.searchsorted(starts, moments, "right") - np.searchsorted(ends, moments, "right")
    return {
        start + timedelta(minutes=int(m)): float(a)
        for m, a in zip(range(minutes), active, strict=True)
        if m >= 60
    }


def replace_day(trace: Trace, day: Any, hour: float) -> datetime:
    from callsim.traces import _local  # noqa: PLC0415

    return _local(day, hour, trace.zone)


class Forecaster:
    """The forecasts of one trace's peaks, as the product under test computes them."""

    def __init__(self, trace: Trace, planner: Any, seed: int) -> None:
        self.trace = trace
        self.planner = planner
        self.samples: dict[datetime, float] = {}  # the demand
        for k in range(1, HISTORY_WEEKS + 1):
            self.samples.update(concurrency(trace, k, seed + k))
        truth = trace.truth
        ceiling = truth.history_ceiling if truth is not None else None
        self.served = (
            self.samples
            if ceiling is None
            else {moment: min(value, ceiling) for moment, value in self.samples.items()}
        )
        counted = truth is None or truth.refusals_counted
        self.offered = self.samples if counted else self.served
        self._cache: dict[tuple[str, datetime, bool], Any] = {}
        # The measured Monday's demand, as Prometheus records it: the closed window's actual
        # (the scorecard) and the 28-day burst factor's stand-in (largest / median of the day).
        self.today = concurrency(trace, 0, seed)
        values = sorted(self.today.values())
        median = promql_quantile(values, 0.5)
        self.burst = round(values[-1] / median, 2) if median > 0 else None

    def actuals(self, capacity: Any, at: datetime) -> dict[str, tuple[datetime, float]]:
        """Each peak's latest closed window and its quantile, once it has closed."""
        found = {}
        for peak in capacity.spec.peaks:
            start = self.planner.last_closed_start(peak, at)
            if start is None:
                continue
            values = [
                value
                for moment, value in self.today.items()
                if start <= moment < start + peak.duration
            ]
            if values:
                found[peak.name] = (start, promql_quantile(values, capacity.spec.forecast.quantile))
        return found

    def last_week(self, at: datetime, ahead: timedelta = timedelta(minutes=30)) -> float | None:
        """KEDA's predictive recipe (Grafana Mimir's): max_over_time(calls[30m] offset
        6d23h30m), the most calls served in the half hour that followed this moment last week."""
        start = at - timedelta(weeks=1)
        values = [
            value
            for minute in range(int(ahead.total_seconds() // 60) + 1)
            if (value := self.served.get(_minute(start) + timedelta(minutes=minute))) is not None
        ]
        return max(values) if values else None

    def quantile(
        self, start: datetime, end: datetime, q: float, *, offered: bool = False
    ) -> float | None:
        series = self.offered if offered else self.served
        values = []
        moment = start
        while moment < end:
            if moment in series:
                values.append(series[moment])
            moment += timedelta(minutes=1)
        return promql_quantile(values, q) if values else None

    def raised(self, capacity: Any, at: datetime, *, offered: bool = False) -> dict[str, Any]:
        """Each peak's forecast for the window open at `at`, else the next one: from the calls
        served in history, or `offered`."""
        found = {}
        for peak in capacity.spec.peaks:
            window = self.planner.forecast_window(peak, at)
            if window is None:
                continue
            key = (peak.name, window, offered)
            if key not in self._cache:
                quantile = partial(self.quantile, offered=offered)
                self._cache[key] = self.planner.forecast(capacity, peak, window, quantile)
            found[peak.name] = self._cache[key]
        return found


def _minute(moment: datetime) -> datetime:
    """The sample at or before `moment` (history is sampled on whole minutes of the span)."""
    return moment.replace(second=0, microsecond=0)
