"""Forecasts, the burst factor, replay and the scorecard against a real Prometheus holding 15
weeks of history backfilled with `promtool tsdb create-blocks-from openmetrics`.

The history (tests/support/history.py) has a known weekly pattern with growth, a one-off spike
week, a missing week, weeks on both sides of a DST change (US: 2026-11-01, UK: 2026-10-25) and
verticals in different zones; the expected numbers are computed from the same pattern without
the operator's code.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import math
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.history import (
    Vertical,
    expected_forecast,
    expected_slots,
    prometheus_quantile,
    write_openmetrics,
)
from support.kube import path_of, workload
from support.localstack import local_stack
from support.objects import BASE_CAPACITY
from support.servers import Prometheus, wait_until
from voicecap.adapters.history import PrometheusHistory
from voicecap.adapters.metrics import OperatorMetrics
from voicecap.api.models import VoiceCapacity
from voicecap.service.clock import Clock
from voicecap.service.history import HistoryCache

pytestmark = pytest.mark.integration

# Monday 2026-11-23, 08:00 in New York: monday-morning's window opens at 09:00.
AT = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)

HEALTHCARE = Vertical(
    "voice",
    "healthcare",
    "America/New_York",
    anchor=datetime(2026, 11, 23, 9, 0),  # Mondays 09:00-11:00 New York
    minutes=120,
    # growth of 10 calls a week; week 5 a one-off spike; week 3 missing; week 0 is today
    bases={k: 400.0 - 10 * k for k in range(0, 16)} | {5: 900.0},
    missing=frozenset({3}),
)
SALES = Vertical(
    "voice",
    "sales",
    "Europe/London",
    anchor=datetime(2026, 11, 24, 10, 0),  # Tuesdays 10:00-11:00 London
    minutes=60,
    bases={k: 150.0 + 5 * (k % 4) for k in range(1, 16)},
    quiet=10.0,
)
NEW_LINE = Vertical(  # one week of history only
    "voice",
    "new-line",
    "America/Chicago",
    anchor=datetime(2026, 11, 23, 9, 0),
    minutes=60,
    bases={1: 80.0},
    weeks=1,
)


def capacity(item: Vertical, schedule: str, duration: str, **forecast: Any) -> dict[str, Any]:
    body = copy.deepcopy(BASE_CAPACITY)
    body["metadata"] = {"name": item.vertical, "namespace": item.namespace}
    body["spec"]["targetRef"] = {"kind": "Deployment", "name": f"{item.vertical}-agent"}
    body["spec"].pop("model")
    body["spec"]["peaks"] = [
        {
            "name": "peak",
            "schedule": schedule,
            "duration": duration,
            "timeZone": item.zone,
            "factor": 1.5,
            "leadTime": "10m",
        }
    ]
    if forecast:
        body["spec"]["forecast"] = forecast
    return body


# Mondays 09:00-10:00 New York, calls offered ramping 300 to 359 every week, admitted at most 330:
# one vertical exports nothing about the calls it refused, the other counts them.
CAPPED = Vertical(
    "voice",
    "capped",
    "America/New_York",
    anchor=datetime(2026, 11, 23, 9, 0),
    minutes=60,
    bases=dict.fromkeys(range(1, 16), 300.0),
    weeks=14,
    limit=330.0,
)
COUNTED = dataclasses.replace(CAPPED, vertical="counted", counts_refusals=True)

CAPACITIES = [
    capacity(HEALTHCARE, "0 9 * * MON", "2h"),
    capacity(SALES, "0 10 * * TUE", "1h", growth=1.1),
    capacity(NEW_LINE, "0 9 * * MON", "1h"),
]


@pytest.fixture(scope="module")
def history_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("history") / "history.om"
    write_openmetrics(path, [HEALTHCARE, SALES, NEW_LINE])
    # What the operator measured as scale-ups to Ready pods (voicecap_scale_up_seconds):
    # healthcare's slowest took 13 minutes, sales' 2.
    text = path.read_text().removesuffix("# EOF\n")
    path.write_text(
        text
        + "# TYPE voicecap_scale_up_seconds gauge\n"
        + "".join(
            f'voicecap_scale_up_seconds{{namespace="voice",vertical="{vertical}"}} {seconds} '
            f"{(AT - timedelta(days=days)).timestamp():.0f}\n"
            for vertical, seconds, days in (("healthcare", 780, 3), ("sales", 120, 2))
        )
        + "# EOF\n"
    )
    return path


@pytest.fixture(scope="module")
def backfilled(
    history_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Prometheus]:
    server = Prometheus(tmp_path_factory.mktemp("backfilled"), [], history=history_file)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def vcap_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("vcaps") / "vcaps.yaml"
    path.write_text(yaml.safe_dump_all(CAPACITIES))
    return path


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    folder = tmp_path_factory.mktemp("capped")
    history = write_openmetrics(folder / "history.om", [CAPPED, COUNTED])
    server = Prometheus(folder, [], history=history)
    yield server
    server.stop()


def voicecap(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voicecap.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# ---------------------------------------------------------------- voicecap forecast


def test_forecasts_equal_the_independently_computed_values(
    backfilled: Prometheus, vcap_file: Path
) -> None:
    result = voicecap(
        "forecast", str(vcap_file), "--prometheus-url", backfilled.url, "--at", AT.isoformat(),
        "-o", "json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = {row["vertical"]: row for row in json.loads(result.stdout)}
    for key in ("namespace", "name", "vertical", "peak", "weeks", "weeksUsed", "forecastSessions",
                "floor", "burstFactor", "reason"):  # fmt: skip
        assert all(key in row for row in rows.values()), key

    healthcare = rows["healthcare"]
    sessions, used = expected_forecast(HEALTHCARE)
    assert (healthcare["forecastSessions"], healthcare["weeksUsed"]) == (sessions, used)
    spike = prometheus_quantile(HEALTHCARE.ramp(5), 0.99)
    assert sessions < spike * 0.55  # the spike week is ignored, by the median and the trend
    assert used == 12  # 13 weeks, one missing
    assert len(healthcare["profile"]) == 24 and max(healthcare["profile"]) == sessions
    assert healthcare["reason"] == "Forecast"
    # the weeks across the DST change keep 09:00 New York: 14:00 UTC in EST, 13:00 in EDT
    starts = [week["start"] for week in healthcare["weeks"]]
    assert starts[:4] == [
        "2026-11-16T14:00:00Z",
        "2026-11-09T14:00:00Z",
        "2026-11-02T14:00:00Z",
        "2026-10-26T13:00:00Z",
    ]
    values = [week["sessions"] for week in healthcare["weeks"]]
    assert values[2] is None  # the missing week
    assert values[0] == round(max(expected_slots(HEALTHCARE, 1)), 2)  # its largest slot
    assert healthcare["floor"] == math.ceil(1.5 * sessions / 200)

    sales = rows["sales"]
    sessions, used = expected_forecast(SALES, growth=1.1)
    assert sales["forecastSessions"] == pytest.approx(sessions, abs=0.01)
    assert sales["weeksUsed"] == used == 13
    assert sales["weeks"][0]["start"] == "2026-11-17T10:00:00Z"  # GMT
    assert sales["weeks"][5]["start"] == "2026-10-13T09:00:00Z"  # BST, before 2026-10-25

    new_line = rows["new-line"]
    assert (new_line["reason"], new_line["weeksUsed"], new_line["forecastSessions"]) == (
        "InsufficientHistory",
        1,
        None,
    )
    assert "expectedSessions" in new_line["suggestion"]

    # burst factor: the largest value of the last 28 days in 5-minute steps (whole hours start
    # every window, so the steps see minutes 0, 5, ... 115 of each ramp) over the median (quiet)
    recent = [k for k in range(1, 5) if k not in HEALTHCARE.missing]
    largest = max(max(HEALTHCARE.ramp(k)[::5]) for k in recent)
    assert healthcare["burstFactor"] == round(largest / HEALTHCARE.quiet, 2)


def test_a_lead_time_shorter_than_the_slowest_scale_up_gets_a_suggestion(
    backfilled: Prometheus, vcap_file: Path
) -> None:
    result = voicecap(
        "forecast", str(vcap_file), "--prometheus-url", backfilled.url, "--at", AT.isoformat(),
        "-o", "json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = {row["vertical"]: row for row in json.loads(result.stdout)}
    assert rows["healthcare"]["slowestScaleUpSeconds"] == 780
    assert (
        "raise peaks[peak].leadTime to 13m or more: the slowest scale-up to Ready pods in 28 "
        "days took 13m, longer than 10m" in rows["healthcare"]["suggestion"]
    )
    assert rows["sales"]["slowestScaleUpSeconds"] == 120
    assert "leadTime" not in rows["sales"]["suggestion"]
    assert rows["new-line"]["slowestScaleUpSeconds"] is None


def test_an_excluded_week_is_replaced_by_the_one_before(
    backfilled: Prometheus, tmp_path: Path
) -> None:
    """Monday 2026-11-16 a holiday: the forecast's 13 weeks skip it and reach one week further
    back; status (here, the forecast's JSON) names the day replaced."""
    body = capacity(HEALTHCARE, "0 9 * * MON", "2h")
    body["spec"]["peaks"][0]["calendarRef"] = {"name": "holidays"}
    calendar = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "holidays", "namespace": "voice"},
        "data": {"days": "2026-11-16\n"},
    }
    path = tmp_path / "holiday.yaml"
    path.write_text(yaml.safe_dump_all([body, calendar]))
    result = voicecap(
        "forecast", str(path), "--prometheus-url", backfilled.url, "--at", AT.isoformat(),
        "-o", "json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    starts = [week["start"] for week in row["weeks"]]
    assert starts[:2] == ["2026-11-09T14:00:00Z", "2026-11-02T14:00:00Z"]  # not 11-16
    assert len(starts) == 13 and starts[-1] == "2026-08-17T13:00:00Z"  # 14 weeks back
    assert row["replacedWeeks"] == ["2026-11-16"]


def test_history_served_at_its_limit_is_a_lower_bound_unless_refusals_are_counted(
    capped: Prometheus, tmp_path: Path
) -> None:
    path = tmp_path / "capped.yaml"
    bodies = [capacity(item, "0 9 * * MON", "1h") for item in (CAPPED, COUNTED)]
    path.write_text(yaml.safe_dump_all(bodies))
    result = voicecap(
        "forecast", str(path), "--prometheus-url", capped.url, "--at", AT.isoformat(), "-o", "json"
    )
    assert result.returncode == 0, result.stderr
    rows = {row["vertical"]: row for row in json.loads(result.stdout)}
    served, offered = rows["capped"], rows["counted"]
    demand, _ = expected_forecast(CAPPED)  # the calls offered: 359 at the window's end

    # Served only: the forecast is the old ceiling, and says so.
    assert served["forecastSessions"] == CAPPED.limit
    assert served["reason"] == "CensoredHistory"
    assert all(week["censored"] and not week["offered"] for week in served["weeks"])
    assert "served at their admission limit" in served["suggestion"]

    # Refusals counted: served + refused a second x the mean call duration is the demand, less
    # the 5-minute rate's lag behind a ramp of a call a minute.
    assert offered["reason"] == "Forecast"
    assert demand - 4 <= offered["forecastSessions"] <= demand, (
        offered["forecastSessions"],
        demand,
    )
    assert all(week["offered"] and not week["censored"] for week in offered["weeks"])
    assert offered["floor"] == math.ceil(1.5 * offered["forecastSessions"] / 200)


def test_the_table_shows_weeks_and_a_suggestion(backfilled: Prometheus, vcap_file: Path) -> None:
    result = voicecap(
        "forecast", str(vcap_file), "--prometheus-url", backfilled.url, "--at", AT.isoformat()
    )
    assert result.returncode == 0, result.stderr
    assert "voice/healthcare" in result.stdout and "InsufficientHistory" in result.stdout
    assert "suggestion:" in result.stdout


def test_forecast_queries_follow_the_shapes_not_the_objects(backfilled: Prometheus) -> None:
    """1,000 objects over 5 window shapes: 2 forecast queries a shape (the weeks' slots, the
    weeks' flags) and 1 burst query per refresh."""
    shapes = [
        ("0 9 * * MON", "America/New_York", "2h"),
        ("0 9 * * MON", "America/Chicago", "2h"),
        ("0 9 * * MON", "America/New_York", "3h"),
        ("0 10 * * TUE", "Europe/London", "1h"),
        ("0 18 * * MON-FRI", "Europe/London", "14h"),
    ]
    fleet = []
    for index in range(1000):
        schedule, zone, duration = shapes[index % 5]
        body = capacity(HEALTHCARE, schedule, duration)
        body["metadata"]["name"] = f"v{index}"
        body["spec"]["vertical"] = "healthcare" if index % 2 else "sales"
        body["spec"]["peaks"][0]["timeZone"] = zone
        fleet.append(VoiceCapacity.model_validate(body))

    metrics = OperatorMetrics()
    source = PrometheusHistory(backfilled.url)
    cache = HistoryCache(source, Clock(AT, speed=0), metrics)
    asyncio.run(cache.refresh(fleet))
    source.close()
    count = metrics.registry.get_sample_value
    assert count("voicecap_prometheus_query_duration_seconds_count", {"kind": "forecast"}) == 10
    assert count("voicecap_prometheus_query_duration_seconds_count", {"kind": "burst"}) == 1
    assert cache.failures == []
    assert cache.view(fleet[1]).forecasts["peak"].sessions == expected_forecast(HEALTHCARE)[0]


def test_bad_input_exits_2_with_one_clear_message(
    backfilled: Prometheus, vcap_file: Path, tmp_path: Path
) -> None:
    unreachable = voicecap(
        "forecast", str(vcap_file), "--prometheus-url", "http://127.0.0.1:9", "--timeout", "2s"
    )
    assert unreachable.returncode == 2
    assert unreachable.stderr.startswith("voicecap: Prometheus at http://127.0.0.1:9")
    assert "Traceback" not in unreachable.stderr

    backwards = voicecap(
        "replay", str(vcap_file), "--prometheus-url", backfilled.url,
        "--from", "2026-11-23T12:00:00Z", "--to", "2026-11-23T10:00:00Z",
    )  # fmt: skip
    assert backwards.returncode == 2
    assert "--from 2026-11-23T12:00:00Z must be before --to" in backwards.stderr

    broken = copy.deepcopy(CAPACITIES[0])
    broken["spec"]["forecast"] = {"quantile": 1.5, "weeks": 0, "growth": -1}
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken))
    bad = voicecap("forecast", str(path), "--prometheus-url", backfilled.url)
    assert bad.returncode == 2
    for field in ("spec.forecast.quantile", "spec.forecast.weeks", "spec.forecast.growth"):
        assert field in bad.stderr
    assert "Traceback" not in bad.stderr + bad.stdout


