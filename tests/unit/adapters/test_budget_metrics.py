"""adapters/budget_metrics.py: one series per TokenBudget and number, unknown numbers absent
(not 0), and every series of a deleted budget removed."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from voicecap.adapters.budget_metrics import BudgetGauges
from voicecap.api.models import TokenBudgetStatus


def value(registry: CollectorRegistry, name: str, budget: str) -> float | None:
    return registry.get_sample_value(name, {"budget": budget})


def test_a_budgets_numbers_and_an_unknown_one_absent() -> None:
    registry = CollectorRegistry()
    gauges = BudgetGauges(registry)
    gauges.observe(
        "openai", 20_000_000, TokenBudgetStatus(requested=24_000_000, granted=22_000_000)
    )
    assert value(registry, "voicecap_budget_tokens_per_minute", "openai") == 20_000_000
    assert value(registry, "voicecap_budget_granted_tpm", "openai") == 22_000_000
    assert value(registry, "voicecap_budget_projected_tpm", "openai") is None  # unknown, not 0


def test_a_deleted_budget_loses_every_series() -> None:
    registry = CollectorRegistry()
    gauges = BudgetGauges(registry)
    for name in ("openai", "anthropic"):
        gauges.observe(name, 1_000, TokenBudgetStatus(requested=1, granted=1, projected=1))
    gauges.forget_budgets_except({"anthropic"})
    assert value(registry, "voicecap_budget_requested_tpm", "openai") is None
    assert value(registry, "voicecap_budget_requested_tpm", "anthropic") == 1
