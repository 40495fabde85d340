"""api/timefmt.py: timestamps as the Kubernetes API writes them, and read back leniently."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from voicecap.api.timefmt import iso, iso_or_none, micro_iso, parse_iso

NEW_YORK_0900 = datetime(2026, 11, 23, 9, 0, 0, 123456, tzinfo=timezone(timedelta(hours=-5)))


def test_seconds_in_utc_as_metav1_time_and_microseconds_as_micro_time() -> None:
    assert iso(NEW_YORK_0900) == "2026-11-23T14:00:00Z"
    assert micro_iso(NEW_YORK_0900) == "2026-11-23T14:00:00.123456Z"
    assert iso_or_none(None) is None


def test_read_back_with_z_an_offset_or_none_and_unreadable_is_none() -> None:
    assert parse_iso("2026-11-23T14:00:00Z") == datetime(2026, 11, 23, 14, tzinfo=UTC)
    assert parse_iso("2026-11-23T09:00:00-05:00") == datetime(2026, 11, 23, 14, tzinfo=UTC)
    assert parse_iso("2026-11-23T14:00:00") == datetime(2026, 11, 23, 14, tzinfo=UTC)
    assert parse_iso("yesterday") is None and parse_iso(None) is None and parse_iso("") is None
