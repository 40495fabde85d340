"""A TokenBudget's status: its reservations in grant order, whether it is short or overcommitted,
or why it is invalid."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from voicecap.api.models import (
    Condition,
    Reservation,
    TokenBudgetStatus,
)
from voicecap.core.conditions import dated
from voicecap.core.status import parsed
from voicecap.core.tokens import Allocation


def budget_status(
    allocation: Allocation,
    *,
    previous: TokenBudgetStatus | None,
    generation: int | None,
    now: datetime,
) -> TokenBudgetStatus:
    """What a TokenBudget shows: every reservation in grant order, and whether it is short."""
    short = [grant for grant in allocation.grants if grant.short]
    shortfall = (
        f"; {len(short)} short: "
        + ", ".join(
            f"{g.request.namespace}/{g.request.name} {g.granted}/{g.request.requested}"
            for g in short[:5]
        )
        + (" ..." if len(short) > 5 else "")
        if short
        else ""
    )
    ready = Condition(
        type="Ready",
        status="True",
        reason="Allocated",
        message=f"{len(allocation.grants)} reservations: granted {allocation.granted} of "
        f"{allocation.requested} requested, pool {allocation.pool}{shortfall}",
    )
    over = allocation.overcommitted
    overcommitted = Condition(
        type="Overcommitted",
        status="True" if over else "False",
        reason="GrantsAboveCap" if over else "WithinCap",
        message=f"grants {allocation.granted} {'above' if over else 'within'} the provider cap "
        f"{allocation.tokens_per_minute} tokens per minute",
    )
    return TokenBudgetStatus(
        observed_generation=generation,
        requested=allocation.requested,
        granted=allocation.granted,
        available=allocation.available,
        reservations=[
            Reservation(
                namespace=g.request.namespace,
                name=g.request.name,
                requested=g.request.requested,
                granted=g.granted,
                priority=g.request.priority,
            )
            for g in allocation.grants
        ],
        conditions=dated([ready, overcommitted], previous, generation, now),
    )


def invalid_budget_status(
    message: str, *, previous: TokenBudgetStatus | None, generation: int | None, now: datetime
) -> TokenBudgetStatus:
    """Ready=False InvalidSpec; the budget grants nothing until it is fixed."""
    ready = Condition(type="Ready", status="False", reason="InvalidSpec", message=message)
    return TokenBudgetStatus(
        observed_generation=generation,
        conditions=dated([ready], previous, generation, now),
    )


def parse_budget_status(raw: Mapping[str, Any] | None) -> TokenBudgetStatus | None:
    return parsed(TokenBudgetStatus, raw)
