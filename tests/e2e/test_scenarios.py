"""What a user does, in order, on whatever cluster conftest.py chose (real control plane, local
stack or kind):
apply examples/, read HPAs, status and `kubectl get vcap` columns; change sessions; enter a peak;
delete, and see the children go. Only the API and the session exporter are used, never internals.
"""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from e2e.workloads import (
    EXAMPLE_SESSIONS,
    NAMESPACE,
    TIMEOUT,
    agent,
    eventually,
    hpa_path,
    vcap_path,
    voice_capacity,
)
from support.client import Client, Sessions
from support.paths import path_of
from support.reads import condition, events, status

PEAK = "e2e-peak"


def test_examples_get_an_hpa_a_status_and_printer_columns(
    cluster: Client, applied: list[dict[str, Any]]
) -> None:
    for doc in applied:
        name = doc["metadata"]["name"]
        vertical = doc["spec"].get("vertical", name)
        eventually(
            lambda name=name, vertical=vertical: (
                status(cluster, NAMESPACE, name).get("sessions", {}).get("active")
                == EXAMPLE_SESSIONS[vertical]
            ),
            f"{name} sees {EXAMPLE_SESSIONS[vertical]} sessions",
        )
        assert condition(cluster, NAMESPACE, name, "Ready")["status"] == "True"
        assert condition(cluster, NAMESPACE, name, "MetricsAvailable")["status"] == "True"
        live = cluster.get(vcap_path(name))
        assert live is not None
        current = live["status"]
        assert current["observedGeneration"] == live["metadata"]["generation"]
        floor, ceiling = current["replicas"]["floor"], current["replicas"]["ceiling"]
        assert doc["spec"]["replicas"]["min"] <= floor <= ceiling <= doc["spec"]["replicas"]["max"]
        hpa = eventually(
            lambda name=name, floor=floor: (
                (h := cluster.get(hpa_path(name))) and h["spec"]["minReplicas"] == floor and h
            ),
            f"HPA {name} at the floor",
        )

        # the ceiling, or the floor while the HPA cannot read its metric (core/apply/autoscaler.py):
        # on a real cluster these calls are counted on no real pod, so the HPA reads nothing
        def max_as_reported(name: str = name, floor: int = floor, ceiling: int = ceiling) -> bool:
            held = condition(cluster, NAMESPACE, name, "HPAMetrics").get("status") == "False"
            found = (cluster.get(hpa_path(name)) or {}).get("spec", {}).get("maxReplicas")
            return found == (floor if held else ceiling)

        eventually(max_as_reported, f"HPA {name}'s maxReplicas as HPAMetrics says")
        assert hpa["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": doc["spec"]["targetRef"]["name"],
        }
        (owner,) = hpa["metadata"]["ownerReferences"]
        assert (owner["kind"], owner["name"], owner["uid"]) == (
            "VoiceCapacity",
            name,
            live["metadata"]["uid"],
        )
        assert owner["controller"] is True

    rows = cluster.printer_columns("voicecapacities", NAMESPACE)
    assert set(rows) >= {doc["metadata"]["name"] for doc in applied}
    healthcare = rows["healthcare"]
    assert list(healthcare)[1:] == [
        "Vertical", "Mode", "Sessions", "Capacity", "Util", "Floor", "Ceiling", "Replicas",
        "Next-Peak", "Ready", "Age",
    ]  # fmt: skip
    assert healthcare["Vertical"] == "healthcare"
    assert float(healthcare["Sessions"]) == 300
    assert healthcare["Ready"] == "True"
    assert healthcare["Mode"] in {"Normal", "Peak"}
    assert healthcare["Next-Peak"] != "<none>"


def test_the_token_budget_shows_every_reservation(
    cluster: Client, applied: list[dict[str, Any]]
) -> None:
    budget_path = path_of("voicecap.io/v1alpha1", "tokenbudgets", None, "openai-realtime")
    reserving = {doc["metadata"]["name"] for doc in applied if "model" in doc["spec"]}
    budget = eventually(
        lambda: (
            (b := cluster.get(budget_path))
            and {r["name"] for r in b.get("status", {}).get("reservations", [])} == reserving
            and b
        ),
        "every reservation in the budget's status",
    )
    granted = budget["status"]["granted"]
    assert granted <= budget["spec"]["tokensPerMinute"] * (1 + budget["spec"].get("overcommit", 0))
    assert granted == sum(r["granted"] for r in budget["status"]["reservations"])
    assert condition(cluster, NAMESPACE, "healthcare", "BudgetGranted")["status"] == "True"


