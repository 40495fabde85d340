"""`voicecap run` as a real process: a real Prometheus scraping a synthetic session exporter,
and the kmock Kubernetes emulator (with tests/support/kube.py's stamping) as the API.

Each test works in its own namespace so that one operator process serves the module; the tests
that stop Prometheus, restart the operator or shift its clock start their own.
"""

from __future__ import annotations

import copy
import functools
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from support.kube import (
    EmulatedCluster,
    emulated_cluster,
    path_of,
    workload,
)
from support.objects import BASE_CAPACITY, vertical_body
from support.reads import condition, events, hpa, min_replicas, status
from support.servers import (
    OperatorProcess,
    Prometheus,
    SessionExporter,
    scraped,
    wait_until,
)

pytestmark = pytest.mark.integration

INTERVAL = 1.0  # seconds between fleet cycles in these tests
VCAP = "voicecap.io/v1alpha1"


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def cluster() -> Iterator[EmulatedCluster]:
    with emulated_cluster(keda=True) as emulated:
        yield emulated


@pytest.fixture
def own_cluster() -> Iterator[EmulatedCluster]:
    """A cluster of its own, for tests that run their own operator (no second writer)."""
    with emulated_cluster() as emulated:
        yield emulated


def deploy(
    cluster: EmulatedCluster,
    exporter: SessionExporter,
    namespace: str,
    *,
    calls: float,
    ready: int,
    name: str = "healthcare",
    **spec: Any,
) -> None:
    """The set-up most tests share: `calls` live calls on `<name>-agent` with `ready` ready pods,
    and its VoiceCapacity."""
    exporter.set(namespace, name, "p1", calls)
    workload(cluster.client, namespace, f"{name}-agent", ready=ready)
    cluster.client.create(vcap(namespace, name, **spec))


@pytest.fixture
def vertical(cluster: EmulatedCluster, exporter: SessionExporter) -> Callable[..., None]:
    """deploy() on the module's cluster, whose operator is already running."""
    return functools.partial(deploy, cluster, exporter)


