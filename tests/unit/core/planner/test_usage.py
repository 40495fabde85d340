"""core/planner/usage.py: capacity and utilization of the ready pods (or of the floor while they
are unknown), and the resources sessionCost implies per pod and at the floor."""

from __future__ import annotations

from decimal import Decimal

import pytest

from support.objects import capacity
from voicecap.core.planner.usage import Sizing, Utilization, reported_utilization, resources_at


@pytest.mark.parametrize(
    ("calls", "ready", "expected", "reason"),
    [
        (
            512,
            4,
            Utilization(800, 0.64, "ReadyReplicas"),
            "512 / 800 capacity of ready pods = 0.64",
        ),
        (
            300,
            None,
            Utilization(1000, 0.3, "Floor"),
            "300 / 1000 capacity of the floor (ready pods unknown) = 0.30",
        ),
        (
            20,
            0,
            Utilization(0, None, "ReadyReplicas"),
            "20 sessions and no capacity (0 ready pods)",
        ),
        (None, 4, Utilization(800, None, "ReadyReplicas"), "unknown: no session data"),
    ],
)
def test_utilization_of_the_ready_pods_or_of_the_floor(
    calls: float | None, ready: int | None, expected: Utilization, reason: str
) -> None:
    result = reported_utilization(calls, ready, 5, 200)
    assert (result.value, result.reason) == (expected, reason)


def test_session_cost_times_per_pod_and_the_floor() -> None:
    sized = resources_at(capacity(sessionCost={"cpu": "50m", "memory": "120Mi"}), 3, 200, 10)
    assert sized.cpu_per_pod == Decimal(10)  # 50m x 200 calls
    assert sized.memory_per_pod == Decimal(120 * 2**20 * 200)
    assert sized.cpu_at_floor == Decimal(30)
    assert sized.memory_at_floor == Decimal(3 * 120 * 2**20 * 200)


def test_no_session_cost_no_sizing() -> None:
    assert resources_at(capacity(), 3, 200, 10) == Sizing()


def test_gpus_are_whole_units_per_pod_at_the_floor_and_the_ceiling() -> None:
    cost = {"extended": {"nvidia.com/gpu": "0.05", "example.com/gpu-memory": "0.4"}}
    sized = resources_at(capacity(sessionCost=cost), 3, 30, 10)
    assert sized.extended_per_pod == {"example.com/gpu-memory": 12, "nvidia.com/gpu": 2}
    assert sized.extended_at_floor == {"example.com/gpu-memory": 36, "nvidia.com/gpu": 6}
    assert sized.extended_at_ceiling == {"example.com/gpu-memory": 120, "nvidia.com/gpu": 20}
