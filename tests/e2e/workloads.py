"""What every e2e scenario shares: the namespace, the examples and stand-in agents, paths, and a
patient `eventually` (reads of status, conditions and Events are support/reads.py's)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from support.paths import path_of
from support.servers import wait_until

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "voice"
TIMEOUT = 60.0  # the operator's interval is 1-2 s; a real cluster's watch adds a little
EXAMPLE_SESSIONS = {"healthcare": 300, "sales": 200, "real-estate": 80, "after-hours": 150}


def eventually(check: Callable[[], T], what: str, timeout: float = TIMEOUT) -> T:
    """wait_until with the e2e defaults: a real cluster's watch adds latency, so poll gently."""
    return wait_until(check, timeout=timeout, interval=0.5, what=what)


def examples() -> list[dict[str, Any]]:
    docs = []
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        docs.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return docs


def agent(name: str) -> dict[str, Any]:
    """A stand-in voice agent: the pause image, so a real cluster runs it with no registry."""
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": "agent",
                            "image": "registry.k8s.io/pause:3.10",
                            "resources": {"requests": {"cpu": "1m", "memory": "4Mi"}},
                        }
                    ]
                },
            },
        },
    }


def vcap_path(name: str) -> str:
    return path_of("voicecap.io/v1alpha1", "voicecapacities", NAMESPACE, name)


def hpa_path(name: str) -> str:
    return path_of("autoscaling/v2", "horizontalpodautoscalers", NAMESPACE, name)


def voice_capacity(name: str, **spec: Any) -> dict[str, Any]:
    """A VoiceCapacity for the stand-in agent `<name>-agent`; `spec` replaces whole blocks."""
    return {
        "apiVersion": "voicecap.io/v1alpha1",
        "kind": "VoiceCapacity",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "vertical": name,
            "targetRef": {"kind": "Deployment", "name": f"{name}-agent"},
            "sessions": {"perPod": 100, "targetUtilization": 0.5},
            "replicas": {"min": 2, "max": 12},
            **spec,
        },
    }
