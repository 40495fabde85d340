"""The operator enforcing headroom, TPM budgets and alert rules, as a real process on the emulator.

Each test runs its own cluster and operator (budgets are cluster-wide, and one test installs
prometheus-operator's CRD half-way); sessions come from the module's real Prometheus.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from support.client import Client
from support.kube import (
    PROMETHEUS_RULE_CRD,
    EmulatedCluster,
    deployment,
    emulated_cluster,
    path_of,
)
from support.objects import vertical_body
from support.reads import condition
from support.servers import OperatorProcess, Prometheus, SessionExporter, wait_until

pytestmark = pytest.mark.integration

VCAP = "voicecap.io/v1alpha1"
POOL = 20_000_000
RESERVED = 4_800_000


@pytest.fixture
def running(
    prometheus: Prometheus, tmp_path: Path
) -> Iterator[tuple[EmulatedCluster, OperatorProcess]]:
    with emulated_cluster(prometheus_operator=True) as cluster:
        operator = OperatorProcess(
            tmp_path, kubeconfig=cluster.kubeconfig(tmp_path), prometheus_url=prometheus.url
        )
        try:
            yield cluster, operator
        finally:
            operator.stop()


def vcap(namespace: str, name: str, **spec: Any) -> dict[str, Any]:
    return vertical_body(name, namespace, **spec)


def workload(k: Client, namespace: str, name: str, ready: int) -> None:
    k.create(deployment(namespace, name))
    k.patch(
        path_of("apps/v1", "deployments", namespace, name) + "/status",
        {"status": {"readyReplicas": ready}},
    )


def reasons(k: Client, namespace: str) -> list[str]:
    return [e.get("reason") for e in k.items(path_of("events.k8s.io/v1", "events", namespace))]


# ---------------------------------------------------------------- headroom


def test_scale_up_raises_the_floor_and_the_ceiling_says_which_limit(
    running: tuple[EmulatedCluster, OperatorProcess], exporter: SessionExporter
) -> None:
    cluster, _ = running
    k = cluster.client
    # 180 calls on 2 ready pods of 100: 90 % utilization, above the 0.7 warning. Planned 60 per
    # pod -> 3 replicas for the sessions (no HPA controller here to say it follows them), and
    # restoring headroom (< 70 %) needs 3 too.
    exporter.set("headroom", "care", "p1", 180)
    workload(k, "headroom", "care-agent", ready=2)
    k.create(
        vcap(
            "headroom",
            "care",
            sessions={"perPod": 100, "targetUtilization": 0.6},
            replicas={"min": 1, "max": 2},
            headroom={"warning": 0.7, "critical": 0.95, "for": "2s", "action": "ScaleUp"},
        )
    )
    wait_until(
        lambda: condition(k, "headroom", "care", "HeadroomLow").get("reason") == "Warning",
        timeout=20,
        what="HeadroomLow Warning once sustained for 2s",
    )
    limited = wait_until(
        lambda: condition(k, "headroom", "care", "CapacityLimited"),
        timeout=10,
        what="CapacityLimited",
    )
    assert (limited["status"], limited["reason"]) == ("True", "MaxReplicas")
    assert "wants 3 replicas, ceiling 2" in limited["message"]
    wait_until(
        lambda: {"HeadroomWarning", "CapacityLimited"} <= set(reasons(k, "headroom")),
        timeout=10,
        what="HeadroomWarning and CapacityLimited Events",
    )

    k.patch(
        path_of(VCAP, "voicecapacities", "headroom", "care"), {"spec": {"replicas": {"max": 10}}}
    )
    hpa_path = path_of("autoscaling/v2", "horizontalpodautoscalers", "headroom", "care")
    wait_until(
        lambda: (k.get(hpa_path) or {}).get("spec", {}).get("minReplicas") == 3,
        timeout=15,
        what="the headroom floor of 3 on the HPA",
    )
    wait_until(
        lambda: condition(k, "headroom", "care", "CapacityLimited").get("status") == "False",
        timeout=10,
        what="CapacityLimited cleared",
    )
    assert "CapacityRestored" in reasons(k, "headroom")


# ---------------------------------------------------------------- alert rules


def test_rules_move_from_a_configmap_to_a_prometheusrule_when_prometheus_operator_appears(
    running: tuple[EmulatedCluster, OperatorProcess],
) -> None:
    cluster, _ = running
    k = cluster.client
    workload(k, "rules", "care-agent", ready=2)
    k.create(vcap("rules", "care", headroom={"ruleLabels": {"prometheus": "voice"}}))
    config_map = path_of("v1", "configmaps", "rules", "voicecap-care-rules")
    wait_until(lambda: k.get(config_map), timeout=20, what="the rule ConfigMap")
    applied = wait_until(
        lambda: condition(k, "rules", "care", "RulesApplied"), timeout=10, what="RulesApplied"
    )
    assert (applied["status"], applied["reason"]) == ("True", "ConfigMap")

    k.create(PROMETHEUS_RULE_CRD)  # prometheus-operator is installed
    rule_path = path_of("monitoring.coreos.com/v1", "prometheusrules", "rules", "voicecap-care")
    rule = wait_until(lambda: k.get(rule_path), timeout=20, what="the PrometheusRule")
    assert rule["metadata"]["labels"]["prometheus"] == "voice", "ruleLabels match a ruleSelector"
    assert rule["spec"]["groups"][0]["name"] == "voicecap.rules.care"
    wait_until(lambda: k.get(config_map) is None, timeout=20, what="the ConfigMap removed")
    wait_until(
        lambda: condition(k, "rules", "care", "RulesApplied").get("reason") == "PrometheusRule",
        timeout=10,
        what="RulesApplied PrometheusRule",
    )


# ---------------------------------------------------------------- TPM budgets


class GrantWatcher:
    """Polls every VoiceCapacity's granted TPM while a test runs; remembers the largest sum."""

    def __init__(self, k: Client, namespace: str) -> None:
        self._k, self._namespace = k, namespace
        self.largest = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            items = self._k.items(path_of(VCAP, "voicecapacities", self._namespace))
            total = sum(((i.get("status") or {}).get("tpm") or {}).get("granted", 0) for i in items)
            self.largest = max(self.largest, total)
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def granted(k: Client) -> dict[str, int]:
    items = k.items(path_of(VCAP, "voicecapacities", "budget"))
    return {
        i["metadata"]["name"]: ((i.get("status") or {}).get("tpm") or {}).get("granted", -1)
        for i in items
    }


