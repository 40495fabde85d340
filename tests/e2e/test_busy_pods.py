"""Busy pods last, on the real control plane: the real HPA, Deployment and ReplicaSet controllers
scale kwok pods down, reading the pod-deletion-cost the operator writes; the chart's RBAC grants
pod patches only with rbac.busyPods. Writes are counted in the API server's audit log."""

from __future__ import annotations

import subprocess
import time
from datetime import datetime
from typing import Any

import pytest

from e2e.cluster import Cluster, Sessions, path_of
from e2e.workloads import NAMESPACE, agent, eventually, voice_capacity
from support.real_stack import CHART, OPERATOR_USER, RealStack, helm

DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"


def pods(cluster: Cluster, app: str) -> list[dict[str, Any]]:
    return [
        pod
        for pod in cluster.items(path_of("v1", "pods", NAMESPACE))
        if pod["metadata"].get("labels", {}).get("app") == app
        and not pod["metadata"].get("deletionTimestamp")
    ]


def ready(pod: dict[str, Any]) -> bool:
    return any(
        c["type"] == "Ready" and c["status"] == "True"
        for c in pod.get("status", {}).get("conditions", [])
    )


def scaled_agent(name: str, replicas: int) -> dict[str, Any]:
    body = agent(name)
    body["spec"]["replicas"] = replicas
    return body


def pod_patches(stack: RealStack, since: int) -> list[tuple[float, str]]:
    """(time, pod) of every pod patch by the operator's user, from the audit log."""
    found = []
    for event in stack.operator_requests(since):
        ref = event.get("objectRef", {})
        if ref.get("resource") == "pods" and event.get("verb") == "patch":
            stamp = event["stageTimestamp"].replace("Z", "+00:00")
            found.append((datetime.fromisoformat(stamp).timestamp(), ref.get("name", "")))
    return sorted(found)


def test_a_scale_down_removes_the_emptiest_pods(
    cluster: Cluster, sessions: Sessions, stack: RealStack
) -> None:
    """4 pods with 0, 10, 150 and 150 calls; lowering replicas.min from 4 to 2 lets the HPA
    scale to 2 (310 calls / 200 planned per pod): the two pods with 150 calls survive."""
    cluster.ensure_namespace(NAMESPACE)
    cluster.apply(scaled_agent("busy-agent", 4))
    eventually(lambda: sum(map(ready, pods(cluster, "busy-agent"))) == 4, "4 ready kwok pods")
    names = sorted(pod["metadata"]["name"] for pod in pods(cluster, "busy-agent"))
    calls = dict(zip(names, (0, 10, 150, 150), strict=True))
    for pod, value in calls.items():
        sessions.set(NAMESPACE, "busy", pod, value)
    spec = {
        "sessions": {"perPod": 250, "targetUtilization": 0.8},
        "headroom": {"warning": 0.9, "critical": 0.95},  # above the HPA's band (0.88)
        "replicas": {"min": 4, "max": 8},
        "scaleDown": {"stabilization": "0s", "protectBusyPods": True},
    }
    cluster.apply(voice_capacity("busy", **spec))
    hpa = path_of("autoscaling/v2", "horizontalpodautoscalers", NAMESPACE, "busy")
    eventually(lambda: (cluster.get(hpa) or {}).get("spec", {}).get("minReplicas") == 4, "HPA")
    cluster.apply(voice_capacity("busy", **{**spec, "replicas": {"min": 2, "max": 8}}))
    eventually(lambda: len(pods(cluster, "busy-agent")) == 2, "scaled down to 2 pods", 120)
    survivors = {pod["metadata"]["name"] for pod in pods(cluster, "busy-agent")}
    assert survivors == {pod for pod, value in calls.items() if value == 150}
    for pod in pods(cluster, "busy-agent"):
        assert pod["metadata"]["annotations"][DELETION_COST] == "2"  # dense rank: 0, 10, 150
    assert stack.forbidden() == []


def test_pod_patches_per_cycle_stay_within_the_bound(
    cluster: Cluster, sessions: Sessions, stack: RealStack
) -> None:
    """200 pods, each with 140 calls so the HPA keeps all 200, while the vertical's own query
    says 10 calls (floor 1): the workload can shrink, so every pod wants an annotation; at most
    10 patches go per cycle (podPatchesPerCycle), in bursts a cycle apart."""
    cluster.apply(scaled_agent("crowd-agent", 200))
    eventually(lambda: sum(map(ready, pods(cluster, "crowd-agent"))) == 200, "200 pods", 180)
    for pod in pods(cluster, "crowd-agent"):
        sessions.set(NAMESPACE, "crowd", pod["metadata"]["name"], 140)
    since = len(stack.plane.audit_events())
    cluster.apply(
        voice_capacity(
            "crowd",
            sessions={"perPod": 200, "targetUtilization": 0.7, "query": "vector(10)"},
            replicas={"min": 1, "max": 250},
            scaleDown={"stabilization": "10m", "protectBusyPods": True, "podPatchesPerCycle": 10},
        )
    )

    def annotated() -> int:
        return sum(
            1
            for pod in pods(cluster, "crowd-agent")
            if (pod["metadata"].get("annotations") or {}).get(DELETION_COST) == "0"
        )

    eventually(lambda: annotated() >= 40, "40 pods ranked", 120)
    patches = pod_patches(stack, since)
    bursts: list[list[str]] = []
    last = -1.0
    for moment, pod in patches:
        if moment - last > 0.5:  # cycles are a second apart; a cycle's patches take ms
            bursts.append([])
        bursts[-1].append(pod)
        last = moment
    assert len(bursts) >= 4
    assert max(map(len, bursts)) <= 10, [len(burst) for burst in bursts]
    assert len(pods(cluster, "crowd-agent")) == 200, "the HPA kept every pod"
    cluster.delete(path_of("voicecap.io/v1alpha1", "voicecapacities", NAMESPACE, "crowd"))
    cluster.delete(path_of("apps/v1", "deployments", NAMESPACE, "crowd-agent"))
    sessions.clear_vertical(NAMESPACE, "crowd")


@pytest.mark.parametrize("enabled", [True, False])
def test_the_chart_grants_pod_patches_only_with_rbac_busy_pods(
    stack: RealStack, enabled: bool
) -> None:
    """The suite's release has rbac.busyPods=true; a second release without it may not."""
    user = OPERATOR_USER
    if not enabled:
        release, namespace = "no-busy", "no-busy-system"
        helm(
            stack.plane, stack.helm_home, "upgrade", "--install", release, str(CHART),
            "--namespace", namespace, "--create-namespace", "--skip-crds",
        )  # fmt: skip
        user = f"system:serviceaccount:{namespace}:{release}"
        time.sleep(1)  # the authorizer's cache of the new bindings
    # `kubectl auth can-i` answers "no" on stdout with exit code 1: run it directly
    answer = subprocess.run(
        [str(stack.plane.bin / "kubectl"), f"--kubeconfig={stack.plane.kubeconfig}", "auth",
         "can-i", "patch", "pods", "-n", NAMESPACE, f"--as={user}"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert answer.stdout.strip() == ("yes" if enabled else "no"), answer.stderr
