"""core/budgets/tokens.py: TokenBudget allocation by priority, the pool and overcommit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from voicecap.core.budgets.tokens import TokenRequest, allocate, pool_size

T0 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def _request(
    name: str, requested: int, priority: int = 0, minute: int = 0, namespace: str = "voice"
) -> TokenRequest:
    return TokenRequest(namespace, name, requested, priority, T0 + timedelta(minutes=minute))


def test_grants_follow_priority_then_age_then_name() -> None:
    requests = [
        _request("after-hours", 6_000_000, priority=10),
        _request("sales", 6_000_000, priority=50, minute=2),
        _request("real-estate", 3_000_000, priority=50, minute=1),
        _request("healthcare", 9_600_000, priority=100, minute=5),
    ]
    allocation = allocate(20_000_000, 0.1, requests)
    grants = {g.request.name: g.granted for g in allocation.grants}
    assert grants == {
        "healthcare": 9_600_000,
        "real-estate": 3_000_000,
        "sales": 6_000_000,
        "after-hours": 3_400_000,
    }
    assert allocation.pool == 22_000_000
    assert allocation.granted == 22_000_000 and allocation.available == 0
    assert allocation.requested == 24_600_000
    assert allocation.overcommitted
    assert [g.request.name for g in allocation.grants] == [
        "healthcare",
        "real-estate",
        "sales",
        "after-hours",
    ]


def test_ties_break_on_namespace_then_name() -> None:
    requests = [
        TokenRequest("b", "x", 10),
        TokenRequest("a", "z", 10),
        TokenRequest("a", "y", 10),
    ]
    allocation = allocate(25, 0, requests)
    assert [(g.request.namespace, g.request.name, g.granted) for g in allocation.grants] == [
        ("a", "y", 10),
        ("a", "z", 10),
        ("b", "x", 5),
    ]


def test_unknown_creation_time_goes_last_within_its_priority() -> None:
    allocation = allocate(10, 0, [TokenRequest("a", "new", 10), _request("old", 10)])
    assert allocation.grant_for("voice", "old").granted == 10  # type: ignore[union-attr]
    assert allocation.grant_for("a", "new").granted == 0  # type: ignore[union-attr]


def test_removing_a_reservation_frees_its_grant_for_the_next_in_order() -> None:
    requests = [_request("a", 8, priority=2), _request("b", 8, priority=1)]
    assert allocate(10, 0, requests).grant_for("voice", "b").granted == 2  # type: ignore[union-attr]
    assert allocate(10, 0, requests[1:]).grant_for("voice", "b").granted == 8  # type: ignore[union-attr]


def test_pool_uses_exact_overcommit() -> None:
    assert pool_size(20_000_000, 0.1) == 22_000_000
    assert pool_size(3, 0.1) == 3
    assert pool_size(10, 0.15) == 11
