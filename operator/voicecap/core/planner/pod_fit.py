"""Pods too small: what perPod calls need (sessionCost x perPod) against what the target's pods
request (summed over their containers). A pod that requests less than its calls use is
scheduled onto a node that cannot hold them: it is OOM-killed or throttled at perPod calls,
and the capacity the plan counts on is not there."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

FitReason = Literal["RequestsCoverCalls", "RequestsBelowCalls", "NoRequests"]


@dataclass(frozen=True)
class PodRequests:
    """A pod template's requests summed over its containers (None: no container requests it)."""

    cpu: Decimal | None = None
    memory: Decimal | None = None


@dataclass(frozen=True)
class PodFit:
    undersized: bool
    reason: FitReason
    message: str


def pod_fit(
    cpu_per_pod: Decimal | None,
    memory_per_pod: Decimal | None,
    requests: PodRequests | None,
    per_pod: int,
) -> PodFit | None:
    """What perPod calls need (sessionCost x perPod) against the requests; None when there is
    nothing to compare: no sessionCost, or the target is unknown."""
    needs = [
        (what, need, have, show)
        for what, need, have, show in (
            ("cpu", cpu_per_pod, requests.cpu if requests else None, _cores),
            ("memory", memory_per_pod, requests.memory if requests else None, _bytes),
        )
        if need is not None
    ]
    if requests is None or not needs:
        return None
    short = [
        f"{what} requests {show(have) if have is not None else 'nothing'}, {per_pod} calls "
        f"need {show(need)}"
        for what, need, have, show in needs
        if have is None or have < need
    ]
    if short:
        unrequested = all(have is None for _, _, have, _ in needs)
        return PodFit(
            True,
            "NoRequests" if unrequested else "RequestsBelowCalls",
            "; ".join(short) + ": lower sessions.perPod or raise the containers' requests",
        )
    covered = ", ".join(
        f"{what} {show(have)} of {show(need)}" for what, need, have, show in needs if have
    )
    return PodFit(False, "RequestsCoverCalls", f"requests cover {per_pod} calls: {covered}")


def _cores(value: Decimal) -> str:
    return f"{value.normalize():f}" if value >= 1 else f"{(value * 1000).normalize():f}m"


def _bytes(value: Decimal) -> str:
    for unit, size in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if value >= size:
            return f"{(value / size).quantize(Decimal('0.1')).normalize():f}{unit}"
    return f"{value.normalize():f}"
