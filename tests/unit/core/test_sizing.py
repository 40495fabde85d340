"""core/sizing.py: replica arithmetic in exact rationals, Erlang B, the HPA's tolerance."""

from __future__ import annotations

import pytest

from voicecap.core import sizing


def _erlang_b_from_scipy(slots: int, load: float) -> float:
    """Erlang B as the truncated Poisson distribution: P(N = c) / P(N <= c), N ~ Poisson(A)."""
    from scipy.stats import poisson  # noqa: PLC0415

    return float(poisson.pmf(slots, load) / poisson.cdf(slots, load))


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
