"""Forecasts from history, the burst factor, and the scorecard of each window (docs/api.md
"Forecasts"). Pure: which windows to look at and what the numbers mean; adapters/history.py
asks Prometheus.

- A peak's window in week k is the window occurrence k weeks before its next occurrence, in its
  own time zone: 09:00 local stays 09:00 local across DST changes.
- The window is cut into at most MAX_SLOTS equal slots (whole minutes, at least MIN_SLOT), so
  the forecast has the window's shape: a 09:00 surge that decays within the hour is planned as
  it comes, not held at its peak for two hours.
- Weekly value of a slot: forecast.quantile of concurrent sessions inside it (1-minute steps):
  the calls offered where refusals are counted (served + refused x the mean call duration,
  core/measured/queries.py), else those served. A week served at its admission limit with
  nothing counting the refused is censored: its value is a lower bound, and a forecast that
  uses one says CensoredHistory.
- The profile: for each slot, growth x the forecast.weeksQuantile of that slot's weekly values
  over the last `weeks` weeks with data (the median by default: a one-off spike week does not
  move it; 1 is the largest, the old rule). forecastSessions = the profile's largest slot.
  Fewer than minWeeks weeks with data: none (InsufficientHistory).
- forecast.trend Weekly: each week's values are first carried forward by the vertical's weekly
  growth (core/peaks/trend.py) to the week forecast, so a growing business is not forecast at
  its level of weeks ago.
- The backtest: the same forecast made for each past week from the weeks before it, against
  what that week carried (meanAbsoluteError, underForecastWeeks): how far to trust it.
- burstFactor = largest / median concurrent sessions over the last 28 days.
- A failed refresh keeps the last forecast (its sessions, with the failure as the reason), so a
  Prometheus outage never lowers a floor.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Literal

from voicecap.api.models import Forecast, Peak
from voicecap.core.peaks.trend import weekly_growth
from voicecap.core.peaks.windows import (
    excluded_span,
    opening_after,
    opening_at_or_before,
    start_day,
    weeks_before,
)

ForecastReason = Literal[
    "Forecast",
    "CensoredHistory",
    "InsufficientHistory",
    "PrometheusUnreachable",
    "QueryError",
    "Pending",
]
FORECAST_REASONS: frozenset[str] = frozenset(ForecastReason.__args__)  # type: ignore[attr-defined]
FAILURES: frozenset[str] = frozenset({"PrometheusUnreachable", "QueryError"})
BaselineSource = Literal["expected", "forecast", "current", "none"]
BURST_WINDOW = timedelta(days=28)
MAX_SLOTS = 24  # slots per window: the shape's resolution, and terms per week in the query
MIN_SLOT = timedelta(minutes=5)
MAX_REPLACED_WEEKS = 52  # how far back the forecast looks past excluded weeks


@dataclass(frozen=True)
class WeekValue:
    start: datetime
    end: datetime
    sessions: float | None  # the largest slot value; None: no data inside the window that week
    slots: tuple[float | None, ...] = ()  # None: no data inside that slot
    offered: bool = False  # refused calls counted in: the calls offered, not only served
    censored: bool = False  # served at its admission limit, refusals not counted: a lower bound


def week_value(
    start: datetime,
    end: datetime,
    slots: Sequence[float | None],
    *,
    offered: bool = False,
    censored: bool = False,
) -> WeekValue:
    """A week's window from its slot values (non-finite and negative values are no data)."""
    clean = tuple(value if _sane(value) else None for value in slots)
    known = [value for value in clean if value is not None]
    return WeekValue(
        start, end, max(known) if known else None, clean, offered, censored and not offered
    )


def slot_length(duration: timedelta) -> timedelta:
    """Equal slots of whole minutes, at least MIN_SLOT, at most MAX_SLOTS to a window."""
    minutes = math.ceil(duration.total_seconds() / 60 / MAX_SLOTS)
    return max(timedelta(minutes=minutes), MIN_SLOT)


