"""api/types.py: durations, cron expressions, time zones, dates and quantities as users write
them, each refused with the value named."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from voicecap.api.types import (
    format_date_span,
    format_duration,
    parse_cron,
    parse_date_span,
    parse_duration,
    parse_quantity,
    parse_time_zone,
)


@pytest.mark.parametrize(
    ("text", "seconds", "shortest"),
    [
        ("90s", 90, "1m30s"),
        ("10m", 600, "10m"),
        ("1h30m", 5400, "1h30m"),
        ("0s", 0, "0s"),
        ("2h", 7200, "2h"),
    ],
)
def test_durations_read_and_print_back_in_their_shortest_form(
    text: str, seconds: int, shortest: str
) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)
    assert format_duration(parse_duration(text)) == shortest


@pytest.mark.parametrize("text", ["", "10", "1d", "1.5h", "m10", "10m ", None, 600])
def test_what_is_not_a_go_duration(text: object) -> None:
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration(text)


def test_cron_fields_are_checked_one_by_one() -> None:
    assert parse_cron("0  9 * *  MON") == "0 9 * * MON"
    with pytest.raises(ValueError, match="hour '25' is out of range"):
        parse_cron("0 25 * * MON")
    with pytest.raises(ValueError, match="5-field cron"):
        parse_cron("0 9 * *")


def test_time_zones_from_the_pinned_package() -> None:
    assert parse_time_zone("America/New_York") == "America/New_York"
    with pytest.raises(ValueError, match="unknown IANA time zone 'America/Nowhere'"):
        parse_time_zone("America/Nowhere")


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("2026-12-25", (date(2026, 12, 25), date(2026, 12, 25))),
        ("2026-12-24/2026-12-26", (date(2026, 12, 24), date(2026, 12, 26))),
    ],
)
def test_a_day_or_an_inclusive_range(text: str, span: tuple[date, date]) -> None:
    assert parse_date_span(text) == span
    assert format_date_span(span) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-02-30", "not a calendar date"),
        ("2026-12-26/2026-12-24", "ends before it starts"),
        ("25.12.2026", "expected a date"),
    ],
)
def test_dates_that_are_not(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_date_span(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("50m", Decimal("0.05")),
        ("2", Decimal(2)),
        (2, Decimal(2)),
        ("120Mi", Decimal(125829120)),
        ("1G", Decimal(10**9)),
    ],
)
def test_quantities(text: object, value: Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["fifty", "1.5.5", True, "12XB"])
def test_what_is_not_a_quantity(text: object) -> None:
    with pytest.raises(ValueError, match="quantity"):
        parse_quantity(text)
