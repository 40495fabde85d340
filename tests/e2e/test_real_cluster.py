"""What only a real API server and real controllers can show (the control plane of `make test`).

Admission (schema, CEL, strict fields) by the server itself, compared with our offline emulation;
the chart installed by helm for every ci/ values file; RBAC enforced on the operator's own
ServiceAccount; pods made Ready by the Deployment and ReplicaSet controllers and kwok; the HPA
controller scaling on custom metrics served by prometheus-adapter; writes counted from the API
server's audit log; Events as events.k8s.io objects.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client.exceptions import ApiException

from e2e.workloads import NAMESPACE, agent, eventually, hpa_path, voice_capacity
from support.client import Client, Sessions
from support.kube_schema import admission_errors
from support.objects import BROKEN, ROOT, Broken, example_documents
from support.paths import path_of
from support.reads import condition, condition_in, ready_pods, status
from support.real_stack import (
    CHART,
    WRITE_VERBS,
    RealStack,
    forbidden_lines,
    helm,
    service_account_kubeconfig,
)
from support.servers import OperatorProcess

CRDS = {
    doc["spec"]["names"]["kind"]: doc
    for doc in (yaml.safe_load(path.read_text()) for path in (ROOT / "crds").glob("*.yaml"))
}


def deployment_path(name: str) -> str:
    return path_of("apps/v1", "deployments", NAMESPACE, name)


def spread(cluster: Client, sessions: Sessions, vertical: str, app: str, total: float) -> int:
    """The traffic generator: `total` calls spread evenly over the workload's real Ready pods."""
    pods = ready_pods(cluster, NAMESPACE, app)
    assert pods, f"{app} has no ready pods to take calls"
    sessions.clear_vertical(NAMESPACE, vertical)
    for pod in pods:
        sessions.set(NAMESPACE, vertical, pod, total / len(pods))
    return len(pods)


def plain_hpa(name: str, app: str, low: int, high: int) -> dict[str, Any]:
    """An HPA that is not voicecap's, on the stand-in agent `app`."""
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app},
            "minReplicas": low,
            "maxReplicas": high,
        },
    }


def replicas(cluster: Client, name: str) -> tuple[int, int]:
    """(spec.replicas, status.readyReplicas) of a Deployment."""
    body = cluster.get(deployment_path(name)) or {}
    return body.get("spec", {}).get("replicas", -1), body.get("status", {}).get("readyReplicas", 0)


def operator_writes(stack: RealStack, since: float) -> list[dict[str, Any]]:
    """Writes the API server recorded from the operator's ServiceAccount since `since`."""
    return [
        event
        for event in stack.operator_requests()
        if event.get("verb") in WRITE_VERBS and _epoch(event["requestReceivedTimestamp"]) >= since
    ]


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


@contextmanager
def operator_stopped(stack: RealStack) -> Iterator[None]:
    """The chart's operator process stopped for a while, then started again (same identity)."""
    stack.operator.stop()
    try:
        yield
    finally:
        stack.operator = stack.start_operator()


# ---- admission: the real server, and our offline emulation of it ------------------------------


def test_the_crds_are_established_and_every_example_is_accepted(
    cluster: Client, stack: RealStack
) -> None:
    for kind in CRDS:
        crd = stack.plane.kubectl("get", "crd", CRDS[kind]["metadata"]["name"], "-o", "yaml")
        conditions = {c["type"]: c["status"] for c in yaml.safe_load(crd)["status"]["conditions"]}
        assert conditions["Established"] == "True", kind
        assert conditions["NamesAccepted"] == "True", kind
    cluster.ensure_namespace(NAMESPACE)
    # the README's stand-in agents for trying the examples on `make cluster-up`
    stack.plane.kubectl("apply", "--dry-run=server", "-f", str(ROOT / "tests/cluster/agents.yaml"))
    stack.plane.kubectl("apply", "--dry-run=server", "-n", NAMESPACE, "-f", str(ROOT / "examples"))


def test_kubectl_explain_describes_the_fields(stack: RealStack) -> None:
    """The real `kubectl explain`, served from the CRD's published OpenAPI."""

    def explain(field: str) -> str:
        return " ".join(stack.plane.kubectl("explain", field).split())  # kubectl wraps lines

    spec = explain("vcap.spec")
    assert "The capacity a vertical declares" in spec
    for field in ("targetRef", "sessions", "replicas", "peaks", "headroom", "forecast", "model"):
        assert field in spec
    assert "this quantile of concurrent sessions" in explain("vcap.spec.forecast.quantile")
    assert "IANA time zone" in explain("vcap.spec.peaks.timeZone")
    assert "(actual - forecast) / forecast" in explain("vcap.status.forecast.lastWindow.errorRatio")
    assert "What is left to grant" in explain("tb.status.available")