@pytest.fixture(scope="module")
def operator(
    cluster: EmulatedCluster, prometheus: Prometheus, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    workdir = tmp_path_factory.mktemp("operator")
    process = OperatorProcess(
        workdir, kubeconfig=cluster.kubeconfig(workdir), prometheus_url=prometheus.url
    )
    yield process
    process.stop()


def vcap(namespace: str, name: str = "healthcare", **spec: Any) -> dict[str, Any]:
    return vertical_body(name, namespace, **spec)


def operator_writes(cluster: EmulatedCluster, since: int = 0) -> list[Any]:
    """Writes by anyone but the tests: the tests write deployments, their status and vcaps."""
    return [
        w
        for w in cluster.writes[since:]
        if w.resource not in {"deployments", "customresourcedefinitions"}
        and w.verb != "delete"
        and not (w.resource == "voicecapacities" and w.verb == "create")
    ]


# ---------------------------------------------------------------- scenarios


def test_apply_creates_an_owned_hpa_with_the_planned_bounds(
    cluster: EmulatedCluster, exporter: SessionExporter, operator: OperatorProcess
) -> None:
    k = cluster.client
    exporter.set("apply", "healthcare", "p1", 300)
    workload(k, "apply", "healthcare-agent", ready=3)
    body = vcap("apply")
    body["metadata"]["labels"] = {
        "app.kubernetes.io/part-of": "voice",
        "app.kubernetes.io/instance": "argo-app",  # Argo CD's tracking label: never copied
    }
    created = k.create(body)

    # 300 sessions / (200 x 0.7) per pod -> 3 pods; ceiling replicas.max 40.
    wait_until(
        lambda: min_replicas(k, "apply", "healthcare") == 3, timeout=15, what="HPA at floor 3"
    )
    found = hpa(k, "apply", "healthcare")
    assert found is not None
    assert found["spec"]["maxReplicas"] == 40
    assert found["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "healthcare-agent",
    }
    assert found["spec"]["metrics"][0]["pods"]["target"]["averageValue"] == "140"
    assert found["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 600
    [owner] = found["metadata"]["ownerReferences"]
    assert owner["uid"] == created["metadata"]["uid"] and owner["controller"] is True
    labels = found["metadata"]["labels"]
    assert labels["app.kubernetes.io/part-of"] == "voice"
    assert "app.kubernetes.io/instance" not in labels

    wait_until(
        lambda: (
            status(k, "apply", "healthcare").get("replicas")
            == {"current": 3, "floor": 3, "ceiling": 40, "sessions": 3}
        ),
        timeout=10,
        what="status replicas",
    )
    current = status(k, "apply", "healthcare")
    assert current["mode"] == "Normal" and current["observedGeneration"] == 1
    assert current["sessions"] == {
        "active": 300,
        "capacity": 600,
        "utilization": 0.5,
        "ceilingSessions": 8000,  # 40 pods x 200
        "ceilingUtilization": 0.037,
    }
    assert condition(k, "apply", "healthcare", "Ready")["reason"] == "Reconciled"
    assert condition(k, "apply", "healthcare", "MetricsAvailable")["status"] == "True"
    assert [e["reason"] for e in events(k, "apply", reason="HPACreated")] == ["HPACreated"]
    # Kopf keeps its bookkeeping under our prefix, and adds no finalizer (F14).
    meta = k.get(path_of(VCAP, "voicecapacities", "apply", "healthcare"))["metadata"]  # type: ignore[index]
    assert not meta.get("finalizers")
    assert all(not key.startswith("kopf.zalando.org") for key in meta.get("annotations", {}))


def test_sessions_rise_and_the_floor_follows_within_two_intervals(
    cluster: EmulatedCluster,
    exporter: SessionExporter,
    operator: OperatorProcess,
    vertical: Callable[..., None],
) -> None:
    k = cluster.client
    vertical("rise", calls=100, ready=2)
    wait_until(lambda: min_replicas(k, "rise", "healthcare") == 2, timeout=15, what="floor 2")

    exporter.set("rise", "healthcare", "p1", 1000)  # ceil(1000 / 140) = 8
    wait_until(
        lambda: status(k, "rise", "healthcare").get("sessions", {}).get("active") == 1000,
        timeout=15,
        what="Prometheus has scraped the new value and the operator read it",
    )
    started = time.monotonic()
    wait_until(
        lambda: min_replicas(k, "rise", "healthcare") == 8, timeout=2 * INTERVAL + 1, what="floor 8"
    )
    assert time.monotonic() - started <= 2 * INTERVAL + 1


def test_sessions_fall_and_the_floor_waits_for_the_stabilization_window(
    cluster: EmulatedCluster,
    exporter: SessionExporter,
    operator: OperatorProcess,
    vertical: Callable[..., None],
) -> None:
    k = cluster.client
    vertical("fall", calls=1000, ready=8, scaleDown={"stabilization": "8s"})
    wait_until(lambda: min_replicas(k, "fall", "healthcare") == 8, timeout=15, what="floor 8")

    exporter.set("fall", "healthcare", "p1", 100)
    wait_until(
        lambda: status(k, "fall", "healthcare").get("sessions", {}).get("active") == 100,
        timeout=15,
        what="the fall is observed",
    )
    seen_low = time.monotonic()
    held = []
    while time.monotonic() - seen_low < 5:  # well inside the 8s window
        held.append(min_replicas(k, "fall", "healthcare"))
        time.sleep(0.25)
    assert set(held) == {8}
    wait_until(
        lambda: min_replicas(k, "fall", "healthcare") == 2, timeout=10, what="floor back to 2"
    )
    assert "stabilization" not in condition(k, "fall", "healthcare", "Ready")["message"]


def test_an_invalid_object_is_reported_and_does_not_stop_the_others(
    cluster: EmulatedCluster, exporter: SessionExporter, operator: OperatorProcess
) -> None:
    k = cluster.client
    exporter.set("mixed", "sales", "p1", 280)
    workload(k, "mixed", "sales-agent", ready=2)
    broken = vcap("mixed", name="broken")
    broken["spec"]["peaks"] = [
        {"name": "p", "schedule": "0 9 * * MON", "duration": "1h", "timeZone": "Mars/Olympus_Mons"}
    ]
    k.create(broken)  # the emulator has no schema validation: this reaches the operator
    k.create(vcap("mixed", name="sales"))

    wait_until(
        lambda: condition(k, "mixed", "broken", "Ready").get("reason") == "InvalidSpec",
        timeout=15,
        what="InvalidSpec",
    )
    ready = condition(k, "mixed", "broken", "Ready")
    assert ready["status"] == "False" and "spec.peaks[0].timeZone" in ready["message"]
    assert hpa(k, "mixed", "broken") is None
    wait_until(lambda: min_replicas(k, "mixed", "sales") == 2, timeout=15, what="sales HPA")

    # No hot loop: the broken object's status is written once, its Event posted once.
    time.sleep(3 * INTERVAL)
    since = len(cluster.writes)
    time.sleep(3 * INTERVAL)
    assert [w for w in operator_writes(cluster, since) if w.name == "broken"] == []
    assert len(events(k, "mixed", reason="InvalidSpec")) == 1

    # Fixing it makes it Ready.
    k.patch(
        path_of(VCAP, "voicecapacities", "mixed", "broken"),
        {
            "spec": {
                "peaks": [
                    {
                        "name": "p",
                        "schedule": "0 9 * * MON",
                        "duration": "1h",
                        "timeZone": "America/New_York",
                    }
                ]
            }
        },
    )
    wait_until(
        lambda: condition(k, "mixed", "broken", "Ready").get("reason") == "TargetNotFound",
        timeout=15,
        what="the fixed object reconciled (its Deployment does not exist)",
    )


def test_paused_computes_and_reports_but_writes_no_children(
    cluster: EmulatedCluster,
    exporter: SessionExporter,
    operator: OperatorProcess,
    vertical: Callable[..., None],
) -> None:
    k = cluster.client
    vertical("paused", calls=700, ready=5, paused=True)
    wait_until(
        lambda: status(k, "paused", "healthcare").get("replicas", {}).get("floor") == 5,
        timeout=15,
        what="planned floor in status",
    )
    assert status(k, "paused", "healthcare")["mode"] == "Paused"
    assert condition(k, "paused", "healthcare", "Ready")["reason"] == "Paused"
    time.sleep(2 * INTERVAL)
    assert hpa(k, "paused", "healthcare") is None

    k.patch(path_of(VCAP, "voicecapacities", "paused", "healthcare"), {"spec": {"paused": False}})
    wait_until(
        lambda: min_replicas(k, "paused", "healthcare") == 5, timeout=15, what="unpaused HPA"
    )


def test_a_missing_target_is_a_condition_until_it_appears(
    cluster: EmulatedCluster, exporter: SessionExporter, operator: OperatorProcess
) -> None:
    k = cluster.client
    exporter.set("missing", "healthcare", "p1", 300)
    k.create(vcap("missing"))
    wait_until(
        lambda: condition(k, "missing", "healthcare", "Ready").get("reason") == "TargetNotFound",
        timeout=15,
        what="TargetNotFound",
    )
    assert (
        "Deployment missing/healthcare-agent not found"
        in condition(k, "missing", "healthcare", "Ready")["message"]
    )
    assert hpa(k, "missing", "healthcare") is None
    assert len(events(k, "missing", reason="TargetNotFound")) == 1

    workload(k, "missing", "healthcare-agent", ready=3)
    wait_until(
        lambda: min_replicas(k, "missing", "healthcare") == 3,
        timeout=15,
        what="HPA once the target exists",
    )
    wait_until(  # the status patch follows the HPA create of the same reconcile
        lambda: condition(k, "missing", "healthcare", "Ready").get("status") == "True",
        timeout=15,
        what="Ready",
    )


def test_another_autoscaler_on_the_target_is_a_conflict_and_no_second_hpa(
    cluster: EmulatedCluster, exporter: SessionExporter, operator: OperatorProcess
) -> None:
    k = cluster.client
    exporter.set("conflict", "healthcare", "p1", 300)
    workload(k, "conflict", "healthcare-agent", ready=3)
    workload(k, "conflict", "sales-agent", ready=3)
    k.create(
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "hand-made", "namespace": "conflict"},
            "spec": {
                "scaleTargetRef": {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": "healthcare-agent",
                },
                "minReplicas": 1,
                "maxReplicas": 5,
            },
        }
    )
    k.create(
        {
            "apiVersion": "keda.sh/v1alpha1",
            "kind": "ScaledObject",
            "metadata": {"name": "keda-sales", "namespace": "conflict"},
            "spec": {"scaleTargetRef": {"name": "sales-agent"}},
        }
    )
    k.create(vcap("conflict"))
    k.create(vcap("conflict", name="sales"))
    for name, other in (
        ("healthcare", "HorizontalPodAutoscaler hand-made"),
        ("sales", "ScaledObject keda-sales"),
    ):
        wait_until(
            lambda name=name: (
                condition(k, "conflict", name, "Ready").get("reason")  # type: ignore[misc]
                == "ConflictingAutoscaler"
            ),
            timeout=15,
            what=f"{name} conflict",
        )
        assert other in condition(k, "conflict", name, "Ready")["message"]
        assert hpa(k, "conflict", name) is None


