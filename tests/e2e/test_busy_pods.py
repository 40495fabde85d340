"""Busy pods last, on the real control plane: the real HPA, Deployment and ReplicaSet controllers
scale kwok pods down, reading the pod-deletion-cost the operator writes; the chart's RBAC grants
pod patches only with rbac.busyPods. Writes are counted in the API server's audit log."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from e2e.workloads import NAMESPACE, agent, eventually, voice_capacity
from support.client import Client, Sessions
from support.paths import path_of
from support.real_stack import CHART, OPERATOR_USER, RealStack, helm

DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"


def pods(cluster: Client, app: str) -> list[dict[str, Any]]:
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
    cluster: Client, sessions: Sessions, stack: RealStack
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


def hpa_patches(stack: RealStack, since: int, name: str) -> list[float]:
    """When the operator patched HPA `name`, from the audit log."""
    return sorted(
        datetime.fromisoformat(event["stageTimestamp"].replace("Z", "+00:00")).timestamp()
        for event in stack.operator_requests(since)
        if event.get("objectRef", {}).get("resource") == "horizontalpodautoscalers"
        and event["objectRef"].get("name") == name
        and event.get("verb") == "patch"
    )


@contextmanager
def operator_at_the_default_interval(stack: RealStack) -> Iterator[None]:
    """The suite's operator cycles every second; this runs one at the default 15 s instead."""
    stack.operator.stop()
    stack.interval, interval = "15s", stack.interval
    try:
        stack.operator = stack.start_operator()
        yield
    finally:
        stack.operator.stop()
        stack.interval = interval
        stack.operator = stack.start_operator()


def _five_busy_pods(cluster: Client, sessions: Sessions, name: str) -> dict[str, int]:
    """5 ready pods of `<name>-agent` carrying 120, 0, 60, 5 and 200 calls (the issue's case)."""
    cluster.apply(scaled_agent(f"{name}-agent", 5))
    eventually(lambda: sum(map(ready, pods(cluster, f"{name}-agent"))) == 5, "5 ready pods")
    names = sorted(pod["metadata"]["name"] for pod in pods(cluster, f"{name}-agent"))
    calls = dict(zip(names, (120, 0, 60, 5, 200), strict=True))
    for pod, value in calls.items():
        sessions.set(NAMESPACE, name, pod, value)
    return calls


def _ranked_before_lowered(
    cluster: Client, stack: RealStack, name: str, calls: dict[str, int], since: int
) -> None:
    """385 calls at 160 planned per pod: the HPA keeps 3; the two emptiest pods go, and every
    ranking was written before the HPA patch that let them go."""
    eventually(lambda: len(pods(cluster, f"{name}-agent")) == 3, "scaled down to 3 pods", 150)
    survivors = {pod["metadata"]["name"] for pod in pods(cluster, f"{name}-agent")}
    assert survivors == {pod for pod, value in calls.items() if value >= 60}
    ranked = [moment for moment, pod in pod_patches(stack, since) if pod in calls]
    lowered = hpa_patches(stack, since, name)
    assert ranked and lowered, (ranked, lowered)
    assert max(ranked) < lowered[0], "a pod was ranked after the floor came down"
    cluster.delete(path_of("voicecap.io/v1alpha1", "voicecapacities", NAMESPACE, name))
    cluster.delete(path_of("apps/v1", "deployments", NAMESPACE, f"{name}-agent"))


BUSY_SPEC: dict[str, Any] = {
    "sessions": {"perPod": 200, "targetUtilization": 0.8},
    "headroom": {"warning": 0.9, "critical": 0.95},  # above the HPA's band (0.88)
    "scaleDown": {"stabilization": "0s", "protectBusyPods": True},
}


def test_busy_pods_are_ranked_before_the_floor_drops_at_the_default_interval(
    cluster: Client, sessions: Sessions, stack: RealStack
) -> None:
    """replicas.min lowered from 5 to 2, and a peak window's floor of 5 ending, each on 5 pods
    whose floor held all of them (so nothing was ranked before): the operator ranks them before
    it writes the lower floor, at the default --interval of 15 s."""
    cluster.ensure_namespace(NAMESPACE)
    with operator_at_the_default_interval(stack):
        calls = _five_busy_pods(cluster, sessions, "lowered")
        cluster.apply(voice_capacity("lowered", **BUSY_SPEC, replicas={"min": 5, "max": 8}))
        hpa = path_of("autoscaling/v2", "horizontalpodautoscalers", NAMESPACE, "lowered")
        eventually(lambda: (cluster.get(hpa) or {}).get("spec", {}).get("minReplicas") == 5, "5")
        since = len(stack.plane.audit_events())
        cluster.apply(voice_capacity("lowered", **BUSY_SPEC, replicas={"min": 2, "max": 8}))
        _ranked_before_lowered(cluster, stack, "lowered", calls, since)

        calls = _five_busy_pods(cluster, sessions, "ending")
        start = datetime.now(UTC).replace(second=0, microsecond=0)
        ends_in = int((datetime.now(UTC) - start).total_seconds()) + 40
        # Opened at this minute, ends 40 s from now. Open, the factor is capped at
        # 1/targetUtilization: 1.25 x 800 calls = 5 pods of 200.
        window = {
            "name": "now",
            "schedule": f"{start.minute} {start.hour} * * *",
            "duration": f"{ends_in}s",
            "expectedSessions": 800,
        }
        capacity = voice_capacity(
            "ending", **BUSY_SPEC, replicas={"min": 2, "max": 8}, peaks=[window]
        )
        cluster.apply(capacity)
        hpa = path_of("autoscaling/v2", "horizontalpodautoscalers", NAMESPACE, "ending")
        eventually(lambda: (cluster.get(hpa) or {}).get("spec", {}).get("minReplicas") == 5, "5")
        since = len(stack.plane.audit_events())
        _ranked_before_lowered(cluster, stack, "ending", calls, since)


def test_pod_patches_per_cycle_stay_within_the_bound(
    cluster: Client, sessions: Sessions, stack: RealStack
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
            "--set", "crds.install=false",  # --skip-crds skips crds/ only, not templates
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