def _server_verdict(cluster: Client, body: dict[str, Any]) -> str | None:
    """None when the server would store `body`, else its message (kubectl's strict fields).
    A dry run under a name no other test uses, so "already exists" never answers for it."""
    body = {**body, "metadata": {**body["metadata"], "name": "admission-dry-run"}}
    kind = body["kind"]
    plural = CRDS[kind]["spec"]["names"]["plural"]
    namespace = body["metadata"].get("namespace") if kind == "VoiceCapacity" else None
    path = path_of("voicecap.io/v1alpha1", plural, namespace)
    try:
        cluster.request("POST", f"{path}?dryRun=All&fieldValidation=Strict", body)
    except ApiException as error:
        if error.status not in {400, 422}:  # refused for another reason than the object
            raise
        return str(error.body)
    return None


@pytest.mark.parametrize("case", BROKEN, ids=lambda c: c.id)
def test_the_real_server_and_the_offline_emulation_agree_on_broken_objects(
    cluster: Client, applied: list[dict[str, Any]], case: Broken
) -> None:
    body = case.body()
    body["metadata"]["namespace"] = NAMESPACE
    verdict = _server_verdict(cluster, body)
    offline = admission_errors(CRDS["VoiceCapacity"], body)
    if case.caught_at == "apply":
        assert verdict is not None, f"the server accepted {case.id}"
        assert case.field in verdict, verdict
        assert offline, f"the offline emulation accepted what the server refused: {verdict}"
        assert any(error.startswith(case.field) for error in offline), offline
    else:
        assert verdict is None, f"the server refused {case.id}, caught at reconcile: {verdict}"
        assert offline == [], offline


@pytest.mark.parametrize(("source", "document"), example_documents(), ids=lambda v: str(v)[:40])
def test_the_real_server_and_the_offline_emulation_accept_every_example(
    cluster: Client, applied: list[dict[str, Any]], source: str, document: dict[str, Any]
) -> None:
    assert _server_verdict(cluster, document) is None, source
    if document["kind"] == "VoiceCapacity":
        assert admission_errors(CRDS["VoiceCapacity"], document) == []


# ---- the chart, installed for real -------------------------------------------------------------


@pytest.mark.parametrize("values", sorted((CHART / "ci").glob("*.yaml")), ids=lambda p: p.stem)
def test_the_chart_installs_with_every_ci_values_file(stack: RealStack, values: Path) -> None:
    if "ServiceMonitor" in values.read_text() or "serviceMonitor" in values.read_text():
        stack.plane.kubectl(
            "apply", "--server-side", "-f", str(stack.plane.bin / "monitoring-crds")
        )
    for namespace in (
        yaml.safe_load(values.read_text()).get("operator", {}).get("watchNamespaces", [])
    ):
        stack.plane.kubectl("create", "namespace", namespace, "--dry-run=client", "-o", "yaml")
        stack.plane.kubectl("apply", "-f", "-", stdin=_namespace(namespace))
    release = f"ci-{values.stem.removesuffix('-values')}"
    helm(
        stack.plane, stack.helm_home,
        "install", release, str(CHART), "--namespace", release, "--create-namespace",
        "--values", str(values), "--wait", "--timeout", "90s",
        "--set", "crds.install=false",  # one release per cluster owns them: the suite's
    )  # fmt: skip
    try:
        deployed = yaml.safe_load(
            stack.plane.kubectl("get", "deployment", "-n", release, "-o", "yaml")
        )["items"]
        assert len(deployed) == 1
        replicas = deployed[0]["spec"]["replicas"]  # two, with peering, in every CI file
        assert deployed[0]["status"].get("readyReplicas") == replicas  # kwok ran its pods
    finally:
        helm(stack.plane, stack.helm_home, "uninstall", release, "--namespace", release, "--wait")


def _namespace(name: str) -> str:
    return yaml.safe_dump({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})


