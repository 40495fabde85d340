"""core/planner/pod_fit.py: sessionCost x perPod against the target's container requests."""

from __future__ import annotations

from decimal import Decimal

from voicecap.core.planner.pod_fit import PodRequests, pod_fit

GI = Decimal(2**30)


def test_requests_that_cover_the_calls() -> None:
    fit = pod_fit(Decimal("10"), 23 * GI, PodRequests(Decimal("12"), 24 * GI), 200)
    assert fit is not None and not fit.undersized
    assert fit.reason == "RequestsCoverCalls"
    assert fit.message == "requests cover 200 calls: cpu 12 of 10, memory 24Gi of 23Gi"


def test_requests_below_the_calls_name_what_is_short() -> None:
    fit = pod_fit(Decimal("10"), 23 * GI, PodRequests(Decimal("0.5"), 24 * GI), 200)
    assert fit is not None and fit.undersized
    assert fit.reason == "RequestsBelowCalls"
    assert fit.message.startswith("cpu requests 500m, 200 calls need 10")
    assert "memory" not in fit.message.split(":")[0]


def test_a_pod_that_requests_nothing() -> None:
    fit = pod_fit(Decimal("10"), None, PodRequests(), 200)
    assert fit is not None and (fit.undersized, fit.reason) == (True, "NoRequests")
    assert "cpu requests nothing" in fit.message


def test_nothing_to_compare_is_no_verdict() -> None:
    assert pod_fit(None, None, PodRequests(Decimal(1), GI), 200) is None  # no sessionCost
    assert pod_fit(Decimal(1), GI, None, 200) is None  # the target is unknown
