"""What the integration and e2e tests read back from a cluster, one argument order everywhere:
(client, namespace, name, then what of it)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from support.client import Client
from support.paths import path_of

VCAP = "voicecap.io/v1alpha1"


def status(client: Client, namespace: str, name: str) -> dict[str, Any]:
    """A VoiceCapacity's status ({} while it has none, or is gone)."""
    body = client.get(path_of(VCAP, "voicecapacities", namespace, name)) or {}
    return dict(body.get("status") or {})


def condition(client: Client, namespace: str, name: str, kind: str) -> dict[str, Any]:
    """One condition of a VoiceCapacity ({} while it has none of that type)."""
    return condition_in({"status": status(client, namespace, name)}, kind)


def condition_in(body: dict[str, Any], kind: str) -> dict[str, Any]:
    """One condition of any object's status (an HPA's, a TokenBudget's)."""
    found = (body.get("status") or {}).get("conditions") or []
    return dict(next((c for c in found if c.get("type") == kind), {}))


def hpa(client: Client, namespace: str, name: str) -> dict[str, Any] | None:
    """The HorizontalPodAutoscaler of that name (a VoiceCapacity's is named like it)."""
    return client.get(path_of("autoscaling/v2", "horizontalpodautoscalers", namespace, name))


def min_replicas(client: Client, namespace: str, name: str) -> int | None:
    """The floor a VoiceCapacity wrote into its HPA (None: no HPA)."""
    found = hpa(client, namespace, name)
    return int(found["spec"]["minReplicas"]) if found else None


def events(
    client: Client, namespace: str, name: str | None = None, reason: str | None = None
) -> list[dict[str, Any]]:
    """events.k8s.io Events in the namespace, about `name` and of `reason` where given."""
    found = client.items(path_of("events.k8s.io/v1", "events", namespace))
    return [
        event
        for event in found
        if (name is None or (event.get("regarding") or {}).get("name") == name)
        and (reason is None or event.get("reason") == reason)
    ]


def ready_pods(client: Client, namespace: str, app: str) -> list[str]:
    """The names of the pods labelled app=`app` that are Ready and not being deleted, sorted."""
    path = path_of("v1", "pods", namespace) + "?labelSelector=" + quote(f"app={app}")
    return sorted(
        pod["metadata"]["name"]
        for pod in client.items(path)
        if not pod["metadata"].get("deletionTimestamp")
        and any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in pod.get("status", {}).get("conditions", [])
        )
    )
