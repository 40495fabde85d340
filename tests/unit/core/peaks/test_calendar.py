"""Holidays: excluded days in the peak's own time zone (peaks[].exclude and calendarRef), the
windows that do not open on them, the forecast weeks they replace, and the calendar ConfigMap."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from support.objects import capacity_body
from voicecap.api.models import Peak, VoiceCapacity
from voicecap.core.peaks import forecast
from voicecap.core.peaks.calendar import MISSING, parse_calendar, with_calendars
from voicecap.core.peaks.windows import (
    active_window,
    next_start,
    skipped_before_next,
    windows_meeting,
)
from voicecap.core.planner.observation import Observation
from voicecap.core.planner.plan import plan


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def monday(*exclude: str, zone: str = "America/New_York") -> Peak:
    return Peak.model_validate(
        {
            "name": "monday-morning",
            "schedule": "0 9 * * MON",
            "duration": "2h",
            "timeZone": zone,
            "leadTime": "10m",
            "exclude": list(exclude),
        }
    )


CHRISTMAS = monday("2026-12-21/2026-12-25")  # a week off; Monday Dec 21 is in it


def test_a_window_does_not_open_on_an_excluded_day_and_next_peak_skips_it() -> None:
    # 08:55 New York on Monday Dec 21: inside the lead time, but the day is excluded
    assert active_window(CHRISTMAS, utc(2026, 12, 21, 13, 55)) is None
    assert active_window(monday(), utc(2026, 12, 21, 13, 55)) is not None
    upcoming = next_start([CHRISTMAS], utc(2026, 12, 18, 12))
    assert upcoming is not None and upcoming[1] == utc(2026, 12, 28, 14)  # the Monday after
    assert skipped_before_next(CHRISTMAS, utc(2026, 12, 18, 12)) == [date(2026, 12, 21)]
    starts = [w.start for w in windows_meeting(CHRISTMAS, utc(2026, 12, 14), utc(2026, 12, 29))]
    assert starts == [utc(2026, 12, 14, 14), utc(2026, 12, 28, 14)]


def test_the_day_is_the_peaks_own_not_utc() -> None:
    """A 20:00 Monday window in Los Angeles starts on Tuesday in UTC: excluding Monday in the
    peak's zone excludes it; excluding the UTC Tuesday does not."""
    evening = {
        "name": "evening",
        "schedule": "0 20 * * MON",
        "duration": "1h",
        "timeZone": "America/Los_Angeles",
    }
    by_local_day = Peak.model_validate({**evening, "exclude": ["2026-12-21"]})
    by_utc_day = Peak.model_validate({**evening, "exclude": ["2026-12-22"]})
    at = utc(2026, 12, 22, 4, 30)  # Monday 20:30 in Los Angeles
    assert active_window(by_local_day, at) is None
    assert active_window(by_utc_day, at) is not None


def test_an_open_window_before_the_excluded_days_still_counts() -> None:
    """Excluding the next days never closes a window that opened on a day that is not."""
    daily = Peak.model_validate(
        {"name": "d", "schedule": "0 23 * * *", "duration": "3h", "exclude": ["2026-12-25"]}
    )
    # opened Dec 24 23:00 UTC, open until Dec 25 02:00 although Dec 25 is excluded
    window = active_window(daily, utc(2026, 12, 25, 1))
    assert window is not None and window.start == utc(2026, 12, 24, 23)
    assert active_window(daily, utc(2026, 12, 25, 23, 30)) is None  # Dec 25's own window


def test_a_minute_schedule_skips_a_whole_excluded_day_in_one_step() -> None:
    every_minute = Peak.model_validate(
        {"name": "m", "schedule": "* * * * *", "duration": "1m", "exclude": ["2026-12-25"]}
    )
    upcoming = next_start([every_minute], utc(2026, 12, 24, 23, 58))
    assert upcoming is not None and upcoming[1] == utc(2026, 12, 24, 23, 59)
    upcoming = next_start([every_minute], utc(2026, 12, 24, 23, 59))
    assert upcoming is not None and upcoming[1] == utc(2026, 12, 26)


