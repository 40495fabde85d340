"""core/budgets/fleet.py: TokenBudget grants first, then each vertical's plan with its grant."""

from __future__ import annotations

from datetime import UTC, datetime

from support.objects import capacity_body
from voicecap.api.models import TokenBudget, VoiceCapacity
from voicecap.core.budgets.fleet import allocate_budgets, granted_tpm, plan_fleet, token_requests
from voicecap.core.planner.observation import Observation

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
BUDGET = TokenBudget.model_validate(
    {"metadata": {"name": "openai-realtime"}, "spec": {"tokensPerMinute": 6_000_000}}
)


def vertical(name: str, reserved: int, priority: int = 0) -> VoiceCapacity:
    body = capacity_body(
        model={"budgetRef": "openai-realtime", "reservedTPM": reserved, "priority": priority}
    )
    body["metadata"]["name"] = name
    return VoiceCapacity.model_validate(body)


def test_a_short_budget_grants_by_priority_and_each_plan_gets_its_grant() -> None:
    first, second = vertical("care", 4_800_000, priority=10), vertical("sales", 4_800_000)
    assert [r.name for r in token_requests([first, second], "openai-realtime")] == [
        "care",
        "sales",
    ]
    allocations = allocate_budgets([first, second], [BUDGET])
    assert granted_tpm(first, allocations) == 4_800_000
    assert granted_tpm(second, allocations) == 1_200_000  # what is left of 6M
    seen = {key: Observation(sessions=100, sampled_at=NOW) for key in ("voice/care",)}
    plans = {p.name: p for p in plan_fleet([first, second], [BUDGET], seen, NOW)}
    assert plans["care"].tpm.granted == 4_800_000 and plans["care"].sessions == 100
    assert plans["sales"].tpm.granted == 1_200_000 and plans["sales"].sessions is None
    assert plans["sales"].ceiling == 2  # 200 calls: the TPM grant binds, min 2 wins


def test_no_budget_no_grant_and_no_reservation_no_grant() -> None:
    alone = vertical("care", 4_800_000)
    assert granted_tpm(alone, allocate_budgets([alone], [])) is None
    plain = VoiceCapacity.model_validate(capacity_body(model=None))
    assert granted_tpm(plain, allocate_budgets([plain], [BUDGET])) is None