# ---------------------------------------------------------------- voicecap replay


def test_replay_reports_every_strategy_from_the_recorded_sessions(
    backfilled: Prometheus, vcap_file: Path, tmp_path: Path
) -> None:
    """The spike Monday (2026-10-19, EDT): calls jump from 20 to 900 at 09:00 New York (13:00
    UTC) and ramp to 1019 by 11:00; replicas.min 2 of 200 calls = 400. Checked by hand:
    - fixed: all 120 window minutes over 400;
    - HPA alone: asks for 7 pods at 13:00, ready 2 minutes later (--pod-startup 2m): 13:00 and
      13:01 over by 500 and 501 calls (1,001 blocked call-minutes); then 7 pods (1,400) hold;
    - keda-cron: its minimum (4 pods: the largest floor voicecap plans for the window) comes at
      13:00 with the calls; below its minimum the controller raises to it without reading the
      metric, and to 7 one sync later, ready at 13:02:15: 13:02 is short too, by 902 - 800
      (1,103 blocked call-minutes);
    - keda-week: last Monday's calls (340 at 09:00, ramping) over the next half hour: 3 pods
      from 12:30, the same 601 blocked call-minutes as voicecap;
    - voicecap: the forecast as of that day (the median of the Mondays before it, ~300-430 per
      slot) x 1.5 gives 3 pods from 12:50: 600 slots, short by 300 and 301 for the same two
      minutes (601 blocked call-minutes). The day brought 2.5x its usual calls, beyond the
      factor: the scorecard's BurstAboveFactor is there to say so;
    - oracle: nothing blocked."""
    chart = tmp_path / "replay.png"
    result = voicecap(
        "replay", str(vcap_file), "--prometheus-url", backfilled.url,
        "--from", "2026-10-19T12:30:00Z", "--to", "2026-10-19T15:30:00Z", "-o", "json",
        "--png", str(chart), "--cost-per-pod-hour", "0.5",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = {row["vertical"]: row for row in json.loads(result.stdout)}
    healthcare = rows["healthcare"]["strategies"]
    assert set(healthcare) == {"voicecap", "reactive", "keda-cron", "keda-week", "oracle", "fixed"}
    fixed = healthcare["fixed"]
    assert fixed["overCapacityMinutes"] == 120
    assert fixed["podHours"] == pytest.approx(2 * 181 / 60, abs=0.001)
    assert fixed["cost"] == pytest.approx(fixed["podHours"] * 0.5, abs=0.01)
    assert fixed["peakUtilization"] == round(1019 / 400, 3)
    reactive = healthcare["reactive"]
    assert (reactive["overCapacityMinutes"], reactive["blockedCallMinutes"]) == (2, 1001)
    week = healthcare["keda-week"]  # 3 pods from 12:30, as voicecap: short by the same calls
    assert (week["overCapacityMinutes"], week["blockedCallMinutes"]) == (2, 601)
    keda = healthcare["keda-cron"]
    assert (keda["overCapacityMinutes"], keda["blockedCallMinutes"]) == (3, 1103)
    voicecap_ = healthcare["voicecap"]
    assert (voicecap_["overCapacityMinutes"], voicecap_["blockedCallMinutes"]) == (2, 601)
    floors = {step["at"]: step["floor"] for step in voicecap_["steps"]}
    assert floors["2026-10-19T12:49:00Z"] == 2 and floors["2026-10-19T12:50:00Z"] == 3
    oracle = healthcare["oracle"]
    assert oracle["blockedCallMinutes"] == 0 and oracle["podHoursToOracle"] == 1.0
    assert voicecap_["podHoursToOracle"] < 1.1
    assert len(voicecap_["steps"]) == 181
    assert chart.stat().st_size > 10_000

    table = voicecap(
        "replay", str(vcap_file), "--prometheus-url", backfilled.url,
        "--from", "2026-10-19T12:30:00Z", "--to", "2026-10-19T15:30:00Z",
    )  # fmt: skip
    assert "BLOCKED-CALL-MIN" in table.stdout and "oracle (perfect foresight)" in table.stdout
    negative = voicecap(
        "replay", str(vcap_file), "--prometheus-url", backfilled.url,
        "--from", "2026-10-19T12:30:00Z", "--to", "2026-10-19T15:30:00Z",
        "--cost-per-pod-hour", "-1",
    )  # fmt: skip
    assert negative.returncode == 2 and "--cost-per-pod-hour must be 0 or more" in negative.stderr


# ---------------------------------------------------------------- the operator


def test_the_operator_reports_forecasts_and_scores_the_window(
    history_file: Path, tmp_path: Path
) -> None:
    """The operator on the local stack, its clock at 10:50 New York on 2026-11-23 (inside
    today's healthcare window, which the backfill holds) at 30x: the status shows the forecast,
    and once the window closes at 11:00 the scorecard has the actual quantile from history and
    the minutes the live calls (2,000 on 2 ready pods of 200) were over capacity."""
    with local_stack(
        tmp_path,
        interval="0.5",
        clock_start=datetime(2026, 11, 23, 15, 50, tzinfo=UTC),
        clock_speed=30,
        history=history_file,
    ) as stack:
        k = stack.client
        workload(k, "voice", "healthcare-agent", ready=2)
        stack.exporter.set("voice", "healthcare", "p1", 2000)
        body = copy.deepcopy(CAPACITIES[0])
        body["spec"]["replicas"] = {"min": 2, "max": 2}  # the calls stay over capacity
        k.create(body)
        where = path_of("voicecap.io/v1alpha1", "voicecapacities", "voice", "healthcare")

        def status() -> dict[str, Any]:
            return dict((k.get(where) or {}).get("status") or {})

        wait_until(lambda: (status().get("forecast") or [{}])[0].get("reason") == "Forecast",
                   timeout=60, what="a forecast in status")  # fmt: skip
        forecast = status()["forecast"][0]
        # today's window is open: the forecast is for it, from the 13 weeks before it
        sessions, used = expected_forecast(HEALTHCARE)
        assert (forecast["sessions"], forecast["weeksUsed"]) == (sessions, used)
        assert forecast["windowStart"] == "2026-11-23T14:00:00Z"
        conditions = {c["type"]: c for c in status()["conditions"]}
        assert conditions["ForecastReady"]["status"] == "True"
        # ramps of ~400 over 20 quiet calls (burstFactor ~25) are not what the factor covers:
        # no window has closed yet, so nothing to judge
        assert "BurstAboveFactor" not in conditions

        def last_window() -> dict[str, Any]:
            return dict((status().get("forecast") or [{}])[0].get("lastWindow") or {})

        wait_until(lambda: last_window().get("actual") is not None, timeout=90,
                   what="the scorecard of the closed window")  # fmt: skip
        card = last_window()
        assert (card["start"], card["end"]) == ("2026-11-23T14:00:00Z", "2026-11-23T16:00:00Z")
        assert card["forecast"] == sessions and card["source"] == "forecast"
        assert card["actual"] == round(prometheus_quantile(HEALTHCARE.ramp(0), 0.99), 2)
        assert card["errorRatio"] == round((card["actual"] - sessions) / sessions, 3)
        assert 3 <= card["overCapacityMinutes"] <= 10  # 10:50 -> 11:00, minutes seen over
        metrics = stack.operator.metrics()
        assert 'voicecap_scorecard_over_capacity_minutes{namespace="voice",peak="peak"' in metrics
        assert 'voicecap_forecast_sessions{namespace="voice",peak="peak"' in metrics
        # the closed window carried actual / forecast, within the factor 1.5
        burst = {c["type"]: c for c in status()["conditions"]}["BurstAboveFactor"]
        assert (burst["status"], burst["reason"]) == ("False", "WithinFactor")
        assert f"{card['actual'] / sessions:.2f}x the forecast" in burst["message"]
