"""core/planner/pod_fit.py: sessionCost x perPod against the target's container requests, GPUs
(extended resources) in the whole units a pod requests."""

from __future__ import annotations

from decimal import Decimal

from voicecap.core.planner.pod_fit import PodRequests, pod_fit
from voicecap.core.planner.usage import Sizing

GI = Decimal(2**30)
GPU = "nvidia.com/gpu"


def sized(cpu: Decimal | None, memory: Decimal | None, **extended: int) -> Sizing:
    return Sizing(cpu_per_pod=cpu, memory_per_pod=memory, extended_per_pod=extended)


def test_requests_that_cover_the_calls() -> None:
    fit = pod_fit(sized(Decimal("10"), 23 * GI), PodRequests(Decimal("12"), 24 * GI), 200)
    assert fit is not None and not fit.undersized
    assert fit.reason == "RequestsCoverCalls"
    assert fit.message == "requests cover 200 calls: cpu 12 of 10, memory 24Gi of 23Gi"


def test_requests_below_the_calls_name_what_is_short() -> None:
    fit = pod_fit(sized(Decimal("10"), 23 * GI), PodRequests(Decimal("0.5"), 24 * GI), 200)
    assert fit is not None and fit.undersized
    assert fit.reason == "RequestsBelowCalls"
    assert fit.message.startswith("cpu requests 500m, 200 calls need 10")
    assert "memory" not in fit.message.split(":")[0]


def test_a_pod_that_requests_nothing() -> None:
    fit = pod_fit(sized(Decimal("10"), None), PodRequests(), 200)
    assert fit is not None and (fit.undersized, fit.reason) == (True, "NoRequests")
    assert "cpu requests nothing" in fit.message


def test_nothing_to_compare_is_no_verdict() -> None:
    assert pod_fit(sized(None, None), PodRequests(Decimal(1), GI), 200) is None  # no sessionCost
    assert pod_fit(sized(Decimal(1), GI), None, 200) is None  # the target is unknown


def test_gpus_are_compared_in_whole_units() -> None:
    needs = Sizing(extended_per_pod={GPU: 2})  # e.g. 30 calls at 0.05 GPU: 1.5, rounded up
    one = pod_fit(needs, PodRequests(extended={GPU: Decimal(1)}), 30)
    assert one is not None and one.undersized and one.reason == "RequestsBelowCalls"
    assert one.message.startswith("nvidia.com/gpu requests 1, 30 calls need 2")
    two = pod_fit(needs, PodRequests(extended={GPU: Decimal(2)}), 30)
    assert two is not None and not two.undersized
    assert two.message == "requests cover 30 calls: nvidia.com/gpu 2 of 2"
    none = pod_fit(needs, PodRequests(cpu=Decimal(4)), 30)
    assert none is not None and none.reason == "NoRequests"
