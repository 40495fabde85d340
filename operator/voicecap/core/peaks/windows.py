"""Peak windows from cron schedules in IANA time zones.

A window starts at each cron match of `schedule` in `timeZone` wall time and lasts `duration`
of elapsed time; the floor is raised from `leadTime` before the start. Membership is computed
from the clock at every evaluation (level-triggered), so a restart or a missed tick inside a
window changes nothing.

Named policies for wall times that DST makes odd (PEP 495, fold=0):
- GapShiftsForward: a start in a spring-forward gap (02:30 on 2026-03-08 in New York) happens
  at the same wall time shifted by the gap (03:30 EDT).
- AmbiguousTakesFirst: a start in a fall-back repeated hour (01:30 on 2026-11-01 in New York)
  happens once, at its first occurrence (01:30 EDT).

Excluded days (peaks[].exclude, and a calendarRef's days merged in by the service): a window
does not open on a day of `timeZone` that is excluded, judged by the local date it starts on.
Every function below that names a peak skips them; the schedule-level ones do not.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from croniter import croniter

from voicecap.api import zones
from voicecap.api.models import Peak

# Larger than any UTC-offset change at a DST transition (the largest in use is 2h), so that
# scanning this far beyond a wall time finds every start whose instant is on the other side.
_SLACK = timedelta(hours=3)
# A bound on cron steps per search; a 5-field cron matches at least once in four years.
_MAX_STEPS = 100_000


@dataclass(frozen=True)
class Window:
    peak: Peak
    start: datetime
    end: datetime

    @property
    def raised_from(self) -> datetime:
        return self.start - self.peak.lead_time


def _zone(name: str) -> ZoneInfo:
    return zones.zone(name)


def _instant(wall_time: datetime, zone: ZoneInfo) -> datetime:
    """A wall time in `zone` as a UTC instant (fold=0: GapShiftsForward, AmbiguousTakesFirst)."""
    return wall_time.replace(tzinfo=zone).astimezone(UTC)


def _wall_time(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def weeks_before(instant: datetime, time_zone: str, weeks: int) -> datetime:
    """The same wall time in `time_zone`, `weeks` weeks earlier (09:00 local stays 09:00 local
    across a DST change; the named policies above apply to the result)."""
    zone = _zone(time_zone)
    return _instant(_wall_time(instant, zone) - timedelta(weeks=weeks), zone)


def latest_start(schedule: str, time_zone: str, at: datetime) -> datetime | None:
    """The latest window start at or before `at` (UTC)."""
    # A 5-field cron matches whole minutes only, so the answer is the same for the whole minute:
    # memoizing on the minute serves every object that shares a schedule in this cycle.
    return _latest_start(schedule, time_zone, _minute(at))


def earliest_start_after(schedule: str, time_zone: str, at: datetime) -> datetime | None:
    """The earliest window start strictly after `at` (UTC)."""
    return _earliest_start_after(schedule, time_zone, _minute(at))


@lru_cache(maxsize=8192)
def _latest_start(schedule: str, time_zone: str, at: datetime) -> datetime | None:
    zone = _zone(time_zone)
    steps = croniter(schedule, _wall_time(at, zone) + _SLACK)
    best: datetime | None = None
    best_wall: datetime | None = None
    for _ in range(_MAX_STEPS):
        wall = steps.get_prev(datetime)
        # Offsets differ by less than _SLACK, so wall times this much earlier are earlier instants.
        if best_wall is not None and wall < best_wall - _SLACK:
            break
        start = _instant(wall, zone)
        if start <= at and (best is None or start > best):
            best, best_wall = start, wall
    return best


@lru_cache(maxsize=8192)
def _earliest_start_after(schedule: str, time_zone: str, at: datetime) -> datetime | None:
    zone = _zone(time_zone)
    steps = croniter(schedule, _wall_time(at, zone) - _SLACK)
    best: datetime | None = None
    best_wall: datetime | None = None
    for _ in range(_MAX_STEPS):
        wall = steps.get_next(datetime)
        if best_wall is not None and wall > best_wall + _SLACK:
            break
        start = _instant(wall, zone)
        if start > at and (best is None or start < best):
            best, best_wall = start, wall
    return best


def excluded_span(peak: Peak, day: date) -> tuple[date, date] | None:
    """The excluded span of `peak` that holds `day` (the longest, when several do)."""
    holding = [span for span in peak.exclude if span[0] <= day <= span[1]]
    return max(holding, key=lambda span: span[1]) if holding else None


def start_day(peak: Peak, start: datetime) -> date:
    """The day of the peak's own time zone that a window starting at `start` opens on."""
    return _wall_time(start, _zone(peak.time_zone)).date()


