"""adapters/workloads.py: a Deployment or StatefulSet as the planner reads it: its ready pods and
its pod template's requests, summed over containers."""

from __future__ import annotations

from decimal import Decimal

from voicecap.adapters.workloads import pod_requests, target_state
from voicecap.core.planner.pod_fit import PodRequests


def deployment(*containers: dict[str, object], ready: int | None = 3) -> dict[str, object]:
    status = {"readyReplicas": ready} if ready is not None else {}
    return {"spec": {"template": {"spec": {"containers": list(containers)}}}, "status": status}


def test_requests_are_summed_over_the_containers() -> None:
    body = deployment(
        {"resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}},
        {"resources": {"requests": {"cpu": 1}}},
        {"name": "no-requests"},
    )
    assert pod_requests(body) == PodRequests(cpu=Decimal("1.5"), memory=Decimal(2**30))


def test_nothing_requested_and_unreadable_quantities_count_as_none() -> None:
    body = deployment({"resources": {"requests": {"cpu": "lots"}}})
    assert pod_requests(body) == PodRequests()
    assert pod_requests({}) == PodRequests()


def test_extended_resources_count_a_limit_given_alone() -> None:
    containers = [
        {"resources": {"limits": {"nvidia.com/gpu": 1, "cpu": "4"}}},  # cpu limit: not a request
        {"resources": {"requests": {"nvidia.com/gpu": "2", "example.com/gpu-memory": "24"}}},
        {"resources": {"requests": {"hugepages-2Mi": "1Gi"}}},  # not per call: ignored
    ]
    body = {"spec": {"template": {"spec": {"containers": containers}}}}
    assert pod_requests(body) == PodRequests(
        extended={"nvidia.com/gpu": Decimal(3), "example.com/gpu-memory": Decimal(24)}
    )


def test_ready_pods_default_to_zero_before_the_controller_reports() -> None:
    assert target_state(deployment(ready=None)).ready == 0
    assert target_state(deployment(ready=5)).ready == 5