def test_a_namespaced_install_reconciles_its_namespace_with_only_its_roles(
    cluster: Client, stack: RealStack, applied: list[dict[str, Any]], tmp_path: Path
) -> None:
    """The namespaced chart's Roles are enough: its operator, watching `voice`, takes over and
    makes no request the API server forbids."""
    release = "scoped"
    for namespace in ("voice-staging",):
        stack.plane.kubectl("apply", "-f", "-", stdin=_namespace(namespace))
    helm(
        stack.plane, stack.helm_home,
        "install", release, str(CHART), "--namespace", release, "--create-namespace",
        "--values", str(CHART / "ci" / "namespaced-values.yaml"),
        "--set", "crds.install=false",  # one release per cluster owns them: the suite's
    )  # fmt: skip
    kubeconfig = service_account_kubeconfig(
        stack.plane, tmp_path / "scoped.kubeconfig", release, f"{release}-voicecap-operator"
    )
    deployed = yaml.safe_load(
        stack.plane.kubectl("get", "deployment", "-n", release, "-o", "yaml")
    )["items"][0]
    chart_args = deployed["spec"]["template"]["spec"]["containers"][0]["args"]
    # the chart's own switches (what its RBAC leaves out); addresses and ports are the test's
    switches = [
        arg
        for arg in chart_args
        if arg.startswith(("--no-", "--peering", "--priority")) or arg == "--standalone"
    ]
    assert "--peering=scoped-voicecap-operator" in switches, chart_args  # its KopfPeerings
    assert "--no-prometheus-rules" in switches, chart_args
    name = "scoped-check"
    cluster.apply(agent(f"{name}-agent"))
    try:
        with operator_stopped(stack):
            scoped = OperatorProcess(
                tmp_path,
                kubeconfig=kubeconfig,
                prometheus_url=stack.plane.prometheus_url,
                interval="1s",
                extra=switches,
                name="scoped-operator",
                namespaces=[NAMESPACE, "voice-staging"],
            )
            try:
                cluster.apply(voice_capacity(name))
                eventually(
                    lambda: (
                        condition(cluster, NAMESPACE, name, "Ready").get("reason") == "Reconciled"
                    ),
                    "the namespaced operator reconciles a new VoiceCapacity",
                )
                assert cluster.get(hpa_path(name)) is not None
                time.sleep(3)  # a few fleet cycles over every object in the namespace
                refused = forbidden_lines([scoped.log_path])
                assert refused == [], "\n".join(refused)
            finally:
                scoped.stop()
    finally:
        cluster.delete(path_of("voicecap.io/v1alpha1", "voicecapacities", NAMESPACE, name))
        cluster.delete(deployment_path(f"{name}-agent"))
        helm(stack.plane, stack.helm_home, "uninstall", release, "--namespace", release)


# ---- real controllers --------------------------------------------------------------------------


def test_every_example_reaches_its_floor_with_ready_pods_and_kubectl_shows_every_column(
    cluster: Client, stack: RealStack, applied: list[dict[str, Any]]
) -> None:
    for doc in applied:
        name, target = doc["metadata"]["name"], doc["spec"]["targetRef"]["name"]
        floor = eventually(
            lambda name=name: status(cluster, NAMESPACE, name).get("replicas", {}).get("floor"),
            f"{name} has a floor",
        )
        eventually(
            lambda target=target, floor=floor: replicas(cluster, target) == (floor, floor),
            f"{target} has {floor} Ready pods (HPA, Deployment and ReplicaSet controllers, kwok)",
            timeout=90,
        )
        assert len(ready_pods(cluster, NAMESPACE, target)) == floor
        eventually(
            lambda name=name, floor=floor: (
                status(cluster, NAMESPACE, name)["replicas"].get("current") == floor
            ),
            f"{name} reports the {floor} ready replicas",
        )
    table = stack.plane.kubectl("get", "vcap", "-A")
    lines = table.splitlines()
    header = lines[0].split()
    assert header == [
        "NAMESPACE", "NAME", "VERTICAL", "MODE", "SESSIONS", "CAPACITY", "UTIL", "FLOOR",
        "CEILING", "REPLICAS", "NEXT-PEAK", "READY", "AGE",
    ]  # fmt: skip
    for doc in applied:
        row = next(line.split() for line in lines[1:] if line.split()[1] == doc["metadata"]["name"])
        assert len(row) == len(header), row
        assert "<none>" not in row, row


