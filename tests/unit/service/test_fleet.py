"""The fleet cycle: steady cycles write nothing, and objects waiting after an API outage are
retried as soon as the API answers again, not after their backoff (up to 300 s)."""

from __future__ import annotations

import asyncio
import time

import pytest

from support.objects import capacity_body
from support.world import MemoryWorld, service_for
from voicecap.adapters.kube import Ref, TransientError
from voicecap.adapters.metrics import OperatorMetrics
from voicecap.service.fleet import run_cycles
from voicecap.service.retries import RetryBook


def fleet_world(count: int) -> tuple[MemoryWorld, list[str]]:
    world = MemoryWorld()
    keys = []
    for index in range(count):
        body = capacity_body()
        body["spec"].pop("model")
        body["metadata"]["name"] = f"v{index}"
        body["spec"]["targetRef"]["name"] = f"agent-{index}"
        keys.append(world.add_capacity(body))
    return world, keys


@pytest.mark.asyncio
async def test_a_steady_cycle_makes_no_write_and_one_query() -> None:
    world, _ = fleet_world(5)
    service = service_for(world, {f"v{i}": 100.0 for i in range(5)})
    assert await service.fleet.cycle() == 5
    await service.fleet.cycle()  # the HPAs it created now show in status (status.hpa)
    await service.assembled.history.wait()  # the forecasts' refresh runs in a thread: let it land
    await service.fleet.cycle()
    first = len(service.kube.writes)
    assert first > 0
    queries = service.prometheus.queries
    await service.fleet.cycle()
    assert service.kube.writes[first:] == []
    assert service.prometheus.queries == queries + 1, "one batched query per cycle"


@pytest.mark.asyncio
async def test_after_an_outage_waiting_objects_are_retried_as_soon_as_the_api_answers() -> None:
    world, keys = fleet_world(6)
    retries = RetryBook(base=300.0, cap=300.0)  # every object would wait 150-300 s
    service = service_for(world, {f"v{i}": 100.0 for i in range(6)}, retries=retries)
    down = True

    def outage(verb: str, ref: Ref) -> TransientError | None:
        return TransientError("503 Service Unavailable") if down else None

    service.kube.fault = outage
    await service.fleet.cycle()
    assert retries.waiting() == 6
    assert all(not retries.due(key) for key in keys)

    calls_before = service.kube.answered
    await service.fleet.cycle()  # still down: one probe, not six requests
    assert retries.waiting() == 6
    assert service.kube.answered == calls_before

    down = False
    await service.fleet.cycle()  # the probe succeeds: everyone is retried in the same cycle
    assert retries.waiting() == 0
    assert all("status" in world.body(key) for key in keys)


@pytest.mark.asyncio
async def test_the_cycle_reconciles_from_the_newest_copy_not_its_listing() -> None:
    world, keys = fleet_world(1)
    service = service_for(world, {"v0": 100.0})
    await service.reconcile(keys[0])  # created: the HPA, and a first status
    listed = world.entry(keys[0])  # what a cycle listed ...
    await service.reconcile(keys[0])  # ... before a handler wrote the HPA's report into status
    writes = service.kube.status_writes()
    assert writes == 2
    await service.reconciler.reconcile(listed, trigger="cycle", reread=True)
    assert service.kube.status_writes() == writes, "the listing's old status is not diffed"
    await service.reconciler.reconcile(listed, trigger="cycle")  # the stale copy writes again
    assert service.kube.status_writes() == writes + 1


@pytest.mark.asyncio
async def test_the_loop_beats_every_pass_standby_or_not_and_exports_its_interval() -> None:
    """voicecap_cycle_heartbeat_timestamp_seconds moves at every pass (the alert
    VoicecapOperatorHeartbeatStale reads it), even as a standby that writes nothing."""
    world, _ = fleet_world(1)
    service = service_for(world, {"healthcare": 10.0})
    metrics = OperatorMetrics()

    class Standby:
        async def may_write(self) -> bool:
            return False

    ready, stop = asyncio.Event(), asyncio.Event()
    ready.set()
    before = time.time()
    loop = asyncio.create_task(
        run_cycles(service.fleet, Standby(), metrics=metrics, caches_fresh=lambda: True,  # type: ignore[arg-type]
                   interval=0.05, ready=ready, stop=stop)
    )  # fmt: skip
    await asyncio.sleep(0.2)
    stop.set()
    await asyncio.wait_for(loop, timeout=5)
    value = metrics.registry.get_sample_value
    assert value("voicecap_cycle_interval_seconds") == 0.05
    assert (value("voicecap_cycle_heartbeat_timestamp_seconds") or 0) >= before
    assert (value("voicecap_cycles_skipped_total", {"reason": "Peer"}) or 0) >= 2
    assert value("voicecap_writer") == 0
