"""Grants in effect (GrantLedger) and the TokenBudget status, for any order of events."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from voicecap.core.budgets.tokens import GrantLedger, TokenRequest, allocate
from voicecap.core.status.budget import budget_status, invalid_budget_status

POOL = 1000
NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)

requests = st.lists(
    st.tuples(st.integers(0, 7), st.integers(0, 600), st.integers(0, 3)),  # object, TPM, priority
    min_size=1,
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(changes=requests, order=st.randoms(use_true_random=False))
def test_grants_in_effect_never_exceed_the_pool_and_converge(changes, order) -> None:
    """Reservations change one at a time; objects reconcile in any order, each reserving before
    it writes and releasing only after; at no point do the grants held add up past the pool."""
    ledger = GrantLedger()
    wanted: dict[str, tuple[int, int]] = {}
    for obj, tpm, priority in changes:
        wanted[f"ns/v{obj}"] = (tpm, priority)
        allocation = allocate(
            POOL, 0, [TokenRequest("ns", k[3:], t, p) for k, (t, p) in wanted.items()]
        )
        keys = list(wanted)
        order.shuffle(keys)
        for key in keys:  # one cycle, in a random order
            target = allocation.grant_for("ns", key[3:]).granted  # type: ignore[union-attr]
            granted = ledger.effective(key, "b", target, allocation.pool)
            ledger.hold(key, "b", max(granted, ledger.holding(key, "b")))  # before the write
            assert ledger.total("b") <= POOL
            ledger.hold(key, "b", granted)  # the write landed
            assert ledger.total("b") <= POOL
    # With the reservations settled, at most one cycle per object reaches the allocation.
    for _ in range(len(wanted) + 1):
        for key in wanted:
            target = allocation.grant_for("ns", key[3:]).granted  # type: ignore[union-attr]
            ledger.hold(key, "b", ledger.effective(key, "b", target, allocation.pool))
    for key in wanted:
        assert ledger.holding(key, "b") == allocation.grant_for("ns", key[3:]).granted  # type: ignore[union-attr]


def test_release_frees_a_grant_and_a_move_between_budgets_leaves_the_old_one() -> None:
    ledger = GrantLedger()
    ledger.hold("ns/a", "b1", 600)
    assert ledger.effective("ns/b", "b1", 600, POOL) == 400
    ledger.hold("ns/a", "b2", 600)  # moved to another budget
    assert ledger.total("b1") == 0 and ledger.total("b2") == 600
    ledger.release("ns/a")
    assert ledger.total("b2") == 0 and ledger.keys() == set()


def test_budget_status_lists_reservations_in_grant_order_and_dates_conditions() -> None:
    allocation = allocate(
        20_000_000,
        0.1,
        [
            TokenRequest("voice", "sales", 8_000_000, priority=10),
            TokenRequest("voice", "healthcare", 8_000_000, priority=100),
            TokenRequest("voice", "after-hours", 8_000_000, priority=1),
        ],
    )
    status = budget_status(
        allocation, overcommit=0.1, projected=None, previous=None, generation=2, now=NOW
    )
    assert [(r.name, r.granted) for r in status.reservations] == [
        ("healthcare", 8_000_000),
        ("sales", 8_000_000),
        ("after-hours", 6_000_000),
    ]
    assert (status.requested, status.granted, status.available) == (24_000_000, 22_000_000, 0)
    ready, over, high, near = status.conditions
    assert (high.type, high.status, high.reason) == ("OvercommitHigh", "False", "WithinSafeLimit")
    assert (near.type, near.status, near.reason) == ("NearCap", "Unknown", "NoLiveCalls")
    assert (
        ready.reason == "Allocated"
        and "1 short: voice/after-hours 6000000/8000000" in ready.message
    )
    assert (over.type, over.status, over.reason) == ("Overcommitted", "True", "GrantsAboveCap")
    later = budget_status(
        allocation,
        overcommit=0.1,
        projected=None,
        previous=status,
        generation=3,
        now=NOW.replace(hour=15),
    )
    assert later.conditions[0].last_transition_time == status.conditions[0].last_transition_time
    assert later.conditions[0].observed_generation == 3


def test_projected_use_near_the_real_cap_and_a_risky_overcommit_are_conditions() -> None:
    allocation = allocate(20_000_000, 1.0, [TokenRequest("voice", "sales", 30_000_000)])
    near = budget_status(
        allocation, overcommit=1.0, projected=18_000_000, previous=None, generation=1, now=NOW
    )
    assert (near.projected, near.projected_share) == (18_000_000, 0.9)
    kinds = {c.type: c for c in near.conditions}
    assert (kinds["NearCap"].status, kinds["NearCap"].reason) == ("True", "ProjectedNearCap")
    assert kinds["NearCap"].message == (
        "the verticals' live calls use 18,000,000 of the provider cap 20,000,000 tokens per "
        "minute (90%; 90% is near)"
    )
    high = kinds["OvercommitHigh"]
    assert (high.status, high.reason) == ("True", "AboveSafeLimit")
    assert high.message.startswith("overcommit 1: grants may add up to 2x the provider cap")
    below = budget_status(
        allocation, overcommit=1.0, projected=17_999_999, previous=None, generation=1, now=NOW
    )
    assert {c.type: c.status for c in below.conditions}["NearCap"] == "False"


def test_an_invalid_budget_says_so_and_grants_nothing() -> None:
    status = invalid_budget_status(
        "spec.tokensPerMinute: must be >= 1", previous=None, generation=1, now=NOW
    )
    (ready,) = status.conditions
    assert (ready.status, ready.reason) == ("False", "InvalidSpec")
    assert status.granted is None and status.reservations == []
