"""Scale targets as the service reads them: raw Deployment and StatefulSet bodies in, typed
values out (ready replicas, the pods' requests)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from voicecap.api.types import parse_quantity
from voicecap.core.planner.pod_fit import PodRequests


@dataclass(frozen=True)
class TargetState:
    ready: int
    requests: PodRequests


def pod_requests(body: Mapping[str, Any]) -> PodRequests:
    """spec.template's containers' requests, summed (an unreadable quantity counts as none).
    An extended resource (a name with a domain, e.g. nvidia.com/gpu) may be given as a limit
    alone: Kubernetes then requests the limit, so the limit counts."""
    spec = ((body.get("spec") or {}).get("template") or {}).get("spec") or {}
    totals: dict[str, Decimal] = {}
    for container in spec.get("containers") or []:
        resources = (container or {}).get("resources") or {}
        requested = {
            **{k: v for k, v in (resources.get("limits") or {}).items() if "/" in str(k)},
            **(resources.get("requests") or {}),
        }
        for name, quantity in requested.items():
            if name not in ("cpu", "memory") and "/" not in str(name):
                continue
            try:
                value = parse_quantity(quantity)
            except ValueError:
                continue
            totals[name] = totals.get(name, Decimal(0)) + value
    return PodRequests(
        cpu=totals.get("cpu"),
        memory=totals.get("memory"),
        extended={name: value for name, value in totals.items() if "/" in name},
    )


def target_state(body: Mapping[str, Any]) -> TargetState:
    status = body.get("status") or {}
    return TargetState(ready=int(status.get("readyReplicas") or 0), requests=pod_requests(body))
