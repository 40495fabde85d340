"""Cases from Kubernetes' own HPA controller tests (pkg/controller/podautoscaler/horizontal_test.go,
TestScalingWithRules and TestNormalizeDesiredReplicas; replica_calculator.go's rules for a Pods
metric), with which both HPA models are checked: the product's replay model
(core/replay/hpa_model.py) and the call-level benchmark's (bench/callsim/hpa.py).

Times are seconds before the decision; rules are generateScalingRules(pods, podsPeriod, percent,
percentPeriod, stabilizationWindow) as the Go test writes them (None: the API's default).
"""

from __future__ import annotations

from dataclasses import dataclass

Rules = tuple[int, int, int, int, int]  # pods, pods period, percent, percent period, window


@dataclass(frozen=True)
class Normalize:
    """normalizeDesiredReplicasWithBehaviors: a recommendation made, the replicas set."""

    name: str
    current: int
    recommendation: int
    minimum: int
    maximum: int
    expected: int
    up: Rules | None = None
    down: Rules | None = None
    up_events: tuple[tuple[float, int], ...] = ()  # (seconds ago, pods added)
    recommendations: tuple[tuple[float, int], ...] = ()  # (seconds ago, recommendation)
    down_window: int = 300


def uniform(changes: list[int], period: int) -> tuple[tuple[float, int], ...]:
    """generateEventsUniformDistribution: the changes spread evenly over the last `period` s."""
    segment = period / len(changes)
    return tuple(
        (period - segment * (index + 1) + segment / 2, change)
        for index, change in enumerate(changes)
    )


NORMALIZE = [
    Normalize("prenormalized desired replicas within range", 5, 7, 3, 8, 7),
    Normalize("prenormalized desired replicas < minReplicas", 3, 1, 2, 8, 2),
    Normalize("within range when minReplicas is 0", 1, 0, 0, 10, 0),
    Normalize("maxReplicas is the limit because maxReplicas < scaleUpLimit", 20, 1000, 1, 10, 10),
    Normalize("desired replica count is more than the maximum", 100, 1000, 100, 150, 150),
    Normalize(
        "scaleUpLimit < maxReplicas with user policies", 3, 1000, 1, 2000, 4, up=(0, 0, 1, 60, 0)
    ),
    Normalize(
        "scaleDownLimit > minReplicas with user policies",
        1000,
        3,
        3,
        2000,
        980,
        down=(20, 60, 0, 0, 0),
    ),
    Normalize("scaleUp with default behavior", 10, 50, 1, 1000, 20),
    Normalize(
        "scaleUp with pods policy larger than percent policy",
        10,
        500,
        1,
        1000,
        110,
        up=(100, 60, 100, 60, 0),
    ),
    Normalize(
        "scaleUp with percent policy larger than pods policy",
        10,
        500,
        1,
        1000,
        20,
        up=(2, 60, 100, 60, 0),
    ),
    Normalize("scaleUp with pod policy limitation", 10, 50, 1, 1000, 40, up=(30, 60, 0, 0, 0)),
    Normalize("scaleUp with percent policy limitation", 10, 50, 1, 1000, 30, up=(0, 0, 200, 60, 0)),
    Normalize(
        "scaleDown with percent policy larger than pod policy",
        100,
        2,
        1,
        1000,
        80,
        down=(20, 60, 1, 60, 300),
    ),
    Normalize(
        "scaleDown with pod policy larger than percent policy",
        100,
        2,
        1,
        1000,
        98,
        down=(2, 60, 1, 60, 300),
    ),
    Normalize(
        "scaleDown with spec MinReplicas limitation with large percent policy",
        10,
        2,
        5,
        1000,
        5,
        down=(0, 0, 100, 60, 300),
    ),
    Normalize("scaleDown with pod policy limitation", 10, 2, 1, 1000, 5, down=(5, 60, 0, 0, 300)),
    Normalize(
        "scaleDown with percent policy limitation", 10, 5, 1, 1000, 5, down=(0, 0, 50, 60, 300)
    ),
    Normalize(
        "scaleUp with spec MaxReplicas limitation with large pod policy and events",
        100,
        500,
        1,
        200,
        200,
        up=(300, 60, 0, 0, 0),
        up_events=uniform([1, 5, 9], 120),
    ),
    Normalize(
        "scaleUp with currentReplicas limitation with a lot of recent scale up events",
        100,
        500,
        1,
        1000,
        100,
        up=(5, 120, 0, 0, 0),
        up_events=uniform([1, 5, 9], 120),
    ),
    Normalize(
        "scaleUp with pod policy and previous scale up events",
        100,
        500,
        1,
        1000,
        235,
        up=(150, 120, 0, 0, 0),
        up_events=uniform([1, 5, 9], 120),
    ),
    # TestNormalizeDesiredReplicas: the scale-down window (5 minutes) over past recommendations
    Normalize("empty log", 5, 5, 1, 100, 5),
    Normalize("stabilize", 6, 3, 1, 100, 5, recommendations=((120, 4), (60, 5))),
    Normalize("no stabilize", 6, 3, 1, 100, 3, recommendations=((120, 1), (60, 2))),
    Normalize(
        "no stabilize - old recommendations",
        6,
        3,
        1,
        100,
        3,
        recommendations=((600, 10), (540, 9)),
    ),
    Normalize(
        "stabilize - old recommendations",
        6,
        3,
        1,
        100,
        5,
        recommendations=((600, 10), (60, 4), (120, 5), (540, 9)),
    ),
]


@dataclass(frozen=True)
class Recommend:
    """calcPlainMetricReplicas for a Pods metric: `metric` is summed over the ready pods."""

    name: str
    current: int
    ready: int
    metric: float
    target: float
    expected: int | None  # None: no decision (no metric for any ready pod)


RECOMMEND = [
    # TestReplicaCalcScaleUpCM: 20, 10 and 30 against 15 a pod
    Recommend("scale up", 3, 3, 60.0, 15.0, 4),
    # TestReplicaCalcScaleDownCM: 12, 12 and 12... against 20 a pod
    Recommend("scale down", 5, 5, 60.0, 20.0, 3),
    Recommend("within the tolerance", 3, 3, 47.0, 15.0, 3),  # 1.044
    Recommend("just past the tolerance", 3, 3, 50.0, 15.0, 4),  # 1.111
    # a scale-up with 2 pods still starting: they count as carrying nothing
    Recommend("scale up, pending pods at zero", 5, 3, 90.0, 15.0, 6),
    # with them at zero the ratio falls under 1: a change of direction, no scale
    Recommend("pending pods turn a scale-up around", 6, 3, 50.0, 15.0, 6),
    # a scale-down leaves the starting pods out
    Recommend("scale down, pending pods left out", 5, 3, 15.0, 15.0, 1),
    Recommend("no ready pod has the metric", 3, 0, 0.0, 15.0, None),
]