def test_the_hpa_scales_on_custom_metrics_from_prometheus_adapter_and_back(
    cluster: Client, sessions: Sessions, stack: RealStack, applied: list[dict[str, Any]]
) -> None:
    """Calls on the real pods reach the HPA through Prometheus and prometheus-adapter: with the
    operator stopped (the floor stays 2), the HPA controller alone scales above the floor on live
    calls and back down to it when they end."""
    name, app = "adapter-check", "adapter-check-agent"
    cluster.apply(agent(app))
    cluster.apply(voice_capacity(name, scaleDown={"stabilization": "0s"}))
    eventually(lambda: replicas(cluster, app) == (2, 2), "two Ready pods at the floor", 90)
    spread(cluster, sessions, name, app, 0)
    hpa = eventually(
        lambda: (
            (h := cluster.get(hpa_path(name)))
            and condition_in(h, "ScalingActive").get("reason") == "ValidMetricFound"
            and h["spec"]["maxReplicas"] == 12
            and h
        ),
        "the HPA reads voice_active_sessions_per_pod through the aggregation layer, and "
        "voicecap gives it the ceiling back (it held it at the floor until then)",
        90,
    )
    assert hpa["spec"]["minReplicas"] == 2
    eventually(  # the status patch follows the HPA patch of the same reconcile
        lambda: condition(cluster, NAMESPACE, name, "HPAMetrics").get("status") == "True",
        "HPAMetrics=True",
    )
    with operator_stopped(stack):
        # 50 per pod is the target: 400 calls over 2 pods want 8
        spread(cluster, sessions, name, app, 400)
        eventually(
            lambda: replicas(cluster, app)[0] >= 6,
            "the HPA scales above the floor on live calls",
            90,
        )
        eventually(lambda: replicas(cluster, app)[1] >= 6, "the new pods become Ready", 90)
        spread(cluster, sessions, name, app, 0)
        eventually(
            lambda: replicas(cluster, app) == (2, 2), "back to the floor when calls end", 120
        )
    cluster.delete(path_of("voicecap.io/v1alpha1", "voicecapacities", NAMESPACE, name))
    cluster.delete(deployment_path(app))
    sessions.clear_vertical(NAMESPACE, name)


def test_a_restarted_operator_with_everything_right_makes_no_write(
    cluster: Client, stack: RealStack, applied: list[dict[str, Any]]
) -> None:
    """Counted by the API server's audit log, by the operator's user, not by our own counters."""
    for doc in applied:
        name = doc["metadata"]["name"]
        eventually(
            lambda name=name: condition(cluster, NAMESPACE, name, "Ready").get("status") == "True",
            f"{name} Ready",
        )
    _clear_of_the_hour()
    eventually(
        lambda: not operator_writes(stack, time.time() - 5), "5 s without a write (settled)", 90
    )
    with operator_stopped(stack):
        pass
    restarted = time.time()
    eventually(lambda: _cycles(stack.operator) >= 5, "five fleet cycles after the restart", 60)
    writes = operator_writes(stack, restarted - 1)
    assert writes == [], [
        (w["verb"], w["objectRef"].get("resource"), w["objectRef"].get("name")) for w in writes
    ]
    assert stack.forbidden() == []


def _clear_of_the_hour(margin: float = 120.0) -> None:
    """Past the next hour if it is near: the hourly calibration writes its new window then, a
    write that is right, but not the restart's."""
    left = 3600 - time.time() % 3600
    if left < margin:
        time.sleep(left + 30)


def _cycles(operator: OperatorProcess) -> float:
    found = re.search(r"^voicecap_cycle_duration_seconds_count (\S+)$", operator.metrics(), re.M)
    return float(found.group(1)) if found else 0.0


def test_another_hpa_on_the_target_is_a_conflicting_autoscaler_reported_once(
    cluster: Client, stack: RealStack, applied: list[dict[str, Any]]
) -> None:
    name, app = "rival-check", "rival-check-agent"
    cluster.apply(agent(app))
    cluster.create(plain_hpa("someone-elses", app, 1, 3))
    cluster.apply(voice_capacity(name))
    eventually(
        lambda: (
            condition(cluster, NAMESPACE, name, "Ready").get("reason") == "ConflictingAutoscaler"
        ),
        "Ready=False ConflictingAutoscaler",
    )
    assert cluster.get(hpa_path(name)) is None, "a second HPA was created"
    time.sleep(5)  # several cycles: the Event is posted on the transition only
    warnings = [
        event
        for event in cluster.items(path_of("events.k8s.io/v1", "events", NAMESPACE))
        if event.get("regarding", {}).get("name") == name
        and event.get("reason") == "ConflictingAutoscaler"
    ]
    assert len(warnings) == 1, warnings
    assert warnings[0]["type"] == "Warning"
    assert (
        warnings[0]["regarding"]["uid"]
        == cluster.get(path_of("voicecap.io/v1alpha1", "voicecapacities", NAMESPACE, name))[
            "metadata"
        ]["uid"]
    )  # type: ignore[index]
    cluster.delete(path_of("voicecap.io/v1alpha1", "voicecapacities", NAMESPACE, name))
    cluster.delete(
        path_of("autoscaling/v2", "horizontalpodautoscalers", NAMESPACE, "someone-elses")
    )
    cluster.delete(deployment_path(app))