def test_the_forecast_replaces_an_excluded_week_with_the_one_before() -> None:
    """Thanksgiving week's Thursday window is skipped: the 4 weeks looked at are the 5 before
    the window less that one, and status says which day was replaced."""
    thursday = Peak.model_validate(
        {
            "name": "thursday",
            "schedule": "0 9 * * THU",
            "duration": "1h",
            "timeZone": "America/New_York",
            "exclude": ["2026-11-26"],
        }
    )
    window_start = utc(2026, 12, 10, 14)
    starts = [start for start, _ in forecast.weekly_windows(thursday, window_start, 4)]
    assert starts == [
        utc(2026, 12, 3, 14),
        utc(2026, 11, 19, 14),  # Nov 26 skipped
        utc(2026, 11, 12, 14),
        utc(2026, 11, 5, 14),  # DST: 09:00 EST and EDT are both 14:00 UTC here
    ]
    assert forecast.replaced_weeks(thursday, window_start, 4) == (date(2026, 11, 26),)
    weeks = [forecast.week_value(s, s + timedelta(hours=1), [100.0]) for s in starts]
    result = forecast.forecast_from(
        thursday, VoiceCapacity.model_validate(capacity_body()).spec.forecast, weeks,
        window_start=window_start, at=utc(2026, 12, 9),
    )  # fmt: skip
    assert result.replaced == (date(2026, 11, 26),) and result.weeks_used == 4


def test_a_calendar_config_map_is_read_line_by_line_with_problems_named() -> None:
    calendar = parse_calendar(
        {
            "2026": "# US holidays\n2026-11-26  # Thanksgiving\n\n2026-12-24/2026-12-26\n",
            "bad": "2026-02-30\n",
        }
    )
    assert calendar.spans == (
        (date(2026, 11, 26), date(2026, 11, 26)),
        (date(2026, 12, 24), date(2026, 12, 26)),
    )
    assert calendar.problems == (
        "bad line 1: '2026-02-30' is not a calendar date: day is out of range for month",
    )


def holiday_capacity() -> VoiceCapacity:
    body = capacity_body()
    body["spec"]["peaks"][0]["calendarRef"] = {"name": "us-holidays"}
    body["spec"]["peaks"][0]["exclude"] = ["2027-01-04"]
    return VoiceCapacity.model_validate(body)


def test_calendar_days_join_the_peaks_own_and_problems_name_the_field() -> None:
    capacity = holiday_capacity()
    found = with_calendars(capacity, {"us-holidays": parse_calendar({"d": "2026-12-21"})})
    assert found.capacity.spec.peaks[0].exclude == [
        (date(2027, 1, 4), date(2027, 1, 4)),
        (date(2026, 12, 21), date(2026, 12, 21)),
    ]
    assert found.report.days == {"us-holidays": 1} and found.report.problems == ()
    missing = with_calendars(capacity, {"us-holidays": MISSING})
    assert missing.report.reason == "CalendarNotFound"
    assert missing.report.problems == (
        "spec.peaks[0].calendarRef.name: ConfigMap voice/us-holidays not found; "
        "monday-morning opens its windows as if it had no calendar",
    )
    assert missing.capacity.spec.peaks[0].exclude == capacity.spec.peaks[0].exclude
    unread = with_calendars(capacity, {})
    assert unread.report.reason == "CalendarUnread"


def test_the_plan_on_a_holiday_monday_does_not_prescale() -> None:
    resolved = with_calendars(
        holiday_capacity(), {"us-holidays": parse_calendar({"d": "2026-12-21"})}
    )
    at = utc(2026, 12, 21, 13, 55)  # 08:55 New York, Monday Dec 21
    quiet = Observation(sessions=40, sampled_at=at, ready_replicas=2, calendars=resolved.report)
    planned = plan(resolved.capacity, quiet, at)
    assert planned.peak_floor is None and planned.floor == 2 and planned.mode == "Normal"
    assert planned.next_peak == ("monday-morning", utc(2026, 12, 28, 14))
    ordinary = plan(holiday_capacity(), quiet, at)
    assert ordinary.peak_floor == 5 and ordinary.mode == "Peak"
