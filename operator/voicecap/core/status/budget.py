"""A TokenBudget's status: its reservations in grant order, whether it is short or overcommitted,
or why it is invalid."""

from collections.abc import Mapping
from datetime import datetime
from fractions import Fraction
from typing import Any

from voicecap.api.models import (
    Condition,
    Reservation,
    TokenBudgetStatus,
)
from voicecap.core.budgets.tokens import Allocation
from voicecap.core.sizing import exact
from voicecap.core.status.events import dated
from voicecap.core.status.memory import parsed

# Grants may add up to tokensPerMinute x (1 + overcommit); above this the provider's cap is
# reached whenever the verticals use what they were granted (the field says about 10 %).
SAFE_OVERCOMMIT = 0.1
# Projected use at or above this share of the real cap: condition NearCap (and, for 5 minutes,
# the alert TokenBudgetNearCap, core/alerts/rules.py).
NEAR_CAP = 0.9


def budget_status(
    allocation: Allocation,
    *,
    overcommit: float,
    projected: int | None,
    previous: TokenBudgetStatus | None,
    generation: int | None,
    now: datetime,
) -> TokenBudgetStatus:
    """What a TokenBudget shows: every reservation in grant order, whether it is short, and the
    verticals' projected use (live calls x tokens per call-minute) against the real cap."""
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
    cap = allocation.tokens_per_minute
    share = round(projected / cap, 4) if projected is not None else None
    # exact: 17,999,999 of 20,000,000 is not 90 %, though it rounds to it
    near = projected is not None and Fraction(projected, cap) >= exact(NEAR_CAP)
    near_cap = Condition(
        type="NearCap",
        status="Unknown" if share is None else "True" if near else "False",
        reason="NoLiveCalls" if share is None else "ProjectedNearCap" if near else "BelowCap",
        message="no vertical's live calls are known"
        if share is None
        else f"the verticals' live calls use {projected:,} of the provider cap {cap:,} tokens "
        f"per minute ({share:.0%}; {NEAR_CAP:.0%} is near)",
    )
    risky = overcommit > SAFE_OVERCOMMIT
    overcommit_high = Condition(
        type="OvercommitHigh",
        status="True" if risky else "False",
        reason="AboveSafeLimit" if risky else "WithinSafeLimit",
        message=f"overcommit {overcommit:g}: grants may add up to {1 + overcommit:g}x the "
        f"provider cap ({allocation.pool:,} tokens per minute); "
        + (
            f"above {SAFE_OVERCOMMIT:g} the cap is hit whenever the verticals use their grants"
            if risky
            else f"within the safe {SAFE_OVERCOMMIT:g}"
        ),
    )
    return TokenBudgetStatus(
        observed_generation=generation,
        requested=allocation.requested,
        granted=allocation.granted,
        available=allocation.available,
        projected=projected,
        projected_share=share,
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
        conditions=dated(
            [ready, overcommitted, overcommit_high, near_cap], previous, generation, now
        ),
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
