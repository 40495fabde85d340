"""Busy pods last: which pod-deletion-cost each pod of a shrinking workload should carry.

The ReplicaSet controller deletes pods with the lowest `controller.kubernetes.io/pod-deletion-cost`
first. The cost is the pod's dense rank by live calls (0 for the emptiest; equal calls, equal
cost), so it changes only when the order changes, not with every call. Patches go busiest first:
an unannotated pod counts as cost 0, so what a scale-down must learn first is which pods are busy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"


def deletion_costs(calls: Mapping[str, float]) -> dict[str, str]:
    ranks = {value: rank for rank, value in enumerate(sorted(set(calls.values())))}
    return {pod: str(ranks[value]) for pod, value in calls.items()}


def patches(
    calls: Mapping[str, float], current: Mapping[str, str | None], budget: int
) -> list[tuple[str, str]]:
    """(pod, cost) to write, busiest first, at most `budget` of them."""
    wanted = deletion_costs(calls)
    stale = [pod for pod, cost in wanted.items() if current.get(pod) != cost]
    stale.sort(key=lambda pod: (-calls[pod], pod))
    return [(pod, wanted[pod]) for pod in stale[:budget]]


def label_selector(selector: Mapping[str, Any]) -> str | None:
    """A workload's spec.selector as the API's labelSelector query (None: it selects nothing
    we can express, so no pod is ranked)."""
    terms = [f"{key}={value}" for key, value in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        values = ",".join(sorted(expression.get("values") or []))
        if operator == "In":
            terms.append(f"{key} in ({values})")
        elif operator == "NotIn":
            terms.append(f"{key} notin ({values})")
        elif operator == "Exists":
            terms.append(f"{key}")
        elif operator == "DoesNotExist":
            terms.append(f"!{key}")
        else:
            return None
    return ",".join(terms) or None


def can_shrink(
    ready: int | None, floor: int, hpa_current: int | None, hpa_desired: int | None
) -> bool:
    """Only workloads that can lose pods are ranked: more ready pods than the floor, or an HPA
    that wants fewer than it has."""
    if ready is not None and ready > floor:
        return True
    return hpa_current is not None and hpa_desired is not None and hpa_desired < hpa_current
