"""Kubernetes API paths, for every client the tests use (emulated or real; no kmock import)."""

from __future__ import annotations

from typing import Any

PLURALS = {
    "VoiceCapacity": "voicecapacities",
    "TokenBudget": "tokenbudgets",
    "HorizontalPodAutoscaler": "horizontalpodautoscalers",
    "Deployment": "deployments",
    "StatefulSet": "statefulsets",
    "CustomResourceDefinition": "customresourcedefinitions",
    "ScaledObject": "scaledobjects",
    "ClusterKopfPeering": "clusterkopfpeerings",
    "KopfPeering": "kopfpeerings",
    "Namespace": "namespaces",
    "ConfigMap": "configmaps",
}


def path_of(api_version: str, plural: str, namespace: str | None, name: str | None = None) -> str:
    base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
    if namespace:
        base += f"/namespaces/{namespace}"
    base += f"/{plural}"
    return f"{base}/{name}" if name else base


def collection_of(obj: dict[str, Any]) -> str:
    """Where `obj` is created: its kind's collection in its namespace."""
    return path_of(obj["apiVersion"], PLURALS[obj["kind"]], obj["metadata"].get("namespace"))