def test_more_sessions_raise_the_floor_and_fewer_do_not_drop_it_at_once(
    cluster: Client, sessions: Sessions, applied: list[dict[str, Any]]
) -> None:
    # healthcare: 200 per pod at 70 % -> 140 planned per pod; 700 calls need 5 pods (the TPM
    # ceiling is 8: 9.6M reserved / 6000 per call-minute = 1,600 calls of 200 per pod)
    sessions.set(NAMESPACE, "healthcare", "healthcare-agent-0", 700)
    eventually(  # the calls seen, not only a floor (on a Monday morning the peak raises one too)
        lambda: (
            status(cluster, NAMESPACE, "healthcare")["sessions"]["active"] == 700
            and (cluster.get(hpa_path("healthcare")) or {}).get("spec", {}).get("minReplicas", 0)
            >= math.ceil(700 / 140)
        ),
        "HPA floor raised for 700 calls",
    )
    raised = status(cluster, NAMESPACE, "healthcare")
    assert raised["sessions"]["active"] == 700
    assert raised["replicas"]["floor"] >= 5
    assert raised["replicas"]["ceiling"] == 8
    assert condition(cluster, NAMESPACE, "healthcare", "CapacityLimited")["status"] == "False"
    # back to 100 calls: scaleDown.stabilization is 10m, so the floor holds
    sessions.set(NAMESPACE, "healthcare", "healthcare-agent-0", 100)
    eventually(
        lambda: status(cluster, NAMESPACE, "healthcare")["sessions"]["active"] == 100,
        "100 calls seen",
    )
    time.sleep(3)
    held = status(cluster, NAMESPACE, "healthcare")
    assert held["replicas"]["floor"] == raised["replicas"]["floor"]
    assert cluster.get(hpa_path("healthcare"))["spec"]["minReplicas"] == raised["replicas"]["floor"]  # type: ignore[index]


def test_a_peak_is_prescaled_when_its_lead_time_begins(
    cluster: Client, sessions: Sessions, applied: list[dict[str, Any]]
) -> None:
    """A daily window whose 1-minute lead time starts 5-65 s from now, in real time."""
    now = datetime.now(UTC)
    starts = (now + timedelta(seconds=65)).replace(second=0, microsecond=0) + timedelta(minutes=1)
    lead_begins = starts - timedelta(minutes=1)
    cluster.apply(agent(f"{PEAK}-agent"))
    sessions.set(NAMESPACE, PEAK, f"{PEAK}-agent-0", 100)
    cluster.apply(
        voice_capacity(
            PEAK,
            sessions={"perPod": 200, "targetUtilization": 0.7},
            replicas={"min": 2, "max": 20},
            peaks=[
                {
                    "name": "e2e-window",
                    "schedule": f"{starts.minute} {starts.hour} * * *",
                    "timeZone": "UTC",
                    "duration": "30m",
                    "leadTime": "1m",
                    "factor": 1.5,
                    "expectedSessions": 600,
                }
            ],
        )
    )
    if datetime.now(UTC) < lead_begins - timedelta(seconds=10):
        eventually(
            lambda: status(cluster, NAMESPACE, PEAK).get("mode") == "Normal",
            "Normal before the lead time",
            8,
        )
        assert status(cluster, NAMESPACE, PEAK)["replicas"]["floor"] == 2
        assert status(cluster, NAMESPACE, PEAK)["nextPeak"]["name"] == "e2e-window"
    # 1.5 x the 600 expected calls at 200 per pod: ceil(4.5) = 5 pods, before the window opens
    wait = (lead_begins - datetime.now(UTC)).total_seconds() + TIMEOUT
    eventually(
        lambda: (cluster.get(hpa_path(PEAK)) or {}).get("spec", {}).get("minReplicas") == 5,
        "pre-scaled floor of 5",
        timeout=max(wait, TIMEOUT),
    )
    assert datetime.now(UTC) < starts, "pre-scaled only after the window opened"
    # and the pods are there before the callers are: Ready (on a real cluster, scheduled by
    # kube-scheduler and made Ready by kwok after its 1-6 s start-up delay)
    target = path_of("apps/v1", "deployments", NAMESPACE, f"{PEAK}-agent")
    eventually(
        lambda: (cluster.get(target) or {}).get("status", {}).get("readyReplicas", 0) >= 5,
        "5 Ready pods",
        timeout=max((starts - datetime.now(UTC)).total_seconds(), 1),
    )
    assert datetime.now(UTC) < starts, "the peak's pods were Ready only after the window opened"
    current = status(cluster, NAMESPACE, PEAK)
    assert current["mode"] == "Peak"
    assert current["activePeak"] == "e2e-window"
    assert condition(cluster, NAMESPACE, PEAK, "PeakActive")["status"] == "True"
    assert eventually(
        lambda: events(cluster, NAMESPACE, PEAK, "PeakEntered"), "a PeakEntered Event"
    )