def test_operator_metrics_follow_the_contract(
    cluster: EmulatedCluster,
    exporter: SessionExporter,
    operator: OperatorProcess,
    vertical: Callable[..., None],
) -> None:
    k = cluster.client
    vertical("metrics", calls=420, ready=4)
    labels = '{namespace="metrics",vertical="healthcare"}'
    wait_until(
        lambda: f"voicecap_active_sessions{labels} 420.0" in operator.metrics(),
        timeout=15,
        what="metrics",
    )
    text = operator.metrics()
    for series, value in {
        "voicecap_capacity_sessions": "800.0",
        "voicecap_utilization_ratio": "0.525",
        "voicecap_floor_replicas": "3.0",
        "voicecap_ceiling_replicas": "40.0",
    }.items():
        assert f"{series}{labels} {value}" in text
    for family in (
        "voicecap_reconcile_duration_seconds_bucket",
        "voicecap_prometheus_query_duration_seconds_bucket",
        "voicecap_cycle_duration_seconds_count",
    ):
        assert family in text
    # One batched query pair per cycle, whatever the number of objects.
    assert 'voicecap_prometheus_query_duration_seconds_count{kind="override"}' not in text

    # Deleting the object removes its series (flat memory, no stale gauges).
    k.delete(path_of(VCAP, "voicecapacities", "metrics", "healthcare"))
    wait_until(
        lambda: f"voicecap_floor_replicas{labels}" not in operator.metrics(),
        timeout=10,
        what="series removed",
    )
    assert hpa(k, "metrics", "healthcare") is None  # garbage-collected through its ownerReference


