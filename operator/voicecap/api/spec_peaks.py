"""The peaks of a VoiceCapacity spec: each window's schedule, time zone, size and lead time, the
days it does not open (holidays), and how its calls are forecast from history."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from voicecap.api import zones
from voicecap.api.base import MAX_EXCLUDED, SpecModel, cel, duration_field, object_name_field
from voicecap.api.types import Cron, DateSpan, Duration, LeadTime, TimeZone, parse_lead_time


class CalendarRef(SpecModel):
    """A ConfigMap of excluded days in the VoiceCapacity's own namespace."""

    name: str = object_name_field(
        "Name of the ConfigMap; every value of its data is read, one date or range "
        "(2026-12-24/2026-12-26) per line, `#` starting a comment."
    )


class Peak(SpecModel):
    """A known peak: a window that starts at each cron match, pre-scaled from leadTime before."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(
                    "duration(self.duration) > duration('0s')",
                    "must be longer than 0s",
                    field_path=".duration",
                )
            ]
        }
    )

    name: str = Field(
        min_length=1,
        max_length=63,
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        description="Unique name of the peak within this VoiceCapacity.",
    )
    schedule: Cron = Field(description="Start of each window, a 5-field cron in timeZone.")
    duration: Duration = Field(description="How long each window lasts (elapsed time).")
    time_zone: TimeZone = Field(
        "UTC",
        description=f"IANA time zone of schedule, one of tzdata {zones.tzdata_version()}'s; "
        "DST-correct.",
    )
    factor: float = Field(
        1.5,
        ge=1,
        le=20,
        description="Headroom over the forecast: plan factor x the forecast calls at perPod "
        "(1.5: capacity for 1.5x the calls expected at each moment of the window).",
    )
    lead_time: LeadTime = Field(
        parse_lead_time("10m"),
        description="Raise the floor this long before each window starts; `auto`: as long as "
        "this vertical's pods measurably take to carry calls (the 90th percentile of its last "
        "ten scale-ups to Ready, plus an HPA sync and a minute of metrics' lag), between 2m and "
        "60m, 10m until one is measured.",
        json_schema_extra={"default": "10m"},
    )
    expected_sessions: int | None = Field(
        None,
        ge=0,
        description="The window's peak calls; the floor follows the window's shape in history "
        "scaled to it (flat without history). Unset: the forecast, else current sessions.",
    )
    exclude: list[DateSpan] = Field(
        default_factory=list,
        max_length=MAX_EXCLUDED,
        description="Days on which the window does not open (holidays), in timeZone: a date "
        "(2026-12-25) or an inclusive range (2026-12-24/2026-12-26). A window is excluded by the "
        "day it starts on. The forecast skips excluded weeks and looks one week further back.",
    )
    calendar_ref: CalendarRef | None = Field(
        None,
        description="A shared holiday calendar: a ConfigMap in this namespace whose data values "
        "list excluded days, one date or range per line (# comments); added to exclude.",
    )

    @field_validator("duration")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than 0s")
        return value


class Forecast(SpecModel):
    """How each peak's calls are learned from the vertical's own history (docs/api.md
    "Forecasts"): moment by moment inside the window, weeksQuantile of the weekly `quantile`
    of concurrent sessions over the last `weeks` weeks, times `growth`."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(
                    "self.minWeeks <= self.weeks",
                    "forecast.minWeeks must not exceed forecast.weeks",
                ),
                cel(
                    "duration(self.refresh) >= duration('1m')",
                    "must be at least 1m",
                    field_path=".refresh",
                ),
            ]
        }
    )

    weeks: int = Field(
        13, ge=1, le=52, description="Weeks of history the forecast looks back over (max 52)."
    )
    min_weeks: int = Field(
        2, ge=1, le=52, description="Fewer weeks with data than this: no forecast."
    )
    quantile: float = Field(
        0.99,
        gt=0,
        le=1,
        description="Each week's value: this quantile of concurrent sessions inside the window.",
    )
    weeks_quantile: float = Field(
        0.5,
        gt=0,
        le=1,
        description="How the weeks combine, moment by moment: this quantile of the weekly "
        "values (0.5: the median, which a one-off spike week does not move; 1: the largest).",
    )
    growth: float = Field(
        1.0,
        gt=0,
        le=10,
        description="Multiply the combined weekly values by this (1.1: expect 10 % more).",
    )
    trend: Literal["Off", "Weekly"] = Field(
        "Weekly",
        description="Weekly: carry each past week forward by the vertical's weekly growth, "
        "learned from the weeks read (robust to a spike or a holiday week, at most 10 % a "
        "week), so a growing business is not forecast at its level of weeks ago. Off: the "
        "weeks as they were (status.forecast[].backtest shows what that misses).",
    )
    refresh: Duration = duration_field(
        "1h", "Recompute at least this often (and whenever a window closes); min 1m."
    )

    @model_validator(mode="after")
    def _min_weeks_within_weeks(self) -> Forecast:
        if self.min_weeks > self.weeks:
            raise ValueError(f"minWeeks ({self.min_weeks}) must not exceed weeks ({self.weeks})")
        return self

    @field_validator("refresh")
    @classmethod
    def _at_least_a_minute(cls, value: timedelta) -> timedelta:
        if value < timedelta(minutes=1):
            raise ValueError("must be at least 1m")
        return value
