"""cli/forecast.py: `voicecap forecast` from the history a Prometheus answers (a double here;
tests/integration runs it against a real Prometheus): the forecast, the floor it implies, and
the spec changes it suggests."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from support.cli import run, write_manifests
from support.objects import capacity_body
from support.world import FixedHistory
from voicecap.adapters.prometheus import QueryFailedError


class History(FixedHistory):
    """Prometheus as `voicecap forecast` reads it: weekly values and the slowest scale-ups."""

    def __init__(self, weekly: float | None, scale_up: float | None = None) -> None:
        super().__init__()
        if weekly is not None:
            self.weekly = {"healthcare": weekly}
        self.scale_up = scale_up
        self.closed = False

    def slowest_scale_ups(self, at: datetime) -> dict[tuple[str, str], float]:
        if self.scale_up is None:
            raise QueryFailedError("NoData", "no voicecap_scale_up_seconds")
        return {("voice", "healthcare"): self.scale_up}

    def close(self) -> None:
        self.closed = True


def forecast(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
    source: History,
    **spec: Any,
) -> tuple[int, str, str]:
    monkeypatch.setattr("voicecap.cli.forecast.connect", lambda args: source)
    files = write_manifests(tmp_path, "vcap.yaml", capacity_body(**spec))
    return run(
        capsys, "forecast", str(files), "--prometheus-url", "http://127.0.0.1:9",
        "--at", "2026-11-20T12:00:00Z", "-o", "json",
    )  # fmt: skip


def test_the_forecast_its_floor_and_what_to_change(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    source = History(300.0, scale_up=13 * 60)
    code, out, err = forecast(capsys, monkeypatch, tmp_path, source)
    assert code == 0, err
    (row,) = json.loads(out)
    assert (row["peak"], row["forecastSessions"], row["floor"], row["reason"]) == (
        "monday-morning",
        300.0,
        3,  # ceil(1.5 x 300 / 200)
        "Forecast",
    )
    assert row["weeksUsed"] == 13 and row["slowestScaleUpSeconds"] == 780
    assert "raise peaks[monday-morning].leadTime to 13m or more" in row["suggestion"]
    assert "expectedSessions is 600, history says 300" in row["suggestion"]
    assert source.closed


def test_weeks_served_at_their_limit_are_marked_and_named_a_lower_bound(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    source = History(300.0)
    source.flags = {"healthcare": {"censored": {"1": 0.99, "2": 0.98}}}
    code, out, err = forecast(capsys, monkeypatch, tmp_path, source)
    assert code == 0, err
    (row,) = json.loads(out)
    assert row["reason"] == "CensoredHistory"
    assert [week["censored"] for week in row["weeks"][:3]] == [True, True, False]
    assert "2 of the weeks read were served at their admission limit" in row["suggestion"]
    monkeypatch.setattr("voicecap.cli.forecast.connect", lambda args: source)
    files = tmp_path / "vcap.yaml"
    code, out, _ = run(capsys, "forecast", str(files), "--prometheus-url", "http://127.0.0.1:9",
                       "--at", "2026-11-20T12:00:00Z")  # fmt: skip
    assert code == 0 and "weeks (newest first) >300 >300 300" in out
    assert ">N: served at its admission limit" in out


def test_no_operator_metrics_is_no_lead_time_advice(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    code, out, _ = forecast(capsys, monkeypatch, tmp_path, History(600.0))
    (row,) = json.loads(out)
    assert code == 0 and row["slowestScaleUpSeconds"] is None
    assert row["suggestion"] == "raise model.reservedTPM to 6,000,000 for 5 pods"


def test_an_unreachable_prometheus_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    source = History(None)
    source.failure = QueryFailedError("PrometheusUnreachable", "connection refused\nmore")
    code, out, err = forecast(capsys, monkeypatch, tmp_path, source)
    assert (code, out) == (2, "")
    assert err.strip() == "voicecap: Prometheus at http://127.0.0.1:9: connection refused"


class Growing(History):
    """Weekly values that grew 5 % a week: week k before at 1000 / 1.05^(k-1)."""

    def quantiles(self, sessions: str, quantile: float, spans: Any, *, batched: bool) -> Any:
        self.queries["quantiles"] += 1
        return {
            ("voice", "healthcare"): {
                span.label: 1000.0 / 1.05 ** (int(span.label.split(".")[0]) - 1)
                for span in spans
                if span.label[0].isdigit()
            }
        }


def test_a_forecast_that_keeps_falling_short_suggests_the_weekly_trend(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    code, out, err = forecast(
        capsys, monkeypatch, tmp_path, Growing(None), forecast={"trend": "Off"}
    )
    assert code == 0, err
    (row,) = json.loads(out)
    assert row["backtest"]["underForecastWeeks"] == row["backtest"]["weeks"] == 11
    assert row["trend"] is None  # the user turned it off
    assert "set forecast.trend: Weekly: 11 of 11 past weeks carried more" in row["suggestion"]