def test_steady_state_makes_no_writes_and_a_restart_makes_none_either(
    own_cluster: EmulatedCluster, exporter: SessionExporter, prometheus: Prometheus, tmp_path: Path
) -> None:
    cluster = own_cluster
    k = cluster.client
    for name, sessions in (("alpha", 150), ("beta", 900)):
        deploy(cluster, exporter, "steady", calls=sessions, ready=2, name=name)
    first = OperatorProcess(
        tmp_path,
        kubeconfig=cluster.kubeconfig(tmp_path),
        prometheus_url=prometheus.url,
        name="first",
    )
    try:
        wait_until(lambda: min_replicas(k, "steady", "beta") == 7, timeout=15, what="beta floor 7")
        wait_until(
            lambda: min_replicas(k, "steady", "alpha") == 2, timeout=15, what="alpha floor 2"
        )
        time.sleep(3 * INTERVAL)
        since = len(cluster.writes)
        time.sleep(4 * INTERVAL)
        assert [w for w in operator_writes(cluster, since) if w.namespace == "steady"] == []
    finally:
        first.stop(kill=True)  # no graceful shutdown: F5

    since = len(cluster.writes)
    second = OperatorProcess(
        tmp_path,
        kubeconfig=cluster.kubeconfig(tmp_path),
        prometheus_url=prometheus.url,
        name="second",
    )
    try:
        time.sleep(5 * INTERVAL)
        assert [w for w in operator_writes(cluster, since) if w.namespace == "steady"] == []
        hpas = k.items(path_of("autoscaling/v2", "horizontalpodautoscalers", "steady"))
        assert sorted(h["metadata"]["name"] for h in hpas) == ["alpha", "beta"]
    finally:
        second.stop()


