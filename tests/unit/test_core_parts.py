"""Sizing arithmetic, scale-down stabilization, headroom levels and TokenBudget allocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from voicecap.core import sizing
from voicecap.core.headroom import HeadroomState, evaluate
from voicecap.core.stabilization import Recommendation, stabilize
from voicecap.core.tokens import TokenRequest, allocate, pool_size

T0 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("active", "per_pod", "target", "expected"),
    [
        (0, 200, 0.7, 0),
        (1, 200, 0.7, 1),
        (140, 200, 0.7, 1),  # exactly at plan: 140 / 140
        (280, 200, 0.7, 2),  # floats would say 3 (0.7 x 200 = 140.00000000000003)
        (281, 200, 0.7, 3),
        (512, 200, 0.7, 4),  # API.md's example
        (3333, 200, 1.0, 17),
        (0.5, 10, 0.1, 1),
    ],
)
def test_session_replicas(active: float, per_pod: int, target: float, expected: int) -> None:
    assert sizing.session_replicas(active, per_pod, target) == expected


@pytest.mark.parametrize(
    ("calls", "factor", "expected"),
    [
        (600, 1.5, 5),  # 900 slots: the factor is the headroom, sized at perPod (was 8 pods)
        (0, 1.5, 0),
        (140, 1.5, 2),  # 210 slots
        (700, 1.0, 4),
        (100, 2.0, 1),
        (600, 1.3, 4),  # 780 slots
        (1000, 1.5, 8),  # 1,500 slots: exactly 7.5 pods, rounded up
    ],
)
def test_peak_floor_plans_factor_times_the_calls_at_per_pod(
    calls: float, factor: float, expected: int
) -> None:
    assert sizing.peak_floor(calls, 200, factor=factor) == expected


@pytest.mark.parametrize(
    ("active", "previous", "expected"),
    [
        (420, 3, 3),  # 3 pods plan 420 exactly
        (440, 3, 3),  # 440 needs 4 at 140 per pod, but within 10 % of 3 pods' 420: held
        (470, 3, 4),  # beyond the tolerance: 4
        (380, 4, 3),  # 4 pods would carry 418 or more only: down to 3
        (420, 4, 4),  # 420 x 1.1 = 462 would need 4: held
        (420, None, 3),  # nothing to hold
    ],
)
def test_session_replicas_hold_inside_the_hpas_tolerance(
    active: float, previous: int | None, expected: int
) -> None:
    assert sizing.tolerant_session_replicas(active, previous, 200, 0.7) == expected


def _erlang_b_from_scipy(slots: int, load: float) -> float:
    """Erlang B as the truncated Poisson distribution: P(N = c) / P(N <= c), N ~ Poisson(A)."""
    from scipy.stats import poisson  # noqa: PLC0415

    return float(poisson.pmf(slots, load) / poisson.cdf(slots, load))


@pytest.mark.parametrize(
    ("slots", "load"), [(1, 1.0), (5, 2.0), (10, 7.3), (58, 40.0), (470, 420.0), (1100, 1000.0)]
)
def test_erlang_b_agrees_with_an_independent_implementation(slots: int, load: float) -> None:
    assert sizing.erlang_b(slots, load) == pytest.approx(
        _erlang_b_from_scipy(slots, load), rel=1e-9
    )


@pytest.mark.parametrize(
    ("load", "blocking"), [(5.0, 0.001), (40.0, 0.001), (420.0, 0.001), (1000.0, 0.01), (3.2, 0.2)]
)
def test_slots_for_blocking_are_the_fewest_that_meet_the_target(
    load: float, blocking: float
) -> None:
    slots = sizing.slots_for_blocking(load, blocking)
    assert _erlang_b_from_scipy(slots, load) <= blocking
    assert _erlang_b_from_scipy(slots - 1, load) > blocking


def test_blocking_sizing_saves_pods_on_large_loads_and_adds_them_on_small() -> None:
    """Pooled slots are efficient at scale: 1,000 calls at 0.1 % blocking need ~1,080 slots
    where targetUtilization 0.7 plans 1,429; 5 calls need 14 slots where 0.7 plans 8."""
    large = sizing.session_replicas(1000, 100, 0.7, blocking=0.001)
    assert large < sizing.session_replicas(1000, 100, 0.7) == 15
    small = sizing.session_replicas(5, 10, 0.7, blocking=0.001)
    assert small > sizing.session_replicas(5, 10, 0.7) == 1
    assert sizing.peak_floor(600, 200, factor=1.5, blocking=0.001) == 5  # 900 Erlangs
    assert sizing.session_replicas(0, 100, 0.7, blocking=0.001) == 0


@pytest.mark.parametrize(
    ("active", "warning", "expected"),
    [(140, 0.7, 2), (139, 0.7, 1), (0, 0.7, 1), (700, 0.7, 6), (720, 0.9, 5)],
)
def test_headroom_replicas_bring_utilization_strictly_under_warning(
    active: float, warning: float, expected: int
) -> None:
    assert sizing.headroom_replicas(active, 200, warning) == expected
    assert active / (expected * 200) < warning
    if expected > 1:
        assert active / ((expected - 1) * 200) >= warning


def test_tpm_ceiling_from_the_field_example() -> None:
    """20M TPM at 6000 tokens per call-minute serves 3333 concurrent calls."""
    assert sizing.tpm_ceiling_sessions(20_000_000, 6000) == 3333
    assert sizing.pods_for_sessions(3333, 200) == 17
    assert sizing.pods_for_sessions(0, 200) == 0


def test_utilization() -> None:
    assert sizing.utilization(512, 4, 200) == 0.64
    assert sizing.utilization(10, 0, 200) is None


# ------------------------------------------------------------------ stabilization


def test_floor_never_drops_within_the_window() -> None:
    window = timedelta(minutes=10)
    floor, history = stabilize(10, (), window=window, now=T0)
    assert floor == 10
    # 10 stays the recommendation until +5m, so the window runs from +5m to +15m.
    floor, history = stabilize(4, history, window=window, now=T0 + timedelta(minutes=5))
    assert floor == 10
    floor, history = stabilize(
        4, history, window=window, now=T0 + timedelta(minutes=14, seconds=59)
    )
    assert floor == 10
    floor, history = stabilize(4, history, window=window, now=T0 + timedelta(minutes=15))
    assert floor == 4
    assert history == (Recommendation(T0 + timedelta(minutes=5), 4),)


def test_a_steady_recommendation_leaves_the_history_unchanged() -> None:
    """The history lives in status: a cycle that changes nothing must not rewrite it."""
    window = timedelta(minutes=10)
    _, history = stabilize(10, (), window=window, now=T0)
    _, history = stabilize(6, history, window=window, now=T0 + timedelta(minutes=1))
    for minutes in range(2, 11):
        floor, again = stabilize(6, history, window=window, now=T0 + timedelta(minutes=minutes))
        assert (floor, again) == (10, history)


def test_steps_down_through_intermediate_recommendations() -> None:
    window = timedelta(minutes=10)
    _, history = stabilize(10, (), window=window, now=T0)
    _, history = stabilize(7, history, window=window, now=T0 + timedelta(minutes=4))
    floor, history = stabilize(3, history, window=window, now=T0 + timedelta(minutes=11))
    assert floor == 10  # 10 was recommended until +4m: held until +14m
    floor, history = stabilize(3, history, window=window, now=T0 + timedelta(minutes=14))
    assert floor == 7  # 7 was recommended until +11m
    floor, _ = stabilize(3, history, window=window, now=T0 + timedelta(minutes=21))
    assert floor == 3


def test_scaling_up_is_immediate_and_history_stays_short() -> None:
    window = timedelta(minutes=10)
    history: tuple[Recommendation, ...] = ()
    for step in range(100):
        floor, history = stabilize(
            step, history, window=window, now=T0 + timedelta(seconds=15 * step)
        )
        assert floor == step
        assert len(history) == 1  # rising recommendations dominate every earlier one


def test_zero_window_disables_stabilization() -> None:
    floor, history = stabilize(3, (Recommendation(T0, 10),), window=timedelta(0), now=T0)
    assert (floor, history) == (3, ())


# ------------------------------------------------------------------ headroom


def _headroom(utilization: float | None, previous: HeadroomState, minutes: float):  # type: ignore[no-untyped-def]
    return evaluate(
        utilization,
        warning=0.7,
        critical=0.9,
        sustain=timedelta(minutes=10),
        previous=previous,
        now=T0 + timedelta(minutes=minutes),
    )


def test_warning_counts_only_when_sustained() -> None:
    verdict = _headroom(0.75, HeadroomState(), 0)
    assert (verdict.level, verdict.instantaneous) == ("Normal", "Warning")
    verdict = _headroom(0.71, verdict.state, 9.9)
    assert verdict.level == "Normal"
    verdict = _headroom(0.70, verdict.state, 10)  # exactly at warning still counts (>=)
    assert verdict.level == "Warning"


def test_a_dip_under_warning_resets_the_clock() -> None:
    verdict = _headroom(0.8, HeadroomState(), 0)
    verdict = _headroom(0.69, verdict.state, 5)
    verdict = _headroom(0.8, verdict.state, 6)
    assert _headroom(0.8, verdict.state, 15).level == "Normal"
    assert _headroom(0.8, verdict.state, 16).level == "Warning"


def test_critical_needs_its_own_sustained_period() -> None:
    verdict = _headroom(0.8, HeadroomState(), 0)
    verdict = _headroom(0.95, verdict.state, 8)
    verdict = _headroom(0.95, verdict.state, 12)
    assert (verdict.level, verdict.instantaneous) == ("Warning", "Critical")
    assert _headroom(0.95, verdict.state, 18).level == "Critical"


def test_unknown_utilization_keeps_the_clock() -> None:
    """GapKeepsClock: a scrape gap neither resets nor starts the sustained period."""
    verdict = _headroom(0.8, HeadroomState(), 0)
    gap = _headroom(None, verdict.state, 5)
    assert gap.state == verdict.state
    assert _headroom(0.8, gap.state, 10).level == "Warning"
    assert _headroom(None, HeadroomState(), 30).level == "Normal"


# ------------------------------------------------------------------ tokens


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
