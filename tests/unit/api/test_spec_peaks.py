"""api/spec_peaks.py: a peak's window (schedule, duration, zone), its sizing and holidays, and
how forecasts are learned; each bad value refused with its field named."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from voicecap.api.spec_peaks import Forecast, Peak

MONDAY = {"name": "monday-morning", "schedule": "0 9 * * MON", "duration": "2h"}


def test_a_peak_defaults_to_utc_a_factor_of_one_and_a_half_and_ten_minutes_lead() -> None:
    peak = Peak.model_validate(MONDAY)
    assert (peak.time_zone, peak.factor, peak.lead_time) == ("UTC", 1.5, timedelta(minutes=10))
    assert peak.exclude == [] and peak.calendar_ref is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"duration": "0s"}, "duration"),
        ({"schedule": "0 25 * * MON"}, "schedule"),
        ({"timeZone": "Mars/Olympus"}, "timeZone"),
        ({"factor": 0.5}, "factor"),
        ({"name": "Monday"}, "name"),
        ({"exclude": ["2026-02-30"]}, "exclude"),
    ],
)
def test_bad_values_name_their_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        Peak.model_validate({**MONDAY, **change})


def test_holidays_are_days_or_ranges() -> None:
    peak = Peak.model_validate({**MONDAY, "exclude": ["2026-12-25", "2026-12-30/2027-01-01"]})
    assert peak.exclude == [
        (date(2026, 12, 25), date(2026, 12, 25)),
        (date(2026, 12, 30), date(2027, 1, 1)),
    ]


def test_forecast_defaults_and_its_rules() -> None:
    forecast = Forecast()
    assert (forecast.weeks, forecast.min_weeks, forecast.quantile, forecast.weeks_quantile) == (
        13,
        2,
        0.99,
        0.5,
    )
    with pytest.raises(ValidationError, match=r"minWeeks \(5\) must not exceed weeks \(4\)"):
        Forecast.model_validate({"weeks": 4, "minWeeks": 5})
    with pytest.raises(ValidationError, match="at least 1m"):
        Forecast.model_validate({"refresh": "30s"})