def test_prometheus_outage_holds_the_floor_warns_once_and_recovers(
    tmp_path: Path,
) -> None:
    exporter = SessionExporter()
    prometheus = Prometheus(tmp_path, [f"127.0.0.1:{exporter.port}"])
    try:
        with emulated_cluster() as cluster:
            k = cluster.client
            deploy(
                cluster, exporter, "outage", calls=1000, ready=8, scaleDown={"stabilization": "0s"}
            )
            op = OperatorProcess(
                tmp_path, kubeconfig=cluster.kubeconfig(tmp_path), prometheus_url=prometheus.url
            )
            try:
                wait_until(
                    lambda: min_replicas(k, "outage", "healthcare") == 8, timeout=15, what="floor 8"
                )
                lost_before = len(
                    events(k, "outage", reason="MetricsLost")
                )  # 1 if the first cycle beat the first scrape
                restored_before = len(events(k, "outage", reason="MetricsRestored"))
                prometheus.stop()
                wait_until(
                    lambda: (
                        condition(k, "outage", "healthcare", "MetricsAvailable").get("reason")
                        == "PrometheusUnreachable"
                    ),
                    timeout=45,  # after --prometheus-failure-grace (30 s): shorter is a blip
                    what="MetricsAvailable=False",
                )
                time.sleep(4 * INTERVAL)  # several blind cycles
                assert (
                    min_replicas(k, "outage", "healthcare") == 8
                )  # held, even with no stabilization window
                assert status(k, "outage", "healthcare")["mode"] == "Degraded"
                lost = events(k, "outage", reason="MetricsLost")
                assert len(lost) == lost_before + 1
                assert {e["type"] for e in lost} == {"Warning"}

                prometheus = Prometheus(
                    tmp_path, [f"127.0.0.1:{exporter.port}"], port=prometheus.port
                )
                exporter.set("outage", "healthcare", "p1", 100)
                wait_until(
                    lambda: (
                        condition(k, "outage", "healthcare", "MetricsAvailable").get("status")
                        == "True"
                    ),
                    timeout=30,
                    what="metrics back",
                )
                wait_until(
                    lambda: min_replicas(k, "outage", "healthcare") == 2,
                    timeout=15,
                    what="floor follows again",
                )
                assert len(events(k, "outage", reason="MetricsRestored")) == restored_before + 1
                assert len(events(k, "outage", reason="MetricsLost")) == lost_before + 1
            finally:
                op.stop()
    finally:
        prometheus.stop()
        exporter.stop()


def test_a_peak_is_prescaled_before_it_starts(
    own_cluster: EmulatedCluster, exporter: SessionExporter, prometheus: Prometheus, tmp_path: Path
) -> None:
    """Injected clock: Monday 2026-11-23 08:48 in New York, 60x speed (lead time 10m from 08:50)."""
    cluster = own_cluster
    k = cluster.client
    exporter.set("peak", "healthcare", "p1", 100)
    # the lead time starts 2 s after the operator (08:48 at 60x): it must see calls at once
    wait_until(lambda: scraped(prometheus.url, "peak", "healthcare"), timeout=20, what="scraped")
    workload(k, "peak", "healthcare-agent", ready=2)
    body = vcap("peak")
    body["spec"]["peaks"] = copy.deepcopy(BASE_CAPACITY["spec"]["peaks"])  # 600 expected, 1.5x
    k.create(body)
    op = OperatorProcess(
        tmp_path,
        kubeconfig=cluster.kubeconfig(tmp_path),
        prometheus_url=prometheus.url,
        extra=["--clock-start=2026-11-23T08:48:00-05:00", "--clock-speed=60"],
        name="clocked",
    )
    try:
        # ceil(1.5 x 600 / 200) = 5, raised from 08:50, before the 09:00 start.
        wait_until(
            lambda: min_replicas(k, "peak", "healthcare") == 5,
            timeout=20,
            what="pre-scaled floor 5",
        )
        # the reconcile writes the HPA, then the status: read the status that followed
        current = wait_until(
            lambda: (found := status(k, "peak", "healthcare")).get("activePeak") and found,
            timeout=5,
            what="the status of the pre-scale",
        )
        assert current["lastEvaluated"] < "2026-11-23T14:00:00Z"
        assert current["activePeak"] == "monday-morning" and current["mode"] == "Peak"
        assert "lead time" in condition(k, "peak", "healthcare", "PeakActive")["message"]
        # The Event is posted after the status it follows: wait for it, then count exactly one.
        wait_until(lambda: events(k, "peak", reason="PeakEntered"), timeout=5,
                   what="the PeakEntered Event")  # fmt: skip
        assert len(events(k, "peak", reason="PeakEntered")) == 1
    finally:
        op.stop()
