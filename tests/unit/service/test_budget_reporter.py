"""service/budget_reporter.py: each TokenBudget's status and gauges once per cycle, with the verticals' projected use; a deleted budget leaves no series."""

from __future__ import annotations

import pytest

from support.objects import budget_body, capacity_body
from support.world import MemoryWorld, sample, service_for


@pytest.mark.asyncio
async def test_the_budget_reports_its_verticals_projected_use_against_the_real_cap() -> None:
    """Two verticals with 400 and 500 live calls at 6000 tokens per call-minute use 5.4M of a
    6M cap: 90 %, NearCap; the budget's metrics say the same."""
    world = MemoryWorld()
    world.add_budget(budget_body(overcommit=0.5))
    world.add_capacity(capacity_body())
    sales = capacity_body()
    sales["metadata"]["name"] = "sales"
    sales["spec"]["targetRef"]["name"] = "sales-agent"
    world.add_capacity(sales)
    service = service_for(world, {"healthcare": 400.0, "sales": 500.0})
    await service.fleet.cycle()
    status = world.budget_bodies["openai-realtime"]["status"]
    assert (status["projected"], status["projectedShare"]) == (5_400_000, 0.9)
    kinds = {c["type"]: c for c in status["conditions"]}
    assert (kinds["NearCap"]["status"], kinds["NearCap"]["reason"]) == ("True", "ProjectedNearCap")
    high = kinds["OvercommitHigh"]
    assert (high["status"], high["reason"]) == ("True", "AboveSafeLimit")
    budget = {"budget": "openai-realtime"}
    assert sample(service.metrics, "voicecap_budget_projected_tpm", **budget) == 5_400_000
    assert sample(service.metrics, "voicecap_budget_tokens_per_minute", **budget) == 6_000_000
    assert sample(service.metrics, "voicecap_budget_requested_tpm", **budget) == 9_600_000
    assert sample(service.metrics, "voicecap_budget_granted_tpm", **budget) == 9_000_000  # 6M x 1.5

    del world.budget_bodies["openai-realtime"]
    await service.fleet.cycle()
    assert (
        sample(service.metrics, "voicecap_budget_projected_tpm", **budget) is None
    )  # gone with it


@pytest.mark.asyncio
async def test_a_deleted_budget_leaves_no_series() -> None:
    world = MemoryWorld()
    world.add_budget(budget_body())
    world.add_capacity(capacity_body())
    service = service_for(world, {"healthcare": 100.0})
    await service.fleet.cycle()
    budget = {"budget": "openai-realtime"}
    assert sample(service.metrics, "voicecap_budget_projected_tpm", **budget) == 600_000
    del world.budget_bodies["openai-realtime"]
    await service.fleet.cycle()
    assert sample(service.metrics, "voicecap_budget_tokens_per_minute", **budget) is None