def test_admission_limits_follow_ready_pods_and_grants_into_one_config_map(
    cluster: Client, applied: list[dict[str, Any]]
) -> None:
    """healthcare, sales and after-hours name `voice-admission`: one ConfigMap for the namespace,
    each limit min(ready pods x perPod, floor(granted TPM / 6000)); after-hours has a partial grant
    (3.4M of 6M: 566 calls)."""
    per_pod = {"healthcare": 200, "sales": 250, "after-hours": 300}

    def published() -> dict[str, Any]:
        found = cluster.get(path_of("v1", "configmaps", NAMESPACE, "voice-admission")) or {}
        text = (found.get("data") or {}).get("limits.json", "{}")
        return dict(json.loads(text).get("verticals", {}))

    def expected(name: str) -> tuple[int, str]:
        current = status(cluster, NAMESPACE, name)
        pods = current["replicas"]["current"] * per_pod[name]
        tpm = current["tpm"]["granted"] // 6000
        return (tpm, "TPM") if tpm < pods else (pods, "Pods")

    def agree() -> bool:
        limits = published()
        for name in per_pod:
            admission = status(cluster, NAMESPACE, name).get("admission") or {}
            want = expected(name)
            if (admission.get("maxSessions"), admission.get("reason")) != want:
                return False
            if limits.get(name, {}).get("maxSessions") is None:
                return False
        return True

    eventually(agree, "status.admission and the ConfigMap for three verticals")
    assert (
        status(cluster, NAMESPACE, "after-hours")["tpm"]["granted"] < 6_000_000
    )  # the partial grant
    limits = published()
    assert set(limits) == set(per_pod), "real-estate names no ConfigMap"
    for name in per_pod:
        assert (
            limits[name]["maxSessions"]
            <= status(cluster, NAMESPACE, name)["admission"]["maxSessions"] * 1.05
        )


def test_deleting_a_voicecapacity_removes_its_children(
    cluster: Client, applied: list[dict[str, Any]]
) -> None:
    # a ConfigMap, or a PrometheusRule where prometheus-operator's CRD is served
    kind = eventually(
        lambda: condition(cluster, NAMESPACE, "healthcare", "RulesApplied").get("reason"),
        "rules applied",
    )
    rules = (
        path_of("monitoring.coreos.com/v1", "prometheusrules", NAMESPACE, "voicecap-healthcare")
        if kind == "PrometheusRule"
        else path_of("v1", "configmaps", NAMESPACE, "voicecap-healthcare-rules")
    )
    eventually(lambda: cluster.get(rules), f"the rule {kind} exists")
    cluster.delete(vcap_path("healthcare"))
    eventually(lambda: cluster.get(hpa_path("healthcare")) is None, "HPA garbage-collected")
    eventually(lambda: cluster.get(rules) is None, f"rule {kind} garbage-collected")
    budget_path = path_of("voicecap.io/v1alpha1", "tokenbudgets", None, "openai-realtime")
    eventually(
        lambda: (
            "healthcare"
            not in {
                r["name"]
                for r in (cluster.get(budget_path) or {}).get("status", {}).get("reservations", [])
            }
        ),
        "the budget released healthcare's reservation",
    )
    # the other verticals keep theirs
    assert cluster.get(hpa_path("sales")) is not None
    assert condition(cluster, NAMESPACE, "sales", "Ready")["status"] == "True"
