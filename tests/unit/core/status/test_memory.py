"""core/status/memory.py: the status blocks that double as memory read back into the memory that wrote them."""

from __future__ import annotations

from datetime import timedelta

from support.planned import NOW, OK, applied_capacity, evaluate
from voicecap.api.models import dump
from voicecap.core.status.capacity import build_status
from voicecap.core.status.memory import memory_from_status, parse_status


def test_status_round_trips_into_the_same_memory() -> None:
    vcap = applied_capacity(scaleDown={"stabilization": "10m"})
    first = evaluate(vcap, 1000)
    second = evaluate(vcap, 100, now=NOW + timedelta(minutes=1), memory=first.memory)
    status = build_status(second, OK, previous=None, generation=3, now=NOW)
    memory = memory_from_status(parse_status(dump(status)))
    assert memory.floor == second.floor == 8
    assert memory.recommendations == second.memory.recommendations
    assert memory.sessions == 100


def test_unreadable_status_is_no_memory() -> None:
    assert parse_status({"replicas": {"floor": "many"}}) is None
    assert memory_from_status(None).floor is None
