"""Forecasts from history, the burst factor, and the scorecard of each window (docs/api.md
"Forecasts"). Pure: which windows to look at and what the numbers mean; adapters/history.py
asks Prometheus.

- A peak's window in week k is the window occurrence k weeks before its next occurrence, in its
  own time zone: 09:00 local stays 09:00 local across DST changes.
- Weekly value: forecast.quantile of concurrent sessions inside that window (1-minute steps).
- forecastSessions = growth x the largest weekly value of the last `weeks` weeks with data;
  fewer than minWeeks weeks with data: none (InsufficientHistory).
- burstFactor = largest / median concurrent sessions over the last 28 days.
- A failed refresh keeps the last forecast (its sessions, with the failure as the reason), so a
  Prometheus outage never lowers a floor.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from voicecap.api.models import Forecast, Peak
from voicecap.core.peaks import active_window, earliest_start_after, latest_start, weeks_before

ForecastReason = Literal[
    "Forecast", "InsufficientHistory", "PrometheusUnreachable", "QueryError", "Pending"
]
FORECAST_REASONS: frozenset[str] = frozenset(ForecastReason.__args__)  # type: ignore[attr-defined]
FAILURES: frozenset[str] = frozenset({"PrometheusUnreachable", "QueryError"})
BaselineSource = Literal["expected", "forecast", "current", "none"]
BURST_WINDOW = timedelta(days=28)


@dataclass(frozen=True)
class WeekValue:
    start: datetime
    end: datetime
    sessions: float | None  # None: no data inside the window that week


@dataclass(frozen=True)
class PeakForecast:
    peak: str
    sessions: float | None = None
    weeks_used: int = 0
    quantile: float | None = None
    window_start: datetime | None = None  # the window it forecasts
    computed_at: datetime | None = None
    reason: ForecastReason = "Pending"
    # The weekly values behind it (for `voicecap forecast`); not kept in status.
    weeks: tuple[WeekValue, ...] = field(default=(), compare=False)

    @property
    def usable(self) -> bool:
        return self.sessions is not None and math.isfinite(self.sessions) and self.sessions >= 0


def forecast_window(peak: Peak, at: datetime) -> datetime | None:
    """The start of the window the forecast is for: the one open at `at`, else the next one."""
    start = latest_start(peak.schedule, peak.time_zone, at)
    if start is not None and at < start + peak.duration:
        return start
    return earliest_start_after(peak.schedule, peak.time_zone, at)


def weekly_windows(
    peak: Peak, window_start: datetime, weeks: int
) -> list[tuple[datetime, datetime]]:
    """[start, end) of the window in each of the `weeks` weeks before `window_start`, newest
    first, at the same wall time in the peak's time zone."""
    return [
        (start, start + peak.duration)
        for start in (weeks_before(window_start, peak.time_zone, k) for k in range(1, weeks + 1))
    ]


def last_closed_start(peak: Peak, at: datetime) -> datetime | None:
    """The start of the latest window that ended at or before `at`."""
    return latest_start(peak.schedule, peak.time_zone, at - peak.duration)


def forecast_from(
    peak: Peak,
    settings: Forecast,
    weeks: Sequence[WeekValue],
    *,
    window_start: datetime,
    at: datetime,
) -> PeakForecast:
    """`weeks` newest first; only the last settings.weeks of them count."""
    considered = tuple(weeks[: settings.weeks])
    values = [
        week.sessions
        for week in considered
        if week.sessions is not None and math.isfinite(week.sessions) and week.sessions >= 0
    ]
    common = {
        "peak": peak.name,
        "weeks_used": len(values),
        "quantile": settings.quantile,
        "window_start": window_start,
        "computed_at": at,
        "weeks": considered,
    }
    if len(values) < settings.min_weeks:
        return PeakForecast(reason="InsufficientHistory", **common)  # type: ignore[arg-type]
    return PeakForecast(
        sessions=round(max(values) * settings.growth, 2),
        reason="Forecast",
        **common,  # type: ignore[arg-type]
    )


def failed_forecast(
    peak: Peak,
    settings: Forecast,
    reason: ForecastReason,
    *,
    window_start: datetime | None,
    previous: PeakForecast | None,
) -> PeakForecast:
    """A refresh that failed keeps the last forecast's numbers, with the failure as the reason."""
    if previous is not None and previous.usable:
        return replace(previous, reason=reason)
    return PeakForecast(
        peak=peak.name, quantile=settings.quantile, window_start=window_start, reason=reason
    )


