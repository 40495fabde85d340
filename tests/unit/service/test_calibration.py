"""service/calibration.py: measured inputs refreshed in the background, one query per latency
quantile and two for token use whatever the objects; an Overstated perPod, and in Measured mode an
HPA whose per-pod target follows the measured capacity."""

from __future__ import annotations

from typing import Any

import pytest

from support.objects import at, capacity_body
from support.world import MemoryWorld, service_for
from voicecap.adapters.prometheus import QueryFailedError
from voicecap.api.types import parse_quantity
from voicecap.core.measured.knee import LoadBin


def knee_at(capacity: float) -> list[LoadBin]:
    """A day and a half of samples whose latency reaches 800ms at `capacity` calls per pod."""
    base = 0.32
    return [
        LoadBin(n, base / (1 - (1 - base / 0.8) * n / capacity), 24)
        for n in range(20, int(capacity * 1.3), 10)
    ]


def vertical(name: str, **spec: Any) -> dict[str, Any]:
    body = capacity_body(latency={"target": "800ms"}, **spec)
    body["metadata"]["name"] = name
    body["spec"]["targetRef"]["name"] = f"{name}-agent"
    body["spec"]["peaks"] = []
    return body


def conditions(world: MemoryWorld, key: str) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in world.body(key)["status"]["conditions"]}


@pytest.mark.asyncio
async def test_a_declared_per_pod_above_what_latency_allows_is_overstated() -> None:
    world = MemoryWorld()
    key = world.add_capacity(vertical("healthcare"), ready=4)
    service = service_for(world, {"healthcare": 300.0})
    service.calibrations.bins = {"healthcare": knee_at(120)}
    service.calibrations.tokens = {"healthcare": (9_000_000.0, 1000.0)}
    await service.fleet.cycle()
    await service.assembled.calibration.wait()
    await service.fleet.cycle()
    status = world.body(key)["status"]
    per_pod = status["calibration"]["perPod"]
    assert (per_pod["declared"], per_pod["reason"], per_pod["method"]) == (
        200,
        "Overstated",
        "Observed",
    )
    assert per_pod["measured"] == pytest.approx(120, rel=0.05)
    tokens = status["calibration"]["tokensPerSessionMinute"]
    assert (tokens["measured"], tokens["reason"]) == (9000, "Understated")
    assert conditions(world, key)["PerPodCalibrated"]["reason"] == "Overstated"
    hpa = world.children[("voice", "HorizontalPodAutoscaler", "healthcare")]
    target = hpa["spec"]["metrics"][0]["pods"]["target"]["averageValue"]
    assert target == "140", "Declared: the HPA still counts perPod 200 x 0.7"


@pytest.mark.asyncio
async def test_measured_mode_plans_with_the_measured_capacity() -> None:
    world = MemoryWorld()
    body = vertical("healthcare", sessions={"perPod": 200, "perPodFrom": "Measured"})
    key = world.add_capacity(body, ready=4)
    service = service_for(world, {"healthcare": 300.0})
    service.calibrations.bins = {"healthcare": knee_at(120)}
    await service.fleet.cycle()
    await service.assembled.calibration.wait()
    await service.fleet.cycle()
    hpa = world.children[("voice", "HorizontalPodAutoscaler", "healthcare")]
    target = parse_quantity(hpa["spec"]["metrics"][0]["pods"]["target"]["averageValue"])
    assert float(target) == pytest.approx(0.7 * 119, abs=1.0)  # more pods for the same calls
    status = world.body(key)["status"]
    assert status["admission"]["maxSessions"] < 4 * 200


@pytest.mark.asyncio
async def test_queries_per_refresh_follow_the_quantiles_not_the_objects() -> None:
    world = MemoryWorld()
    for index in range(6):
        world.add_capacity(vertical(f"v{index}"))
    service = service_for(world, {f"v{i}": 100.0 for i in range(6)})
    await service.fleet.cycle()
    await service.assembled.calibration.wait()
    assert service.calibrations.queries == {"latency_bins": 1, "token_use": 1}
    await service.fleet.cycle()  # not due for an hour
    await service.assembled.calibration.wait()
    assert service.calibrations.queries == {"latency_bins": 1, "token_use": 1}


@pytest.mark.asyncio
async def test_a_failed_refresh_keeps_nothing_worse_and_is_retried() -> None:
    world = MemoryWorld()
    key = world.add_capacity(vertical("healthcare"))
    service = service_for(world, {"healthcare": 100.0})
    service.calibrations.failure = QueryFailedError("PrometheusUnreachable", "refused")
    await service.fleet.cycle()
    await service.assembled.calibration.wait()
    await service.fleet.cycle()
    assert conditions(world, key)["PerPodCalibrated"]["reason"] == "InsufficientData"
    assert world.body(key)["status"].get("calibration") is None


@pytest.mark.asyncio
async def test_a_restart_within_the_hour_measures_the_same_and_writes_nothing() -> None:
    """The window ends on the hour: an operator restarted at 10:40 reads what the one that
    refreshed at 10:05 read, so the status it would write is the one already there."""
    world = MemoryWorld()
    key = world.add_capacity(vertical("healthcare"))
    first = service_for(world, {"healthcare": 100.0}, now=at("2026-11-23T15:05:00Z"))
    first.calibrations.bins = {"healthcare": knee_at(140)}
    await first.fleet.cycle()
    await first.assembled.calibration.wait()
    await first.fleet.cycle()
    written = world.body(key)["status"]["calibration"]
    assert written["computedAt"] == "2026-11-23T15:00:00Z"  # the window's end, on the hour
    again = service_for(world, {"healthcare": 100.0}, now=at("2026-11-23T15:40:00Z"))
    again.calibrations.bins = {"healthcare": knee_at(140)}
    await again.fleet.cycle()
    await again.assembled.calibration.wait()
    await again.fleet.cycle()
    assert world.body(key)["status"]["calibration"] == written
    assert ("patch", "voicecapacities/status") not in again.kube.writes


@pytest.mark.asyncio
async def test_a_question_the_last_refresh_did_not_ask_is_asked_at_once() -> None:
    """A VoiceCapacity created after the hourly refresh (or one with a new quantile) is
    measured at the next cycle, not an hour later."""
    world = MemoryWorld()
    world.add_capacity(vertical("healthcare", model=None))
    service = service_for(world, {"healthcare": 100.0, "sales": 100.0})
    service.calibrations.bins = {"sales": knee_at(140)}
    await service.fleet.cycle()
    await service.assembled.calibration.wait()
    assert service.calibrations.queries["latency_bins"] == 1
    later = vertical("sales", model=None)
    later["spec"]["latency"]["quantile"] = 0.9  # a quantile nobody asked for yet
    sales = world.add_capacity(later)
    await service.fleet.cycle()
    await service.assembled.calibration.wait()
    await service.fleet.cycle()
    assert service.calibrations.queries["latency_bins"] == 3  # both quantiles, at once
    assert conditions(world, sales)["PerPodCalibrated"]["reason"] == "Overstated"


@pytest.mark.asyncio
async def test_a_new_question_that_fails_waits_for_the_retry_not_every_cycle() -> None:
    """Prometheus down: the question is asked once, then a minute later, not once a cycle."""
    world = MemoryWorld()
    world.add_capacity(vertical("healthcare", model=None))
    service = service_for(world, {"healthcare": 100.0})
    service.calibrations.failure = QueryFailedError("PrometheusUnreachable", "refused")
    for _ in range(3):
        await service.fleet.cycle()
        await service.assembled.calibration.wait()
    assert len(service.assembled.calibration.failures) == 1
