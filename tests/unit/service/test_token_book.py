"""The token-budget book: grants, the ledger across restarts, and invalid budgets."""

from __future__ import annotations

import pytest

from support.objects import budget_body, capacity_body
from support.world import MemoryWorld, counter, service_for


def conditions(world: MemoryWorld, key: str) -> dict[str, dict[str, str]]:
    return {c["type"]: c for c in world.body(key)["status"]["conditions"]}


@pytest.mark.asyncio
async def test_a_grant_is_in_status_and_the_budget_lists_it() -> None:
    world = MemoryWorld()
    world.add_budget(budget_body())
    key = world.add_capacity(capacity_body())
    service = service_for(world, {"healthcare": 100.0})
    await service.fleet.cycle()
    assert world.body(key)["status"]["tpm"]["granted"] == 4_800_000
    budget = world.budget_bodies["openai-realtime"]["status"]
    assert budget["granted"] == 4_800_000
    assert conditions(world, key)["BudgetGranted"]["reason"] == "Granted"


@pytest.mark.asyncio
async def test_an_invalid_budget_says_so_and_keeps_the_grant_in_effect() -> None:
    world = MemoryWorld()
    world.add_budget(budget_body())
    key = world.add_capacity(capacity_body())
    service = service_for(world, {"healthcare": 100.0})
    await service.fleet.cycle()
    hpa = world.children[("voice", "HorizontalPodAutoscaler", "healthcare")]
    ceiling = hpa["spec"]["maxReplicas"]

    broken = budget_body(tokensPerMinute=-5)
    world.add_budget(broken)
    await service.fleet.cycle()
    budget = conditions(world, key)["BudgetGranted"]
    assert (budget["status"], budget["reason"]) == ("False", "BudgetInvalid")
    assert "grant in effect is kept" in budget["message"]
    assert world.body(key)["status"]["tpm"]["granted"] == 4_800_000
    assert hpa["spec"]["maxReplicas"] == ceiling
    status = world.budget_bodies["openai-realtime"]["status"]
    ready = {c["type"]: c for c in status["conditions"]}["Ready"]
    assert ready["reason"] == "InvalidSpec"
    assert "tokensPerMinute" in ready["message"]


@pytest.mark.asyncio
async def test_an_invalid_budget_never_granted_means_no_tpm_ceiling() -> None:
    world = MemoryWorld()
    world.add_budget(budget_body(tokensPerMinute=0))
    key = world.add_capacity(capacity_body())
    service = service_for(world, {"healthcare": 100.0})
    await service.fleet.cycle()
    budget = conditions(world, key)["BudgetGranted"]
    assert budget["reason"] == "BudgetInvalid"
    assert "no TPM ceiling" in budget["message"]
    assert world.body(key)["status"]["replicas"]["ceiling"] == 40  # replicas.max


@pytest.mark.asyncio
async def test_a_missing_budget_is_budget_not_found() -> None:
    world = MemoryWorld()
    key = world.add_capacity(capacity_body())
    service = service_for(world, {"healthcare": 100.0})
    await service.fleet.cycle()
    assert conditions(world, key)["BudgetGranted"]["reason"] == "BudgetNotFound"
    assert counter(service.metrics, "voicecap_reconcile_errors_total", reason="InvalidSpec") == 0


@pytest.mark.asyncio
async def test_after_a_restart_the_ledger_starts_from_the_grants_in_status() -> None:
    world = MemoryWorld()
    world.add_budget(budget_body(tokensPerMinute=5_000_000))
    first = world.add_capacity(capacity_body())
    await service_for(world, {"healthcare": 100.0}).fleet.cycle()
    assert world.body(first)["status"]["tpm"]["granted"] == 4_800_000

    late = capacity_body()
    late["metadata"]["name"] = "sales"
    late["spec"]["targetRef"]["name"] = "sales-agent"
    late["spec"]["model"]["priority"] = 10  # outranks the first: it should get it all, later
    second = world.add_capacity(late)
    restarted = service_for(world, {"healthcare": 100.0, "sales": 100.0})
    await restarted.reconcile(second)  # before any cycle: the ledger comes from status
    assert world.body(second)["status"]["tpm"]["granted"] == 200_000, "what the pool has left"
