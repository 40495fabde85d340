"""The fleet's history: one query per window shape per refresh, whatever the object count; a
failed refresh keeps the forecasts and the floors, and is retried a minute later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from support.objects import capacity_body
from support.world import FixedHistory, MemoryWorld, service_for
from voicecap.adapters.metrics import OperatorMetrics
from voicecap.adapters.prometheus import QueryFailedError
from voicecap.api.models import VoiceCapacity
from voicecap.service.history import HistoryCache

# Monday 2026-11-09 08:00 New York: a week of quiet before monday-morning's next window.
START = datetime(2026, 11, 9, 13, 0, tzinfo=UTC)
SHAPES = [
    ("0 9 * * MON", "America/New_York", "2h"),
    ("0 9 * * MON", "America/Chicago", "2h"),  # another zone: another shape
    ("0 9 * * MON", "America/New_York", "3h"),  # another duration: another shape
    ("0 8 * * TUE-FRI", "America/New_York", "90m"),
    ("0 18 * * MON-FRI", "Europe/London", "14h"),
]


class ManualClock:
    def __init__(self, now: datetime) -> None:
        self.moment = now

    def now(self) -> datetime:
        return self.moment


def forecasting(index: int, schedule: str, zone: str, duration: str) -> dict[str, Any]:
    body = capacity_body()
    body["spec"].pop("model")
    body["metadata"]["name"] = f"v{index}"
    body["spec"]["targetRef"]["name"] = f"agent-{index}"
    peak = body["spec"]["peaks"][0]
    del peak["expectedSessions"]
    peak.update(schedule=schedule, timeZone=zone, duration=duration)
    return body


def capacities(count: int) -> list[VoiceCapacity]:
    return [
        VoiceCapacity.model_validate(forecasting(i, *SHAPES[i % len(SHAPES)])) for i in range(count)
    ]


def cache(store: FixedHistory, clock: ManualClock) -> HistoryCache:
    return HistoryCache(store, clock, OperatorMetrics())  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_queries_per_refresh_follow_the_shapes_not_the_objects() -> None:
    store, clock = FixedHistory(), ManualClock(START)
    store.weekly = {f"v{i}": 100.0 + i for i in range(1000)}
    store.burst_values = {"v0": (500.0, 100.0)}
    history = cache(store, clock)
    fleet = capacities(1000)
    await history.refresh(fleet)
    expected = {"quantiles": 5, "flags": 5, "burst": 1}
    assert store.queries == expected, "5 shapes (values, weeks' flags), one session query"
    assert history.view(fleet[7]).forecasts["monday-morning"].sessions == 107.0
    assert history.view(fleet[0]).burst_factor == 5.0

    clock.moment += timedelta(minutes=30)  # within forecast.refresh (1h): nothing is due
    await history.refresh(fleet)
    assert store.queries == expected
    clock.moment += timedelta(minutes=31)
    await history.refresh(fleet)
    assert store.queries == {"quantiles": 10, "flags": 10, "burst": 2}


@pytest.mark.asyncio
async def test_weeks_served_at_their_limit_are_censored_unless_refusals_are_counted() -> None:
    store, clock = FixedHistory(), ManualClock(START)
    store.weekly = {"v0": 450.0, "v1": 450.0}
    censored_weeks = {str(k): 0.97 for k in range(1, 14)}
    store.flags = {
        "v0": {"censored": censored_weeks},
        "v1": {"censored": censored_weeks, "offered": {str(k): 0.8 for k in range(1, 14)}},
    }
    history = cache(store, clock)
    fleet = capacities(2)
    await history.refresh(fleet)
    served = history.view(fleet[0]).forecasts["monday-morning"]
    assert served.reason == "CensoredHistory" and served.weeks[0].censored
    offered = history.view(fleet[1]).forecasts["monday-morning"]
    assert offered.reason == "Forecast"
    assert offered.weeks[0].offered and not offered.weeks[0].censored


@pytest.mark.asyncio
async def test_a_closed_window_refreshes_its_shape_at_once() -> None:
    store, clock = FixedHistory(), ManualClock(datetime(2026, 11, 9, 15, 50, tzinfo=UTC))
    store.weekly = {"v0": 300.0}
    history = cache(store, clock)
    (vcap,) = capacities(1)  # monday-morning, New York, 09:00-11:00 (16:00 UTC)
    await history.refresh([vcap])
    last_week = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
    assert history.view(vcap).actuals["monday-morning"] == (last_week, 300.0)
    clock.moment = datetime(2026, 11, 9, 16, 1, tzinfo=UTC)  # 11 minutes later: it closed
    await history.refresh([vcap])
    assert store.queries["quantiles"] == 2
    start, actual = history.view(vcap).actuals["monday-morning"]
    assert start == datetime(2026, 11, 9, 14, 0, tzinfo=UTC) and actual == 300.0
    assert history.view(vcap).forecasts["monday-morning"].window_start == start + timedelta(weeks=1)


@pytest.mark.asyncio
async def test_an_outage_keeps_the_forecast_and_is_retried_a_minute_later() -> None:
    store, clock = FixedHistory(), ManualClock(START)
    store.weekly = {"v0": 1000.0}
    history = cache(store, clock)
    (vcap,) = capacities(1)
    await history.refresh([vcap])
    assert history.view(vcap).forecasts["monday-morning"].sessions == 1000.0

    store.failure = QueryFailedError("PrometheusUnreachable", "connection refused")
    clock.moment += timedelta(hours=1)
    await history.refresh([vcap])
    kept = history.view(vcap).forecasts["monday-morning"]
    assert (kept.sessions, kept.reason) == (1000.0, "PrometheusUnreachable")
    assert not history.view(vcap).burst_known  # the plan keeps the last burst factor
    queries = store.queries["quantiles"]
    clock.moment += timedelta(seconds=30)
    await history.refresh([vcap])
    assert store.queries["quantiles"] == queries, "not retried every cycle"
    store.failure = None
    clock.moment += timedelta(seconds=31)
    await history.refresh([vcap])
    assert history.view(vcap).forecasts["monday-morning"].reason == "Forecast"


@pytest.mark.asyncio
async def test_the_operator_prescales_from_the_forecast_and_keeps_it_through_an_outage() -> None:
    world = MemoryWorld()
    key = world.add_capacity(forecasting(0, *SHAPES[0]), ready=2)
    lead = datetime(2026, 11, 9, 13, 55, tzinfo=UTC)  # 08:55 New York, inside the lead time
    service = service_for(world, {"v0": 50.0}, now=lead)
    service.history.weekly = {"v0": 1000.0}
    await service.fleet.cycle()
    await service.assembled.history.wait()
    await service.fleet.cycle()
    status = world.body(key)["status"]
    assert status["replicas"]["floor"] == 8  # ceil(1.5 x 1000 / 200), not from 50 calls
    assert status["forecast"][0]["sessions"] == 1000.0
    assert status["forecast"][0]["profile"] == [1000.0] * 24  # one value per slot of the window
    assert status["forecast"][0]["weeksUsed"] == 13
    ready = {c["type"]: c for c in status["conditions"]}["ForecastReady"]
    assert (ready["status"], ready["reason"]) == ("True", "Forecast")
    value = service.metrics.registry.get_sample_value(
        "voicecap_forecast_sessions",
        {"namespace": "voice", "vertical": "v0", "peak": "monday-morning"},
    )
    assert value == 1000.0

    # a restarted operator whose first refresh fails keeps the forecast from status
    restarted = service_for(world, {"v0": 50.0}, now=lead)
    restarted.history.failure = QueryFailedError("PrometheusUnreachable", "refused")
    await restarted.fleet.cycle()
    await restarted.assembled.history.wait()
    await restarted.fleet.cycle()
    status = world.body(key)["status"]
    assert status["replicas"]["floor"] == 8
    assert status["forecast"][0]["profile"] == [1000.0] * 24  # the shape survives the restart
    ready = {c["type"]: c for c in status["conditions"]}["ForecastReady"]
    assert (ready["status"], ready["reason"]) == ("False", "PrometheusUnreachable")
    assert status["forecast"][0]["sessions"] == 1000.0