def _midnight(day: date, zone_name: str) -> datetime:
    return _instant(datetime.combine(day, time()), _zone(zone_name))


def opening_at_or_before(peak: Peak, at: datetime) -> datetime | None:
    """The latest start at or before `at` of a window that opens (its day is not excluded)."""
    cursor = at
    for _ in range(_MAX_STEPS):
        start = latest_start(peak.schedule, peak.time_zone, cursor)
        if start is None:
            return None
        span = excluded_span(peak, start_day(peak, start))
        if span is None:
            return start
        cursor = _midnight(span[0], peak.time_zone) - timedelta(minutes=1)  # before the span
    return None


def _starts_after(peak: Peak, at: datetime) -> Iterator[tuple[datetime, bool]]:
    """The schedule's starts after `at`, each with whether its day is excluded, up to and
    including the first that opens; an excluded day is skipped in one step, whatever the cron."""
    cursor = at
    for _ in range(_MAX_STEPS):
        start = earliest_start_after(peak.schedule, peak.time_zone, cursor)
        if start is None:
            return
        day = start_day(peak, start)
        excluded = excluded_span(peak, day) is not None
        yield start, excluded
        if not excluded:
            return
        cursor = max(
            _midnight(day + timedelta(days=1), peak.time_zone) - timedelta(minutes=1), start
        )


def opening_after(peak: Peak, at: datetime) -> datetime | None:
    """The earliest start strictly after `at` of a window that opens."""
    return next((start for start, excluded in _starts_after(peak, at) if not excluded), None)


def skipped_before_next(peak: Peak, at: datetime, limit: int = 16) -> list[date]:
    """The excluded days on which the schedule would open a window after `at`, up to the next
    window that opens (what `voicecap plan` shows as the exclusions that apply now)."""
    skipped = (start_day(peak, start) for start, excluded in _starts_after(peak, at) if excluded)
    return list(itertools.islice(skipped, limit))


def active_window(peak: Peak, now: datetime) -> Window | None:
    """The window whose raised span [start - leadTime, start + duration) contains `now`.

    Only the latest opening at or before now + leadTime can qualify: every earlier start has
    an earlier end, so if the latest window is over, all of them are.
    """
    start = opening_at_or_before(peak, now + peak.lead_time)
    if start is None:
        return None
    window = Window(peak=peak, start=start, end=start + peak.duration)
    if window.raised_from <= now < window.end:
        return window
    return None


def windows_meeting(peak: Peak, since: datetime, until: datetime) -> list[Window]:
    """Every window whose raised span [start - leadTime, end) meets [since, until], in order (a
    window that opened before `since` and is still open counts)."""
    found = []
    cursor = since - peak.duration
    while (start := opening_after(peak, cursor)) is not None:
        if start - peak.lead_time > until:
            break
        found.append(Window(peak=peak, start=start, end=start + peak.duration))
        cursor = start
    return found


def next_start(peaks: list[Peak], now: datetime) -> tuple[Peak, datetime] | None:
    """The peak whose next window starts soonest after `now` (list order breaks ties)."""
    best: tuple[Peak, datetime] | None = None
    for peak in peaks:
        start = opening_after(peak, now)
        if start is not None and (best is None or start < best[1]):
            best = (peak, start)
    return best
