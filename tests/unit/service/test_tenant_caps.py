"""service/tenant_caps.py: each VoiceCapacity's tenant caps, from the ConfigMap it names."""

from __future__ import annotations

import pytest

from support.objects import capacity
from support.world import MemoryKube, MemoryWorld
from voicecap.service.tenant_caps import TenantCapsCache


@pytest.mark.asyncio
async def test_the_named_config_map_is_read_and_a_vertical_without_one_gets_none() -> None:
    world = MemoryWorld()
    world.children[("voice", "ConfigMap", "tenant-caps")] = {
        "metadata": {"name": "tenant-caps", "namespace": "voice"},
        "data": {"plans": "acme: 50\ninitech: 200\nbad line\n"},
    }
    cache = TenantCapsCache(MemoryKube(world))
    named = capacity(admission={"tenantCaps": {"configMapRef": {"name": "tenant-caps"}}})
    caps = await cache.read(named)
    assert caps is not None and dict(caps.caps) == {"acme": 50, "initech": 200}
    assert caps.problems == ("plans line 3: expected '<tenant>: <cap>', not 'bad line'",)
    assert await cache.read(capacity()) is None
    missing = capacity(admission={"tenantCaps": {"configMapRef": {"name": "nope"}}})
    found = await cache.read(missing)
    assert found is not None and not found.found
    cache.forget_except(set())
