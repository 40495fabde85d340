"""`voicecap calendar`: a country's public holidays as the calendar ConfigMap peaks[].calendarRef
reads, checked against dates we know and read back with the operator's own reader."""

from __future__ import annotations

import json

import pytest
import yaml

from support.cli import run
from voicecap.core.peaks.calendar import parse_calendar


def calendar(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    code, out, err = run(capsys, "calendar", *argv)
    assert code == 0, err
    return dict(yaml.safe_load(out))


def days_of(config_map: dict[str, object]) -> set[str]:
    data = config_map["data"]
    assert isinstance(data, dict)
    read = parse_calendar(data)  # what the operator reads, line by line
    assert read.problems == ()
    return {span[0].isoformat() for span in read.spans}


def test_us_thanksgiving_and_new_york_days(capsys: pytest.CaptureFixture[str]) -> None:
    config_map = calendar(capsys, "US", "--subdivision", "NY", "--years", "2026", "-n", "voice")
    assert config_map["metadata"] == {
        "name": "holidays-us-ny",
        "namespace": "voice",
        "labels": {"app.kubernetes.io/managed-by": "voicecap-calendar"},
        "annotations": config_map["metadata"]["annotations"],  # type: ignore[index]
    }
    days = days_of(config_map)
    assert {"2026-11-26", "2026-12-25", "2026-07-03", "2026-02-12"} <= days  # NY: Lincoln's
    assert "2026-11-26  # Thanksgiving Day" in config_map["data"]["2026"]  # type: ignore[index]


def test_the_uk_spring_bank_holiday_and_one_key_per_year(
    capsys: pytest.CaptureFixture[str],
) -> None:
    config_map = calendar(capsys, "gb", "-s", "eng", "--years", "2027", "2026", "--name", "uk")
    assert config_map["metadata"]["name"] == "uk"  # type: ignore[index]
    assert set(config_map["data"]) == {"2026", "2027"}  # type: ignore[arg-type]
    assert "2027-05-31" in days_of(config_map)
    code, out, _ = run(capsys, "calendar", "GB", "--years", "2027", "-o", "json")
    assert code == 0 and "2027-05-31" in json.loads(out)["data"]["2027"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("XX",), "unknown country 'XX'"),
        (("US", "--subdivision", "ZZ"), "unknown subdivision 'ZZ' of US: AK, AL"),
        (("US", "--years", "1200"), "--years 1200: years between 1900 and 2200"),
    ],
)
def test_an_unknown_country_or_subdivision_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    code, out, err = run(capsys, "calendar", *argv)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and message in err
