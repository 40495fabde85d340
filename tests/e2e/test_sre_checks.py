"""What SREs did by hand, on the real control plane: a holiday calendar ConfigMap keeps a window
shut, container requests too small for perPod calls are PodUndersized, and pods that are not
Ready when a window opens are PrescaleLate (kwok pods on no node stay Pending)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from e2e.workloads import NAMESPACE, agent, eventually, hpa_path
from e2e.workloads import voice_capacity as capacity
from support.client import Client, Sessions
from support.paths import path_of
from support.reads import condition, events, status
from support.real_stack import RealStack


def _config_map(name: str, data: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "data": data,
    }


def _open_now(**extra: Any) -> dict[str, Any]:
    """A peak whose window opened this minute (UTC) and lasts 20 minutes."""
    start = datetime.now(UTC)
    return {
        "name": "now",
        "schedule": f"{start.minute} {start.hour} * * *",
        "duration": "20m",
        "expectedSessions": 600,  # 1.5 x 600 / 100 per pod: a floor of 9
        **extra,
    }


def test_a_holiday_calendar_keeps_the_window_shut_and_a_missing_one_is_named(
    cluster: Client, sessions: Sessions, stack: RealStack
) -> None:
    cluster.ensure_namespace(NAMESPACE)
    today = datetime.now(UTC).date()
    cluster.apply(_config_map("holidays", {"2026": f"{today.isoformat()}  # today, for the test"}))
    for name in ("holiday", "nocalendar"):
        cluster.apply(agent(f"{name}-agent"))
        sessions.set(NAMESPACE, name, f"{name}-0", 10)
    cluster.apply(capacity("holiday", peaks=[_open_now(calendarRef={"name": "holidays"})]))
    cluster.apply(capacity("nocalendar", peaks=[_open_now(calendarRef={"name": "missing"})]))

    ready = eventually(
        lambda: condition(cluster, NAMESPACE, "holiday", "CalendarsReady"), "calendar read"
    )
    assert (ready["status"], ready["reason"], ready["message"]) == (
        "True", "Resolved", "holidays: 1 days",
    )  # fmt: skip
    assert condition(cluster, NAMESPACE, "holiday", "PeakActive")["status"] == "False"
    assert (cluster.get(hpa_path("holiday")) or {})["spec"]["minReplicas"] == 2  # replicas.min

    missing = eventually(
        lambda: condition(cluster, NAMESPACE, "nocalendar", "CalendarsReady"), "missing"
    )
    assert (missing["status"], missing["reason"]) == ("False", "CalendarNotFound")
    assert missing["message"].startswith(
        "spec.peaks[0].calendarRef.name: ConfigMap voice/missing not found"
    )
    # no calendar: the window opens as if there were none (pre-scaled, not skipped)
    assert condition(cluster, NAMESPACE, "nocalendar", "PeakActive")["status"] == "True"
    assert eventually(
        lambda: (cluster.get(hpa_path("nocalendar")) or {}).get("spec", {}).get("minReplicas") == 9,
        "pre-scaled",
    )
    assert events(cluster, NAMESPACE, "nocalendar", "CalendarUnavailable")
    for name in ("holiday", "nocalendar"):
        cluster.delete(path_of("voicecap.io/v1alpha1", "voicecapacities", NAMESPACE, name))
        cluster.delete(path_of("apps/v1", "deployments", NAMESPACE, f"{name}-agent"))
    cluster.delete(path_of("v1", "configmaps", NAMESPACE, "holidays"))


def test_requests_below_what_per_pod_calls_need_are_pod_undersized(
    cluster: Client, sessions: Sessions, stack: RealStack
) -> None:
    cluster.ensure_namespace(NAMESPACE)
    body = agent("sized-agent")
    body["spec"]["template"]["spec"]["containers"].append(
        {"name": "proxy", "image": "registry.k8s.io/pause:3.10",
         "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}}
    )  # fmt: skip
    cluster.apply(body)
    sessions.set(NAMESPACE, "sized", "sized-0", 10)
    cluster.apply(capacity("sized", sessionCost={"cpu": "50m", "memory": "120Mi"}))
    undersized = eventually(
        lambda: condition(cluster, NAMESPACE, "sized", "PodUndersized"), "judged"
    )
    assert (undersized["status"], undersized["reason"]) == ("True", "RequestsBelowCalls")
    # 1m + 500m and 4Mi + 1Gi, summed over both containers, against 100 calls
    assert undersized["message"] == (
        "cpu requests 501m, 100 calls need 5; memory requests 1Gi, 100 calls need 11.7Gi: "
        "lower sessions.perPod or raise the containers' requests"
    )
    assert events(cluster, NAMESPACE, "sized", "PodUndersized")
    cluster.delete(path_of("voicecap.io/v1alpha1", "voicecapacities", NAMESPACE, "sized"))
    cluster.delete(path_of("apps/v1", "deployments", NAMESPACE, "sized-agent"))


def _window_next_minute(lead: str) -> tuple[dict[str, Any], datetime]:
    start = (datetime.now(UTC) + timedelta(seconds=80)).replace(second=0, microsecond=0)
    peak = {
        "name": "soon",
        "schedule": f"{start.minute} {start.hour} * * *",
        "duration": "10m",
        "leadTime": lead,
        "expectedSessions": 300,  # 1.5 x 300 / 100: a floor of 5
    }
    return peak, start


def test_pods_not_ready_when_the_window_opens_are_prescale_late(
    cluster: Client, sessions: Sessions, stack: RealStack
) -> None:
    """Two workloads pre-scaled to 5 pods: one's pods start on a kwok node at once (on time,
    and the scale-up is timed), the other's ask for a node that does not exist and stay
    Pending (late: 1 of 5 Ready when the window opens)."""
    cluster.ensure_namespace(NAMESPACE)
    pending = agent("late-agent")
    pending["spec"]["template"]["spec"]["nodeSelector"] = {"voicecap.io/no-such-node": "true"}
    cluster.apply(agent("prompt-agent"))
    cluster.apply(pending)
    for name in ("prompt", "late"):
        sessions.set(NAMESPACE, name, f"{name}-0", 10)
        cluster.apply(capacity(name, replicas={"min": 1, "max": 8}))
        eventually(
            lambda name=name: (
                status(cluster, NAMESPACE, name).get("replicas", {}).get("floor") == 1
            ),
            name,
        )
    # the prompt one got its 1 pod; the late one has none Ready either (its first pod is Pending)
    peak, start = _window_next_minute("2m")
    for name in ("prompt", "late"):
        cluster.apply(capacity(name, replicas={"min": 1, "max": 8}, peaks=[peak]))

    def judged(name: str) -> dict[str, Any]:
        return condition(cluster, NAMESPACE, name, "PrescaleLate")

    late = eventually(lambda: judged("late"), "late judged", timeout=150)
    assert datetime.now(UTC) >= start
    assert (late["status"], late["reason"]) == ("True", "ReadyPodsShort")
    assert late["message"].startswith(
        f"soon: 0 of 5 pods Ready when the window opened at {start:%Y-%m-%dT%H:%M:%SZ} "
        "(leadTime 2m)"
    )
    window = status(cluster, NAMESPACE, "late")["forecast"][0]["lastWindow"]
    assert (window["plannedFloor"], window["readyAtOpen"], window["shortfall"]) == (5, 0, 5)
    assert status(cluster, NAMESPACE, "late")["replicas"]["scaleUp"]["pendingTarget"] == 5
    assert events(cluster, NAMESPACE, "late", "PrescaleLate")

    prompt = eventually(lambda: judged("prompt"), "prompt judged", timeout=60)
    assert (prompt["status"], prompt["reason"]) == ("False", "ReadyOnTime")
    scale_up = status(cluster, NAMESPACE, "prompt")["replicas"]["scaleUp"]
    assert scale_up["lastTarget"] == 5 and 0 < scale_up["lastSeconds"] < 120
    for name in ("prompt", "late"):
        cluster.delete(path_of("voicecap.io/v1alpha1", "voicecapacities", NAMESPACE, name))
        cluster.delete(path_of("apps/v1", "deployments", NAMESPACE, f"{name}-agent"))
