"""service/config_maps.py: a user's ConfigMap read at most once per read_every, the last value
kept through a failed read, None before any read, the missing value for a missing ConfigMap."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from support.world import MemoryKube, MemoryWorld
from voicecap.adapters.kube import Ref, TransientError
from voicecap.service.config_maps import ConfigMapReads

WHERE = ("voice", "tenants")


def lines(data: Mapping[str, str] | None) -> int:
    return sum(len(text.splitlines()) for text in (data or {}).values())


@pytest.mark.asyncio
async def test_reads_are_shared_kept_through_failures_and_forgotten() -> None:
    world = MemoryWorld()
    world.children[("voice", "ConfigMap", "tenants")] = {
        "metadata": {"name": "tenants", "namespace": "voice"},
        "data": {"a": "acme: 1\nglobex: 2\n"},
    }
    kube = MemoryKube(world)
    reads = ConfigMapReads(kube, lines, -1, what="tenant caps")
    assert await reads.read(WHERE) == 2
    assert await reads.read(WHERE) == 2 and kube.answered == 1  # within the minute: no GET
    assert await reads.read(("voice", "absent")) == -1  # missing

    def down(verb: str, ref: Ref) -> TransientError | None:
        return TransientError("503")

    kube.fault = down
    reads.read_every = 0
    assert await reads.read(WHERE) == 2  # the last value, through a failed read
    reads.keep(set())
    assert await reads.read(WHERE) is None  # forgotten, and unreadable now
