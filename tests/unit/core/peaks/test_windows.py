"""Peak windows on real calendar dates, including the 2026 DST changes in New York and London."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from voicecap.api.models import Peak
from voicecap.core.peaks.windows import (
    active_window,
    earliest_start_after,
    latest_start,
    next_start,
    windows_meeting,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def peak(**overrides: object) -> Peak:
    fields: dict[str, object] = {
        "name": "monday-morning",
        "schedule": "0 9 * * MON",
        "duration": "2h",
        "timeZone": "America/New_York",
        "leadTime": "10m",
    }
    fields.update(overrides)
    return Peak.model_validate(fields)


MONDAY_MORNING = peak()


@pytest.mark.parametrize(
    ("now", "expected_start"),
    [
        # Winter (EST, UTC-5): 09:00 New York is 14:00Z; the floor rises at 13:50Z.
        (utc(2026, 11, 23, 13, 49, 59), None),
        (utc(2026, 11, 23, 13, 50), utc(2026, 11, 23, 14)),
        (utc(2026, 11, 23, 14, 0), utc(2026, 11, 23, 14)),
        (utc(2026, 11, 23, 15, 59, 59), utc(2026, 11, 23, 14)),
        (utc(2026, 11, 23, 16, 0), None),
        # Summer (EDT, UTC-4): the same wall time is 13:00Z.
        (utc(2026, 7, 6, 12, 50), utc(2026, 7, 6, 13)),
        (utc(2026, 7, 6, 14, 59), utc(2026, 7, 6, 13)),
        (utc(2026, 7, 6, 15, 0), None),
        # The Monday after spring-forward (2026-03-08) is already EDT; the one before is EST.
        (utc(2026, 3, 9, 13, 30), utc(2026, 3, 9, 13)),
        (utc(2026, 3, 2, 13, 30), None),
        (utc(2026, 3, 2, 14, 30), utc(2026, 3, 2, 14)),
        # The Monday after fall-back (2026-11-01) is EST again.
        (utc(2026, 11, 2, 13, 30), None),
        (utc(2026, 11, 2, 14, 30), utc(2026, 11, 2, 14)),
        # Not a Monday.
        (utc(2026, 11, 24, 14, 30), None),
    ],
)
def test_monday_morning_in_new_york(now: datetime, expected_start: datetime | None) -> None:
    window = active_window(MONDAY_MORNING, now)
    assert (window.start if window else None) == expected_start


def test_spring_forward_gap_shifts_the_start_forward() -> None:
    """02:30 does not exist in New York on 2026-03-08: the window starts at 03:30 EDT (07:30Z)."""
    nightly = peak(schedule="30 2 * * *", duration="1h", leadTime="0s")
    assert latest_start(nightly.schedule, nightly.time_zone, utc(2026, 3, 8, 7, 29)) == utc(
        2026, 3, 7, 7, 30
    )
    assert latest_start(nightly.schedule, nightly.time_zone, utc(2026, 3, 8, 7, 30)) == utc(
        2026, 3, 8, 7, 30
    )
    # The next night is EDT: 02:30 EDT is 06:30Z.
    assert earliest_start_after(nightly.schedule, nightly.time_zone, utc(2026, 3, 8, 7, 30)) == utc(
        2026, 3, 9, 6, 30
    )
    window = active_window(nightly, utc(2026, 3, 8, 8, 0))
    assert window is not None and window.end == utc(2026, 3, 8, 8, 30)


def test_fall_back_repeated_hour_starts_once() -> None:
    """01:30 happens twice in New York on 2026-11-01; the window starts at the first (05:30Z)."""
    nightly = peak(schedule="30 1 * * *", duration="30m", leadTime="0s")
    assert earliest_start_after(nightly.schedule, nightly.time_zone, utc(2026, 11, 1, 5)) == utc(
        2026, 11, 1, 5, 30
    )
    # Not again at the second 01:30 (06:30Z): the next start is the next night, 01:30 EST.
    assert earliest_start_after(
        nightly.schedule, nightly.time_zone, utc(2026, 11, 1, 5, 30)
    ) == utc(2026, 11, 2, 6, 30)
    assert active_window(nightly, utc(2026, 11, 1, 6, 40)) is None


def test_window_crossing_midnight() -> None:
    evening = peak(
        schedule="0 18 * * MON-FRI", duration="14h", timeZone="Europe/London", leadTime="15m"
    )
    # Monday 2026-11-23 18:00 GMT to Tuesday 08:00 GMT.
    assert active_window(evening, utc(2026, 11, 23, 17, 44)) is None
    assert active_window(evening, utc(2026, 11, 23, 17, 45)) is not None
    window = active_window(evening, utc(2026, 11, 24, 2, 0))
    assert window is not None
    assert (window.start, window.end) == (utc(2026, 11, 23, 18), utc(2026, 11, 24, 8))
    # Friday's window runs into Saturday morning; Saturday evening has none.
    assert active_window(evening, utc(2026, 11, 28, 7, 59)) is not None
    assert active_window(evening, utc(2026, 11, 28, 18, 30)) is None


def test_window_across_a_dst_change_lasts_its_elapsed_duration() -> None:
    """London falls back at 02:00 BST on 2026-10-25; a 14h window is 14 real hours."""
    nightly = peak(schedule="0 18 * * *", duration="14h", timeZone="Europe/London", leadTime="0s")
    window = active_window(nightly, utc(2026, 10, 25, 3, 0))
    assert window is not None
    assert window.start == utc(2026, 10, 24, 17)  # 18:00 BST
    assert window.end == utc(2026, 10, 25, 7)  # 07:00 GMT: 14 elapsed hours
    # Spring: 2026-03-29 01:00 GMT -> 02:00 BST; 18:00 GMT on the 28th + 14h = 08:00Z = 09:00 BST.
    window = active_window(nightly, utc(2026, 3, 29, 7, 59))
    assert window is not None and window.end == utc(2026, 3, 29, 8)


def test_lead_time_reaches_back_across_midnight() -> None:
    early = peak(schedule="5 0 * * *", duration="1h", timeZone="UTC", leadTime="10m")
    window = active_window(early, utc(2026, 11, 21, 23, 55))
    assert window is not None and window.start == utc(2026, 11, 22, 0, 5)


def test_long_windows_of_frequent_schedules_overlap_themselves() -> None:
    """An hourly schedule with 2h windows is always active; the latest start is the one used."""
    hourly = peak(schedule="0 * * * *", duration="2h", timeZone="UTC", leadTime="0s")
    window = active_window(hourly, utc(2026, 11, 21, 10, 30))
    assert window is not None and window.start == utc(2026, 11, 21, 10)


def test_next_start_picks_the_soonest_peak() -> None:
    peaks = [
        MONDAY_MORNING,
        peak(name="saturday", schedule="0 10 * * SAT", timeZone="America/Los_Angeles"),
    ]
    # Friday 2026-11-20: Saturday 10:00 PST (18:00Z on the 21st) comes before Monday.
    soonest = next_start(peaks, utc(2026, 11, 20, 12))
    assert soonest is not None and (soonest[0].name, soonest[1]) == (
        "saturday",
        utc(2026, 11, 21, 18),
    )
    soonest = next_start(peaks, utc(2026, 11, 22, 12))
    assert soonest is not None and (soonest[0].name, soonest[1]) == (
        "monday-morning",
        utc(2026, 11, 23, 14),
    )
    assert next_start([], utc(2026, 11, 22)) is None


def test_rare_schedules_are_found() -> None:
    leap_day = peak(schedule="0 12 29 2 *", timeZone="UTC", leadTime="0s")
    assert earliest_start_after(leap_day.schedule, "UTC", utc(2026, 11, 21)) == utc(2028, 2, 29, 12)
    assert latest_start(leap_day.schedule, "UTC", utc(2026, 11, 21)) == utc(2024, 2, 29, 12)


def test_membership_is_a_function_of_the_clock_alone() -> None:
    """A restart or a missed tick inside a window finds the same window (F16)."""
    start = utc(2026, 11, 23, 14)
    for minutes in range(-10, 120, 7):
        window = active_window(MONDAY_MORNING, start + timedelta(minutes=minutes))
        assert window is not None and window.start == start


def test_seconds_within_a_minute_do_not_change_the_answer() -> None:
    """The memoization key is the minute; a cron cannot start between two whole minutes."""
    for second in (0, 1, 30, 59):
        at = utc(2026, 11, 23, 14, 0, second)
        assert latest_start("0 9 * * MON", "America/New_York", at) == utc(2026, 11, 23, 14)
        assert earliest_start_after("0 9 * * MON", "America/New_York", at) == utc(2026, 11, 30, 14)
    assert latest_start("0 9 * * MON", "America/New_York", utc(2026, 11, 23, 13, 59, 59)) == utc(
        2026, 11, 16, 14
    )


def test_windows_meeting_a_span_include_one_still_open_and_one_in_its_lead_time() -> None:
    evenings = peak(schedule="0 18 * * *", duration="14h", timeZone="UTC", leadTime="15m")
    # 2026-11-20 06:00 to 2026-11-21 17:50 UTC: the 19th's window is still open at the start,
    # the 20th's lies inside, the 21st's lead time (from 17:45) reaches in, the 22nd's does not
    found = windows_meeting(evenings, utc(2026, 11, 20, 6, 0), utc(2026, 11, 21, 17, 50))
    assert [window.start for window in found] == [
        utc(2026, 11, 19, 18, 0),
        utc(2026, 11, 20, 18, 0),
        utc(2026, 11, 21, 18, 0),
    ]
    assert found[0].end == utc(2026, 11, 20, 8, 0)
    assert windows_meeting(evenings, utc(2026, 11, 20, 6, 0), utc(2026, 11, 20, 17, 44)) == [
        found[0]
    ]
