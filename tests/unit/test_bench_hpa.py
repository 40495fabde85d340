"""bench/callsim/hpa.py, the call-level benchmark's HPA, against the same cases from Kubernetes'
own controller tests as the product's replay model (tests/support/hpa_cases.py): the yardstick
and the product are written apart and agree with the controller."""

from __future__ import annotations

import sys
from collections import deque

import pytest

from support import hpa_cases
from support.objects import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from callsim.hpa import HPA, UP, Rules, down

NOW = 10_000.0


def rules(given: hpa_cases.Rules | None, default: Rules) -> Rules:
    if given is None:
        return default
    pods, pods_period, percent, percent_period, window = given
    policies = []
    if pods:
        policies.append(("Pods", pods, float(pods_period)))
    if percent:
        policies.append(("Percent", percent, float(percent_period)))
    return Rules(float(window), tuple(policies))


@pytest.mark.parametrize("case", hpa_cases.NORMALIZE, ids=lambda case: case.name)
def test_normalize_as_the_controllers_own_tests(case: hpa_cases.Normalize) -> None:
    hpa = HPA(
        target=1.0,
        stabilization=float(case.down_window),
        startup=0.0,
        pods=case.current,
        up=rules(case.up, UP),
        down_rules=rules(case.down, down(float(case.down_window))),
    )
    hpa.changes = [(NOW - ago, added) for ago, added in case.up_events]
    hpa.recommendations = deque(sorted((NOW - ago, n) for ago, n in case.recommendations))
    got = hpa.normalize(NOW, case.current, case.recommendation, case.minimum, case.maximum)
    assert got == case.expected


@pytest.mark.parametrize("case", hpa_cases.RECOMMEND, ids=lambda case: case.name)
def test_the_metric_recommendation_as_the_replica_calculator(
    case: hpa_cases.Recommend,
) -> None:
    hpa = HPA(target=case.target, stabilization=300.0, startup=0.0, pods=case.current)
    assert hpa.proposal(case.current, case.ready, case.metric) == case.expected


def test_a_new_hpa_seeds_its_window_with_the_replicas_it_found() -> None:
    hpa = HPA(target=140.0, stabilization=300.0, startup=0.0, pods=4)
    hpa.sync(0.0, 200.0, floor=1, ceiling=40)
    assert len(hpa.ready_at) == 4
    hpa.sync(300.0, 200.0, floor=1, ceiling=40)
    assert len(hpa.ready_at) == 2
