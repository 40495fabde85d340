"""service/assembly.py: one assembly; every cache keyed by VoiceCapacity is registered to forget
deleted objects (a cache added and not registered fails here), and stop() ends what it started."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import pytest

from support.objects import capacity_body, vertical_body
from support.world import MemoryWorld, sample, service_for


def reachable(root: Any) -> list[Any]:
    """Every object the service holds, following attributes (and tuples and lists of them) into
    the service's own classes."""
    seen: dict[int, Any] = {}
    stack = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple | list):
            stack += list(item)
            continue
        if id(item) in seen or not type(item).__module__.startswith("voicecap."):
            continue
        seen[id(item)] = item
        stack += list(getattr(item, "__dict__", {}).values())
    return list(seen.values())


def test_every_cache_that_forgets_is_registered_with_the_fleet() -> None:
    service = service_for(MemoryWorld())
    fleet = service.assembled.fleet
    registered = {id(cache) for cache in fleet._forgetting}
    forgetting = [
        item
        for item in reachable(service.assembled)
        if callable(getattr(item, "forget_except", None)) and item is not fleet
    ]
    missing = [type(item).__name__ for item in forgetting if id(item) not in registered]
    assert not missing, f"caches that never forget deleted objects: {missing}"
    assert len(forgetting) >= 9


@pytest.mark.asyncio
async def test_a_deleted_object_leaves_no_series_and_no_waiting() -> None:
    world = MemoryWorld()
    world.add_capacity(capacity_body())
    gone = world.add_capacity(vertical_body("sales"))
    service = service_for(world, {"healthcare": 100.0, "sales": 50.0})
    await service.fleet.cycle()
    labels = {"namespace": "voice", "vertical": "sales"}
    assert sample(service.metrics, "voicecap_floor_replicas", **labels) == 2
    del world.capacity_bodies[gone]
    await service.fleet.cycle()
    assert sample(service.metrics, "voicecap_floor_replicas", **labels) is None


@pytest.mark.asyncio
async def test_stop_ends_the_background_refresh() -> None:
    world = MemoryWorld()
    world.add_capacity(capacity_body())
    service = service_for(world, {"healthcare": 100.0})
    release = threading.Event()

    def slow(*args: object, **kwargs: object) -> dict[Any, Any]:
        release.wait(10)
        return {}

    service.history.quantiles = slow  # type: ignore[method-assign, assignment]
    await service.fleet.cycle()  # the forecasts' refresh starts in the background, and hangs
    task = service.assembled.history._task
    assert task is not None and not task.done()
    service.assembled.stop()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=5)
    assert task.cancelled()
    release.set()