# ---- without custom metrics --------------------------------------------------------------------


def test_the_hpa_controller_without_its_metric_enforces_min_but_never_scales_down(
    cluster: Client, applied: list[dict[str, Any]]
) -> None:
    """The reading core/apply/autoscaler.py rests on, checked against the real HPA controller: a plain
    HPA whose Pods metric has no series raises the target to minReplicas, then, with minReplicas
    lowered, leaves it there (FailedGetPodsMetric), sync after sync."""
    app = "plain-hpa-agent"
    cluster.apply(agent(app))
    hpa = plain_hpa("plain-hpa", app, 5, 10)
    hpa["spec"]["metrics"] = [
        {
            "type": "Pods",
            "pods": {
                "metric": {"name": "voice_active_sessions_per_pod"},
                "target": {"type": "AverageValue", "averageValue": "50"},
            },
        }
    ]
    hpa["spec"]["behavior"] = {"scaleDown": {"stabilizationWindowSeconds": 0}}
    path = hpa_path("plain-hpa")
    cluster.create(hpa)
    try:
        eventually(lambda: replicas(cluster, app)[0] == 5, "raised to minReplicas 5", 60)
        cluster.patch(path, {"spec": {"minReplicas": 1}})
        eventually(
            lambda: (
                condition_in(cluster.get(path) or {}, "ScalingActive").get("reason")
                == "FailedGetPodsMetric"
            ),
            "ScalingActive=False FailedGetPodsMetric",
            60,
        )
        time.sleep(10)  # three HPA syncs (3 s in this control plane)
        assert replicas(cluster, app)[0] == 5, "the HPA scaled down without its metric"
    finally:
        cluster.delete(path)
        cluster.delete(deployment_path(app))


def test_without_custom_metrics_the_floor_drives_scale_down(
    cluster: Client, sessions: Sessions, applied: list[dict[str, Any]]
) -> None:
    """The HPA cannot read voice_active_sessions_per_pod for these pods (their calls are counted
    on a pod name prometheus-adapter cannot match), so voicecap holds maxReplicas at the floor:
    the floor follows the calls up, and back down, and says so in HPAMetrics."""
    name, app = "floor-only", "floor-only-agent"
    cluster.apply(agent(app))
    sessions.set(NAMESPACE, name, "gateway-tally", 400)  # 50 per pod planned: floor 8
    cluster.apply(voice_capacity(name, scaleDown={"stabilization": "0s"}))
    try:
        eventually(lambda: replicas(cluster, app) == (8, 8), "8 Ready pods for 400 calls", 90)
        metrics = eventually(
            lambda: (
                (c := condition(cluster, NAMESPACE, name, "HPAMetrics")).get("status") == "False"
                and c
            ),
            "HPAMetrics=False: the HPA cannot read its metric",
            60,
        )
        assert metrics["reason"] == "FloorDrivesScaleDown"
        assert "FailedGetPodsMetric" in metrics["message"]
        assert (cluster.get(hpa_path(name)) or {})["spec"]["maxReplicas"] == 8
        reported = status(cluster, NAMESPACE, name)["hpa"]
        assert reported["maxReplicas"] == 8
        assert {c["type"] for c in reported["conditions"]} >= {"AbleToScale", "ScalingActive"}
        sessions.set(NAMESPACE, name, "gateway-tally", 100)  # floor 2
        eventually(lambda: replicas(cluster, app) == (2, 2), "back to 2 pods with the floor", 90)
        assert (cluster.get(hpa_path(name)) or {})["spec"]["maxReplicas"] == 2
    finally:
        cluster.delete(path_of("voicecap.io/v1alpha1", "voicecapacities", NAMESPACE, name))
        cluster.delete(deployment_path(app))
        sessions.clear_vertical(NAMESPACE, name)
