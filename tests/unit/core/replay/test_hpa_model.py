"""core/replay/hpa_model.py: the replay's model of Kubernetes' HPA controller: tolerance, the
default scale-up policy, the scale-down window, a missing metric, and pods ready after start-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from support.objects import capacity
from voicecap.core.replay.hpa_model import HPA_SYNC, SimulatedHPA, hpa_for

T0 = datetime(2026, 11, 23, 14, tzinfo=UTC)
STARTUP = timedelta(minutes=3)
START = datetime(2026, 11, 23, 13, 30, tzinfo=UTC)
STEP = timedelta(minutes=1)


def running(
    pods: int, target: float = 140.0, window: timedelta = timedelta(minutes=5)
) -> SimulatedHPA:
    hpa = SimulatedHPA(target, window)
    hpa.ready_at = [T0 - timedelta(hours=1)] * pods
    return hpa


def test_not_ready_pods_go_first_and_a_zero_window_scales_down_at_once() -> None:
    hpa = running(2, window=timedelta(0))
    hpa.sync(T0, 700.0, floor=1, ceiling=40, startup=STARTUP)  # 3 new pods, not ready yet
    hpa.sync(T0 + HPA_SYNC, 280.0, floor=1, ceiling=40, startup=STARTUP)
    assert hpa.ready_at == [T0 - timedelta(hours=1)] * 2


def test_without_a_metric_it_keeps_its_replicas_within_floor_and_ceiling() -> None:
    hpa = running(6)
    hpa.sync(T0, None, floor=1, ceiling=40, startup=STARTUP)
    assert hpa.pods == 6
    hpa.sync(T0 + HPA_SYNC, None, floor=1, ceiling=4, startup=STARTUP)
    assert hpa.pods == 4


def test_every_strategy_runs_the_spec_target_and_stabilization() -> None:
    hpa = hpa_for(capacity(scaleDown={"stabilization": "15m"}))
    assert (hpa.target_per_pod, hpa.scale_down_window) == (140.0, timedelta(minutes=15))
    blocking = hpa_for(
        capacity(sessions={"perPod": 200, "targetUtilization": 0.7, "blockingTarget": 0.01})
    )
    assert blocking.target_per_pod == 200.0  # a backstop for full pods: Erlang B sizes the floor


# Monday 2026-11-23: 08:30 New York; the healthcare peak opens at 09:00 (14:00 UTC).


@pytest.mark.parametrize(
    ("calls", "pods", "expected"),
    [
        (420, 3, 3),  # usage 1.0: held
        (460, 3, 3),  # usage 1.095: inside the 10 % tolerance
        (470, 3, 4),  # 1.12: out of it
        (380, 3, 3),  # 0.905: inside
        (370, 3, 3),  # 0.88: out of it, wants 3 (ceil(370/140)) anyway
        (200, 4, 2),  # 0.36: down to 2
    ],
)
def test_the_hpa_model_keeps_its_tolerance_and_stabilization(
    calls: float, pods: int, expected: int
) -> None:
    hpa = SimulatedHPA(140.0, ready_at=[START] * pods)
    hpa.sync(START, calls, floor=1, ceiling=40, startup=timedelta(0))
    assert hpa.pods == expected


def test_the_hpa_model_scales_down_to_the_highest_recommendation_of_its_window() -> None:
    hpa = SimulatedHPA(140.0, timedelta(minutes=5), ready_at=[START] * 4)
    hpa.sync(START, 560, floor=1, ceiling=40, startup=timedelta(0))
    hpa.sync(START + timedelta(minutes=4), 200, floor=1, ceiling=40, startup=timedelta(0))
    assert hpa.pods == 4  # 4 was recommended 4 minutes ago
    hpa.sync(START + timedelta(minutes=5), 200, floor=1, ceiling=40, startup=timedelta(0))
    assert hpa.pods == 2


def test_the_hpa_model_scales_up_by_its_default_policy() -> None:
    """max(+100 %, +4 pods) per 15 s: from 1 pod to 20 takes 3 syncs (5, 10, 20)."""
    hpa = SimulatedHPA(140.0, ready_at=[START])
    sizes = []
    for index in range(3):
        hpa.sync(START + index * timedelta(seconds=15), 2800, floor=1, ceiling=40, startup=STEP)
        sizes.append(hpa.pods)
    assert sizes == [5, 10, 20]
    assert hpa.ready(START + timedelta(seconds=30)) == 1  # new pods are ready after start-up


def test_unknown_calls_hold_the_replicas() -> None:
    hpa = SimulatedHPA(140.0, ready_at=[START] * 6)
    hpa.sync(START, None, floor=1, ceiling=40, startup=STEP)
    assert hpa.pods == 6
