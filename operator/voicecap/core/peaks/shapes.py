"""What a forecast query is about, as pure values: its shape (schedule, zone, duration, quantile,
session query, excluded days) and the spans it asks for (every slot of every week's window,
labelled "k.i"), and how an answer reads back as weekly values. The service's HistoryCache and
`voicecap replay` share them; service/history_queries.py asks the queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from voicecap.api.models import Peak, VoiceCapacity
from voicecap.core.peaks.forecast import WeekValue, slots_of, week_value, weekly_windows

SeriesKey = tuple[str, str]  # (namespace, vertical); SINGLE for an override's one series
SINGLE: SeriesKey = ("", "")
CLOSED = "closed"  # the span label of the latest closed window (the scorecard's actual)
CENSORED_SHARE = 0.95  # a week served at 95 % of its admission limit sat at it


@dataclass(frozen=True)
class Span:
    """One term of a window query: a labelled [start, end)."""

    label: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Shape:
    schedule: str
    time_zone: str
    duration: timedelta
    quantile: float
    query: str  # "" for the default, batched session query
    exclude: tuple[tuple[date, date], ...] = ()  # holidays: they choose the weeks looked at
    rejected: str = ""  # sessions.rejectedQuery ("" the default counter)
    call_seconds: float | None = None  # sessions.callDuration, where it is declared


def shape_of(capacity: VoiceCapacity, peak: Peak) -> Shape:
    return Shape(
        peak.schedule,
        peak.time_zone,
        peak.duration,
        capacity.spec.forecast.quantile,
        capacity.spec.sessions.query,
        tuple(peak.exclude),
        capacity.spec.sessions.rejected_query,
        duration.total_seconds() if (duration := capacity.spec.sessions.call_duration) else None,
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


def weekly_flag_spans(peak: Peak, window_start: datetime, weeks: int) -> list[Span]:
    """Each week's whole window, labelled "k": what it was flagged (offered, censored) by."""
    return [
        Span(str(k), start, end)
        for k, (start, end) in enumerate(weekly_windows(peak, window_start, weeks), start=1)
    ]


def weeks_from(
    values: dict[str, float],
    peak: Peak,
    window_start: datetime,
    weeks: int,
    flags: dict[str, dict[str, float]] | None = None,
) -> list[WeekValue]:
    """The weekly slot values a shape query answered for one series, newest week first, each
    flagged by `flags` ({"offered": {"k": most refused a second}, "censored": {"k": the
    quantile of calls served / admission limit}})."""
    refused = (flags or {}).get("offered", {})
    share = (flags or {}).get("censored", {})
    found = []
    for k, (start, end) in enumerate(weekly_windows(peak, window_start, weeks), start=1):
        slots = [values.get(f"{k}.{i}") for i in range(len(slots_of(start, end)))]
        offered = refused.get(str(k), 0.0) > 0
        censored = share.get(str(k), 0.0) >= CENSORED_SHARE
        found.append(week_value(start, end, slots, offered=offered, censored=censored))
    return found


def series_key(capacity: VoiceCapacity) -> SeriesKey:
    return SINGLE if capacity.spec.sessions.query else (capacity.namespace, capacity.vertical)
