"""Per TokenBudget on the operator's /metrics (label `budget`): the provider cap, the
reservations, the grants and the verticals' projected use; removed with the budget."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge

from voicecap.adapters.plan_metrics import remove_series, set_or_remove
from voicecap.api.models import TokenBudgetStatus


class BudgetGauges:
    """Per TokenBudget (`budget`): its cap, reservations, grants and projected use."""

    def __init__(self, r: CollectorRegistry) -> None:
        self.budget_tpm = Gauge(
            "voicecap_budget_tokens_per_minute",
            "A TokenBudget's provider cap (spec.tokensPerMinute).",
            ("budget",),
            registry=r,
        )
        self.budget_requested = Gauge(
            "voicecap_budget_requested_tpm",
            "The sum of a TokenBudget's reservations.",
            ("budget",),
            registry=r,
        )
        self.budget_granted = Gauge(
            "voicecap_budget_granted_tpm",
            "The sum of a TokenBudget's grants.",
            ("budget",),
            registry=r,
        )
        self.budget_projected = Gauge(
            "voicecap_budget_projected_tpm",
            "Tokens per minute a TokenBudget's verticals' live calls use now "
            "(calls x the tokens a call-minute uses, measured where it is, summed).",
            ("budget",),
            registry=r,
        )
        self._per_budget = (
            self.budget_tpm,
            self.budget_requested,
            self.budget_granted,
            self.budget_projected,
        )
        self._budgets: set[str] = set()

    def observe(self, name: str, tokens_per_minute: int | None, status: TokenBudgetStatus) -> None:
        labels = (name,)
        self._budgets.add(name)
        set_or_remove(self.budget_tpm, labels, tokens_per_minute)
        set_or_remove(self.budget_requested, labels, status.requested)
        set_or_remove(self.budget_granted, labels, status.granted)
        set_or_remove(self.budget_projected, labels, status.projected)

    def forget_budgets_except(self, names: set[str]) -> None:
        """Removes the series of every TokenBudget not in `names` (by budget name, not by a
        VoiceCapacity's key: service/budget_reporter.py calls it)."""
        for gone in self._budgets - names:
            remove_series((gone,), self._per_budget)
        self._budgets &= names
