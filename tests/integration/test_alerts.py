"""End to end: the rules the operator applies, loaded by a real Prometheus, reach a real Alertmanager.

The operator runs against the emulator and writes its rule ConfigMap; the test mounts that file
into Prometheus (as a kubelet would mount the ConfigMap), Prometheus scrapes the voice pods'
sessions and the operator's own /metrics (capacity = ready pods x perPod), evaluates the rules and
sends to Alertmanager, which posts to a webhook. headroom.for is 3s here instead of 10m.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from support.kube import deployment, emulated_cluster, path_of
from support.objects import BASE_CAPACITY
from support.servers import (
    Alertmanager,
    OperatorProcess,
    Prometheus,
    SessionExporter,
    WebhookReceiver,
    free_port,
    wait_until,
)

pytestmark = pytest.mark.integration

NAMESPACE, NAME = "voice", "healthcare"


def capacity() -> dict:
    body = copy.deepcopy(BASE_CAPACITY)
    body["metadata"] = {"name": NAME, "namespace": NAMESPACE}
    body["spec"]["targetRef"] = {"kind": "Deployment", "name": "healthcare-agent"}
    # warning 0.7 sits above the HPA's band only for targets under 0.7 / 1.1
    body["spec"]["sessions"] = {"perPod": 100, "targetUtilization": 0.6}
    body["spec"]["replicas"] = {"min": 2, "max": 10}
    body["spec"]["headroom"] = {
        "warning": 0.7,
        "critical": 0.9,
        "for": "3s",
        "action": "Alert",
        "ruleLabels": {"team": "voice-sre"},
    }
    body["spec"]["peaks"] = []
    body["spec"].pop("model")
    return body


def firing_in_prometheus(prometheus: Prometheus, alertname: str) -> list[dict]:
    query = urllib.parse.quote(f'ALERTS{{alertname="{alertname}", alertstate="firing"}}')
    with urllib.request.urlopen(f"{prometheus.url}/api/v1/query?query={query}", timeout=5) as r:
        return list(json.load(r)["data"]["result"])


def test_warning_reaches_alertmanager_when_load_crosses_70_percent(tmp_path: Path) -> None:
    exporter = SessionExporter()
    exporter.set(NAMESPACE, NAME, "pod-a", 50)  # 100 of 200 (2 ready pods x 100): 50 %
    exporter.set(NAMESPACE, NAME, "pod-b", 50)
    webhook = WebhookReceiver()
    prometheus_port = free_port()
    with emulated_cluster() as cluster:
        k = cluster.client
        k.create(deployment(NAMESPACE, "healthcare-agent"))
        k.patch(
            path_of("apps/v1", "deployments", NAMESPACE, "healthcare-agent") + "/status",
            {"status": {"readyReplicas": 2}},
        )
        k.create(capacity())
        operator = OperatorProcess(
            tmp_path,
            kubeconfig=cluster.kubeconfig(tmp_path),
            prometheus_url=f"http://127.0.0.1:{prometheus_port}",
        )
        alertmanager = prometheus = None
        try:
            config_map = wait_until(
                lambda: k.get(path_of("v1", "configmaps", NAMESPACE, f"voicecap-{NAME}-rules")),
                timeout=30,
                what="the operator's rule ConfigMap",
            )
            rules_dir = tmp_path / "rules"
            rules_dir.mkdir()
            for file_name, text in config_map["data"].items():
                (rules_dir / file_name).write_text(text)
            rule_files = sorted(rules_dir.iterdir())
            checked = subprocess.run(
                [shutil.which("promtool") or "promtool", "check", "rules", *map(str, rule_files)],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert checked.returncode == 0, checked.stdout + checked.stderr

            alertmanager = Alertmanager(tmp_path, webhook.url)
            prometheus = Prometheus(
                tmp_path,
                [f"127.0.0.1:{exporter.port}", f"127.0.0.1:{operator.metrics_port}"],
                port=prometheus_port,
                rule_files=rule_files,
                alertmanager=alertmanager.address,
            )
            # Below the threshold: rules evaluate (utilization is recorded), nothing fires.
            wait_until(
                lambda: _utilization(prometheus) == pytest.approx(0.5),
                timeout=30,
                what="utilization recorded at 50 %",
            )
            time.sleep(5)  # longer than headroom.for
            assert firing_in_prometheus(prometheus, "VoiceCapacityHeadroomWarning") == []
            assert webhook.alerts() == []

            exporter.set(NAMESPACE, NAME, "pod-b", 100)  # 150 of 200: 75 %
            (alert,) = wait_until(
                lambda: [
                    a
                    for a in webhook.alerts("firing")
                    if a["labels"]["alertname"] == "VoiceCapacityHeadroomWarning"
                ],
                timeout=60,
                what="Alertmanager posting VoiceCapacityHeadroomWarning",
            )
            assert alert["labels"] == {
                "alertname": "VoiceCapacityHeadroomWarning",
                "severity": "warning",
                "namespace": NAMESPACE,
                "vertical": NAME,
                "team": "voice-sre",
            }
            assert (
                alert["annotations"]["summary"] == f"{NAMESPACE}/{NAME}: calls use 75% of capacity"
            )
            assert "kubectl -n voice get vcap healthcare" in alert["annotations"]["action"]
            assert not [
                a
                for a in webhook.alerts("firing")
                if a["labels"]["alertname"] == "VoiceCapacityHeadroomCritical"
            ], "75 % is below critical (90 %)"

            exporter.set(NAMESPACE, NAME, "pod-b", 50)  # back to 50 %: resolved
            wait_until(
                lambda: [
                    a
                    for a in webhook.alerts("resolved")
                    if a["labels"]["alertname"] == "VoiceCapacityHeadroomWarning"
                ],
                timeout=60,
                what="the warning resolved",
            )
        finally:
            for server in (prometheus, alertmanager):
                if server is not None:
                    server.stop()
            operator.stop()
            webhook.stop()
            exporter.stop()


def _utilization(prometheus: Prometheus) -> float | None:
    query = urllib.parse.quote("namespace_vertical:voicecap_utilization:ratio")
    with urllib.request.urlopen(f"{prometheus.url}/api/v1/query?query={query}", timeout=5) as r:
        result = json.load(r)["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def test_rule_file_in_the_configmap_is_what_voicecap_rules_prints(tmp_path: Path) -> None:
    """`voicecap rules` prints exactly what the operator applies."""
    source = tmp_path / "vcap.yaml"
    source.write_text(yaml.safe_dump(capacity()))
    printed = subprocess.run(
        [str(Path(sys.executable).with_name("voicecap")), "rules", str(source), "-o", "configmap"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    (expected,) = yaml.safe_load_all(printed)
    with emulated_cluster() as cluster:
        k = cluster.client
        k.create(deployment(NAMESPACE, "healthcare-agent"))
        created = k.create(capacity())
        operator = OperatorProcess(
            tmp_path, kubeconfig=cluster.kubeconfig(tmp_path), prometheus_url="http://127.0.0.1:9"
        )
        try:
            live = wait_until(
                lambda: k.get(path_of("v1", "configmaps", NAMESPACE, f"voicecap-{NAME}-rules")),
                timeout=30,
                what="the rule ConfigMap",
            )
        finally:
            operator.stop()
    assert live["data"] == expected["data"]
    assert live["metadata"]["labels"] == expected["metadata"]["labels"]
    (owner,) = live["metadata"]["ownerReferences"]
    assert owner["uid"] == created["metadata"]["uid"]
