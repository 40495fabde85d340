"""Each TokenBudget's status and gauges, once per fleet cycle, with the cycle's projected use: the
sum of its verticals' live calls x tokens per call-minute (core/status/budget.py builds it)."""

from __future__ import annotations

from collections.abc import Sequence

from voicecap.adapters.metrics import OperatorMetrics
from voicecap.adapters.objects import BudgetEntry
from voicecap.api.models import VoiceCapacity, dump
from voicecap.core.planner.plan import Plan
from voicecap.service.clock import Clock
from voicecap.service.token_book import TokenBook
from voicecap.service.writer import ChildWriter


class BudgetReporter:
    """Writes every TokenBudget's status and sets its gauges. Not for grants: the TokenBook
    decides those before any VoiceCapacity is reconciled."""

    def __init__(
        self, *, book: TokenBook, writer: ChildWriter, metrics: OperatorMetrics, clock: Clock
    ) -> None:
        self._book = book
        self._writer = writer
        self._metrics = metrics
        self._clock = clock

    async def report(
        self, budgets: list[BudgetEntry], planned: Sequence[tuple[VoiceCapacity, Plan]]
    ) -> None:
        """Each budget's status from this cycle's plans; a budget gone loses its gauges."""
        projected: dict[str, int] = {}
        for capacity, plan in planned:
            model = capacity.spec.model
            if model is not None and plan.tpm.projected is not None:
                projected[model.budget_ref] = (
                    projected.get(model.budget_ref, 0) + plan.tpm.projected
                )
        for budget, status in self._book.statuses(budgets, projected, self._clock.now()):
            await self._writer.budget_status(budget.name, budget.stored_status, dump(status))
            spec = budget.budget.spec if budget.budget is not None else None
            self._metrics.budgets.observe(
                budget.name, spec.tokens_per_minute if spec else None, status
            )
        self._metrics.budgets.forget_budgets_except({budget.name for budget in budgets})
