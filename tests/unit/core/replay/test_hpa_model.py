"""core/replay/hpa_model.py: the replay's model of Kubernetes' HPA controller, checked against
cases from the controller's own unit tests (tests/support/hpa_cases.py), and what the replay
adds around it: pods ready after their start-up, not-ready pods removed first."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, timedelta

import pytest

from support import hpa_cases
from support.objects import capacity
from voicecap.api.base import HPA_SYNC
from voicecap.core.replay.hpa_model import (
    HPAController,
    ScalingPolicy,
    ScalingRules,
    SimulatedHPA,
    default_scale_down,
    default_scale_up,
    hpa_for,
)

T0 = datetime(2026, 11, 23, 14, tzinfo=UTC)
STARTUP = timedelta(minutes=3)


def rules(given: hpa_cases.Rules | None, default: ScalingRules) -> ScalingRules:
    if given is None:
        return default
    pods, pods_period, percent, percent_period, window = given
    policies = []
    if pods:
        policies.append(ScalingPolicy("Pods", pods, timedelta(seconds=pods_period)))
    if percent:
        policies.append(ScalingPolicy("Percent", percent, timedelta(seconds=percent_period)))
    return ScalingRules(timedelta(seconds=window), tuple(policies))


@pytest.mark.parametrize("case", hpa_cases.NORMALIZE, ids=lambda case: case.name)
def test_normalize_as_the_controllers_own_tests(case: hpa_cases.Normalize) -> None:
    down_window = timedelta(seconds=case.down_window)
    controller = HPAController(
        scale_up=rules(case.up, default_scale_up()),
        scale_down=rules(case.down, default_scale_down(down_window)),
    )
    controller.up_events = [(T0 - timedelta(seconds=ago), n) for ago, n in case.up_events]
    controller.recommendations = deque(
        sorted((T0 - timedelta(seconds=ago), n) for ago, n in case.recommendations)
    )
    got = controller.normalize(T0, case.current, case.recommendation, case.minimum, case.maximum)
    assert got == case.expected


@pytest.mark.parametrize("case", hpa_cases.RECOMMEND, ids=lambda case: case.name)
def test_the_metric_recommendation_as_the_replica_calculator(
    case: hpa_cases.Recommend,
) -> None:
    got = HPAController().metric_recommendation(case.current, case.ready, case.metric, case.target)
    assert got == case.expected


def running(pods: int, window: timedelta = timedelta(minutes=5)) -> SimulatedHPA:
    hpa = SimulatedHPA(140.0, HPAController(scale_down=default_scale_down(window)))
    hpa.ready_at = [T0 - timedelta(hours=1)] * pods
    return hpa


def test_not_ready_pods_go_first_and_a_zero_window_scales_down_at_once() -> None:
    hpa = running(2, window=timedelta(0))
    hpa.sync(T0, 700.0, floor=1, ceiling=40, startup=STARTUP)  # 3 new pods, not ready yet
    hpa.sync(T0 + HPA_SYNC, 140.0, floor=1, ceiling=40, startup=STARTUP)  # wants 1
    assert hpa.ready_at == [T0 - timedelta(hours=1)]


def test_without_a_metric_it_decides_nothing_but_the_bounds_still_hold() -> None:
    hpa = running(6)
    hpa.sync(T0, None, floor=1, ceiling=40, startup=STARTUP)
    assert hpa.pods == 6
    hpa.sync(T0 + HPA_SYNC, None, floor=1, ceiling=4, startup=STARTUP)
    assert hpa.pods == 4  # above maxReplicas: set to it at once, metric or not


def test_a_new_hpa_seeds_its_window_with_the_replicas_it_found() -> None:
    """recordInitialRecommendation: a fresh HPA does not scale down within its window."""
    hpa = running(4)
    hpa.sync(T0, 200.0, floor=1, ceiling=40, startup=STARTUP)
    assert hpa.pods == 4
    hpa.sync(T0 + timedelta(minutes=5), 200.0, floor=1, ceiling=40, startup=STARTUP)
    assert hpa.pods == 2


def test_a_falling_floor_is_not_held_a_second_time_by_the_window() -> None:
    """The recommendation kept is the metric's, not min(max(it, minReplicas), max): when
    voicecap lowers minReplicas the HPA follows the calls at once (the controller's order)."""
    hpa = running(8)
    for k in range(21):  # 5 minutes at 8 pods held by a floor of 8, calls for 2
        hpa.sync(T0 + k * HPA_SYNC, 200.0, floor=8, ceiling=40, startup=STARTUP)
    assert hpa.pods == 8
    hpa.sync(T0 + 21 * HPA_SYNC, 200.0, floor=2, ceiling=40, startup=STARTUP)
    assert hpa.pods == 2


def test_every_strategy_runs_the_spec_target_and_stabilization() -> None:
    hpa = hpa_for(capacity(scaleDown={"stabilization": "15m"}))
    assert hpa.target_per_pod == 140.0
    assert hpa.controller.scale_down.stabilization == timedelta(minutes=15)
    blocking = hpa_for(
        capacity(sessions={"perPod": 200, "targetUtilization": 0.7, "blockingTarget": 0.01})
    )
    assert blocking.target_per_pod == 200.0  # a backstop for full pods: Erlang B sizes the floor


def test_an_external_metric_is_read_as_keda_makes_it_and_the_larger_recommendation_wins() -> None:
    """GetExternalPerPodMetricReplicas: ceil(value / AverageValue), unless within the
    tolerance of the current replicas; the controller takes the larger of the two metrics."""
    controller = HPAController()
    assert controller.external_recommendation(2, 700.0, 140.0) == 5
    assert controller.external_recommendation(5, 720.0, 140.0) == 5  # 1.03: within 10 %
    assert controller.external_recommendation(2, None, 140.0) is None
    hpa = running(2)
    hpa.sync(T0, 100.0, floor=1, ceiling=40, startup=STARTUP, external=700.0)
    assert hpa.pods == 5  # last week's calls, though the live metric wants 1
    hpa = running(2)
    hpa.sync(T0, 1400.0, floor=1, ceiling=40, startup=STARTUP, external=100.0)
    assert hpa.pods == 6  # the live metric's 10, limited to +4 pods in 15 s
    hpa = running(3)
    hpa.sync(T0, None, floor=1, ceiling=40, startup=STARTUP, external=1400.0)
    assert hpa.pods == 7  # no live metric: the external one still decides