def slots_of(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) of each slot of a window; the last one may be shorter."""
    size = slot_length(end - start)
    count = math.ceil((end - start) / size)
    return [(start + i * size, min(start + (i + 1) * size, end)) for i in range(count)]


def weeks_quantile(values: Sequence[float], q: float) -> float:
    """PromQL's quantile rule (rank q x (n - 1), linear between neighbours), so a forecast can be
    checked by hand against the weekly values `voicecap forecast` prints."""
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _sane(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and value >= 0


@dataclass(frozen=True)
class Backtest:
    """The forecast made for each past week from the weeks before it, against that week."""

    weeks: int  # past weeks forecast
    mean_absolute_error: float  # mean |forecast - actual| / actual
    under_forecast_weeks: int  # weeks that carried more than their forecast


@dataclass(frozen=True)
class PeakForecast:
    peak: str
    sessions: float | None = None
    weeks_used: int = 0
    quantile: float | None = None
    window_start: datetime | None = None  # the window it forecasts
    computed_at: datetime | None = None
    reason: ForecastReason = "Pending"
    # The forecast calls of each slot of the window, in order (empty: flat at `sessions`).
    profile: tuple[float, ...] = ()
    # The days of weekly windows skipped as excluded (holidays), each replaced by an older week.
    replaced: tuple[date, ...] = ()
    # The weekly values behind it (`voicecap forecast`, status.forecast[].weeks without slots).
    weeks: tuple[WeekValue, ...] = field(default=(), compare=False)
    trend: float | None = None  # the weekly growth applied (forecast.trend Weekly)
    backtest: Backtest | None = None

    @property
    def fresh(self) -> bool:
        """Computed from history this refresh (censored or not), not kept through a failure."""
        return self.reason in {"Forecast", "CensoredHistory"}

    @property
    def usable(self) -> bool:
        return self.sessions is not None and math.isfinite(self.sessions) and self.sessions >= 0

    def shape(self, slots: int) -> tuple[float, ...] | None:
        """The profile if it has this many slots and a positive peak (else no shape to follow)."""
        if len(self.profile) != slots or not self.profile or max(self.profile) <= 0:
            return None
        return self.profile


def forecast_window(peak: Peak, at: datetime) -> datetime | None:
    """The start of the window the forecast is for: the one open at `at`, else the next one."""
    start = opening_at_or_before(peak, at)
    if start is not None and at < start + peak.duration:
        return start
    return opening_after(peak, at)


def weekly_windows(
    peak: Peak, window_start: datetime, weeks: int
) -> list[tuple[datetime, datetime]]:
    """[start, end) of the window in each of the `weeks` weeks before `window_start`, newest
    first, at the same wall time in the peak's time zone; a week whose window fell on an
    excluded day (a holiday) is replaced by the week before the oldest one taken."""
    return [
        (start, start + peak.duration) for start in _weekly_starts(peak, window_start, weeks)[0]
    ]


def replaced_weeks(peak: Peak, window_start: datetime, weeks: int) -> tuple[date, ...]:
    """The days of the weekly windows that weekly_windows skipped as excluded, newest first."""
    return _weekly_starts(peak, window_start, weeks)[1]


def _weekly_starts(
    peak: Peak, window_start: datetime, weeks: int
) -> tuple[list[datetime], tuple[date, ...]]:
    taken: list[datetime] = []
    skipped: list[date] = []
    k = 0
    # Bounded: every excluded week is one more step back, and a year of them is plenty.
    while len(taken) < weeks and k < weeks + MAX_REPLACED_WEEKS:
        k += 1
        start = weeks_before(window_start, peak.time_zone, k)
        day = start_day(peak, start)
        if excluded_span(peak, day) is not None:
            skipped.append(day)
        else:
            taken.append(start)
    return taken, tuple(skipped)


def last_closed_start(peak: Peak, at: datetime) -> datetime | None:
    """The start of the latest window that opened and ended at or before `at`."""
    return opening_at_or_before(peak, at - peak.duration)


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
    dated = [
        (age, slots) for age, week in enumerate(considered, 1) if (slots := _slot_values(week))
    ]
    with_data = [slots for _, slots in dated]
    common = {
        "peak": peak.name,
        "replaced": replaced_weeks(peak, window_start, settings.weeks),
        "weeks_used": len(with_data),
        "quantile": settings.quantile,
        "window_start": window_start,
        "computed_at": at,
        "weeks": considered,
    }
    if len(with_data) < settings.min_weeks:
        return PeakForecast(reason="InsufficientHistory", **common)  # type: ignore[arg-type]
    growth = _growth(dated) if settings.trend == "Weekly" else None
    profile = _profile(dated, settings, growth or 0.0)
    censored = any(week.censored for week in considered if _slot_values(week))
    return PeakForecast(
        sessions=max(profile),
        profile=profile,
        reason="CensoredHistory" if censored else "Forecast",
        trend=growth,
        backtest=_backtest(dated, settings),
        **common,  # type: ignore[arg-type]
    )


Dated = Sequence[tuple[int, tuple[float | None, ...]]]  # (age in weeks, slot values)


def _growth(dated: Dated) -> float:
    return round(weekly_growth([(age, max(v for v in s if v is not None)) for age, s in dated]), 4)


def _backtest(dated: Dated, settings: Forecast) -> Backtest | None:
    """Each week with at least minWeeks weeks of data before it, forecast from those weeks (the
    same rule, trend included) against its own largest slot."""
    errors, under = [], 0
    for index, (age, slots) in enumerate(dated):
        before = [(older - age, values) for older, values in dated[index + 1 :]]
        if len(before) < settings.min_weeks:
            break
        growth = _growth(before) if settings.trend == "Weekly" else 0.0
        forecast = max(_profile(before, settings, growth))
        actual = max(value for value in slots if value is not None)
        if actual <= 0:
            continue
        errors.append(abs(forecast - actual) / actual)
        under += actual > forecast
    if not errors:
        return None
    return Backtest(len(errors), round(sum(errors) / len(errors), 3), under)


def _slot_values(week: WeekValue) -> tuple[float | None, ...]:
    """A week's usable slot values (a week without slots counts as one slot, its window's
    value); empty when the week has no usable data at all."""
    values = tuple(v if _sane(v) else None for v in (week.slots or (week.sessions,)))
    return values if any(value is not None for value in values) else ()


def _profile(dated: Dated, settings: Forecast, trend: float) -> tuple[float, ...]:
    """Slot by slot, growth x weeksQuantile of the weeks that have data there, each carried
    forward by `trend` a week of its age. A one-slot week (its window's value only) counts in
    every slot; a slot no week has data for takes the largest of the others (no data is not
    zero)."""
    count = max(len(week) for _, week in dated)
    combined = []
    for i in range(count):
        values = [
            value * (1 + trend) ** age
            for age, week in dated
            if (value := week[i] if len(week) > 1 else week[0]) is not None
        ]
        combined.append(weeks_quantile(values, settings.weeks_quantile) if values else None)
    fill = max(value for value in combined if value is not None)
    return tuple(
        round((value if value is not None else fill) * settings.growth, 2) for value in combined
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
    def numbers(forecast: PeakForecast) -> tuple[object, ...]:
        return (
            forecast.sessions,
            forecast.profile,
            forecast.weeks_used,
            forecast.quantile,
            forecast.window_start,
            forecast.reason,
            forecast.trend,
            forecast.backtest,
        )

    return numbers(one) == numbers(other)


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