def with_kept(
    fresh: Mapping[str, PeakForecast], kept: Iterable[PeakForecast]
) -> dict[str, PeakForecast]:
    """Fresh forecasts, where a failure without numbers takes the kept ones (from status)."""
    previous = {forecast.peak: forecast for forecast in kept}
    merged = dict(fresh)
    for name, forecast in fresh.items():
        old = previous.get(name)
        if old is None:
            continue
        if forecast.reason in FAILURES and not forecast.usable and old.usable:
            merged[name] = replace(old, reason=forecast.reason)
        elif _same_forecast(forecast, old):
            # computedAt says when the forecast last changed: an hourly refresh that finds the
            # same numbers (most of them: past weeks do not change) writes no status.
            merged[name] = replace(forecast, computed_at=old.computed_at)
    for name, old in previous.items():
        merged.setdefault(name, old)  # not refreshed yet (a restart): what status says
    return merged


def _same_forecast(one: PeakForecast, other: PeakForecast) -> bool:
    return (one.sessions, one.weeks_used, one.quantile, one.window_start, one.reason) == (
        other.sessions,
        other.weeks_used,
        other.quantile,
        other.window_start,
        other.reason,
    )


def burst_factor(largest: float | None, median: float | None) -> float | None:
    if largest is None or median is None or not math.isfinite(largest):
        return None
    if not math.isfinite(median) or median <= 0:
        return None
    return round(largest / median, 2)  # slides hourly: 2 decimals spare status writes


@dataclass(frozen=True)
class History:
    """What the vertical's history said at the last refresh (adapters fill it)."""

    forecasts: Mapping[str, PeakForecast] = field(default_factory=dict)  # by peak name
    burst_factor: float | None = None
    burst_known: bool = False  # False: not refreshed yet, or the refresh failed: keep the last
    actuals: Mapping[str, tuple[datetime, float]] = field(
        default_factory=dict
    )  # peak -> (start, q)


# ---------------------------------------------------------------- scorecard


@dataclass(frozen=True)
class Scorecard:
    """One window of one peak: the baseline planned for, and what came."""

    peak: str
    window_start: datetime
    window_end: datetime
    baseline: float | None
    baseline_source: BaselineSource
    actual: float | None = None
    over_capacity_minutes: int = 0
    last_over_capacity: datetime | None = None

    @property
    def error_ratio(self) -> float | None:
        if self.actual is None or self.baseline is None or self.baseline <= 0:
            return None
        return round((self.actual - self.baseline) / self.baseline, 3)


def score(
    peaks: Sequence[Peak],
    previous: Sequence[Scorecard],
    *,
    now: datetime,
    baselines: Mapping[str, tuple[float | None, BaselineSource]],
    over_capacity: bool,
    actuals: Mapping[str, tuple[datetime, float]],
) -> tuple[Scorecard, ...]:
    """The latest window of each peak: opened when its floor is raised (with the baseline used
    then), counting minutes over capacity while it is open, and closed with the actual quantile
    once history has it. `actuals`: peak -> (window start, quantile inside it)."""
    cards = {card.peak: card for card in previous}
    scored = []
    for peak in peaks:
        card = cards.get(peak.name)
        window = active_window(peak, now)
        baseline, source = baselines.get(peak.name, (None, "none"))
        if window is not None and (card is None or card.window_start != window.start):
            card = Scorecard(peak.name, window.start, window.end, baseline, source)
        elif (
            window is not None
            and card is not None
            and source != "current"
            and (card.baseline, card.baseline_source) != (baseline, source)
        ):
            # A declared or forecast baseline that appears (or changes) while the window is
            # raised is what the floor follows from then on; current sessions move every
            # cycle, so the first one seen stands for them.
            card = replace(card, baseline=baseline, baseline_source=source)
        if card is None:
            continue
        if window is not None and window.start <= now and over_capacity:
            minute = now.replace(second=0, microsecond=0)
            if card.last_over_capacity != minute:
                card = replace(
                    card,
                    over_capacity_minutes=card.over_capacity_minutes + 1,
                    last_over_capacity=minute,
                )
        actual = actuals.get(peak.name)
        if (
            card.actual is None
            and now >= card.window_end
            and actual is not None
            and actual[0] == card.window_start
        ):
            card = replace(card, actual=actual[1])
        scored.append(card)
    return tuple(scored)