def budget_reservations(k: Client) -> list[tuple[str, int]]:
    body = k.get(path_of(VCAP, "tokenbudgets", None, "realtime")) or {}
    return [(r["name"], r["granted"]) for r in (body.get("status") or {}).get("reservations", [])]


def test_budget_grants_never_exceed_the_pool_and_follow_deletes_resizes_and_priorities(
    running: tuple[EmulatedCluster, OperatorProcess], exporter: SessionExporter
) -> None:
    cluster, _ = running
    k = cluster.client
    k.create(
        {
            "apiVersion": VCAP,
            "kind": "TokenBudget",
            "metadata": {"name": "realtime"},
            "spec": {"tokensPerMinute": POOL, "overcommit": 0},
        }
    )
    names = [f"v{index}" for index in range(8)]
    for name in names:
        exporter.set("budget", name, "p1", 100)
        workload(k, "budget", f"{name}-agent", ready=2)
    watcher = GrantWatcher(k, "budget")
    try:
        # Eight reservations of 4.8M against a 20M pool, created all at once; v0 has the
        # highest priority, v7 the lowest.
        def create(name: str) -> None:
            priority = 100 - 10 * names.index(name)
            model = {"budgetRef": "realtime", "reservedTPM": RESERVED, "priority": priority}
            k.create(vcap("budget", name, model=model))

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(create, names))
        expected = [4_800_000] * 4 + [800_000] + [0] * 3
        wait_until(
            lambda: [granted(k).get(n) for n in names] == expected,
            timeout=30,
            what=f"grants {expected}",
        )
        wait_until(
            lambda: budget_reservations(k) == list(zip(names, expected, strict=True)),
            timeout=15,
            what="the TokenBudget status listing grants in order",
        )
        short = condition(k, "budget", "v4", "BudgetGranted")
        assert (short["status"], short["reason"]) == ("False", "PartiallyGranted")
        assert condition(k, "budget", "v0", "BudgetGranted")["status"] == "True"
        budget = k.get(path_of(VCAP, "tokenbudgets", None, "realtime")) or {}
        assert budget["status"]["granted"] == POOL and budget["status"]["requested"] == 8 * RESERVED

        # Deleting a granted reservation frees it for the next in order.
        k.delete(path_of(VCAP, "voicecapacities", "budget", "v1"))
        left = [n for n in names if n != "v1"]
        expected = [4_800_000] * 4 + [800_000] + [0] * 2
        wait_until(
            lambda: [granted(k).get(n) for n in left] == expected,
            timeout=30,
            what=f"after the delete: {expected}",
        )

        # Shrinking one frees the difference.
        k.patch(
            path_of(VCAP, "voicecapacities", "budget", "v2"),
            {"spec": {"model": {"reservedTPM": 1_000_000}}},
        )
        expected = [4_800_000, 1_000_000, 4_800_000, 4_800_000, 4_600_000, 0, 0]
        wait_until(
            lambda: [granted(k).get(n) for n in left] == expected,
            timeout=30,
            what=f"after the shrink: {expected}",
        )

        # A priority change reorders: v7 now goes first.
        k.patch(
            path_of(VCAP, "voicecapacities", "budget", "v7"),
            {"spec": {"model": {"priority": 1000}}},
        )
        # Order now v7, v0, v2, v3, v4, v5, v6; v4 gets what is left (4.6M), v5 nothing.
        expected = [4_800_000, 1_000_000, 4_800_000, 4_600_000, 0, 0, 4_800_000]
        wait_until(
            lambda: [granted(k).get(n) for n in left] == expected,
            timeout=30,
            what=f"after the priority change: {expected}",
        )
        assert budget_reservations(k)[0] == ("v7", 4_800_000)
    finally:
        watcher.stop()
    assert 0 < watcher.largest <= POOL, f"grants in effect reached {watcher.largest} > {POOL}"


def test_a_missing_budget_is_a_condition_not_a_crash(
    running: tuple[EmulatedCluster, OperatorProcess], exporter: SessionExporter
) -> None:
    cluster, _ = running
    k = cluster.client
    exporter.set("nobudget", "care", "p1", 100)
    workload(k, "nobudget", "care-agent", ready=2)
    k.create(
        vcap("nobudget", "care", model={"budgetRef": "does-not-exist", "reservedTPM": RESERVED})
    )
    missing = wait_until(
        lambda: condition(k, "nobudget", "care", "BudgetGranted"),
        timeout=20,
        what="BudgetGranted",
    )
    assert (missing["status"], missing["reason"]) == ("False", "BudgetNotFound")
    assert condition(k, "nobudget", "care", "Ready")["status"] == "True"
