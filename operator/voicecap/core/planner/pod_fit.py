"""Pods too small: what perPod calls need (sessionCost x perPod) against what the target's pods
request (summed over their containers). A pod that requests less than its calls use is
scheduled onto a node that cannot hold them: it is OOM-killed or throttled at perPod calls, and
the capacity the plan counts on is not there. Extended resources (GPUs) are compared in the
whole units a pod requests."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from voicecap.core.planner.usage import Sizing

FitReason = Literal["RequestsCoverCalls", "RequestsBelowCalls", "NoRequests"]


@dataclass(frozen=True)
class PodRequests:
    """A pod template's requests summed over its containers (None: no container requests it);
    extended resources by name (absent: not requested)."""

    cpu: Decimal | None = None
    memory: Decimal | None = None
    extended: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class PodFit:
    undersized: bool
    reason: FitReason
    message: str


@dataclass(frozen=True)
class _Need:
    what: str
    need: Decimal
    have: Decimal | None
    show: Callable[[Decimal], str]


def pod_fit(sized: Sizing, requests: PodRequests | None, per_pod: int) -> PodFit | None:
    """What perPod calls need (sessionCost x perPod) against the requests; None when there is
    nothing to compare: no sessionCost, or the target is unknown."""
    if requests is None:
        return None
    needs = [
        _Need(what, need, have, show)
        for what, need, have, show in (
            ("cpu", sized.cpu_per_pod, requests.cpu, _cores),
            ("memory", sized.memory_per_pod, requests.memory, _bytes),
        )
        if need is not None
    ]
    needs += [
        _Need(name, Decimal(units), requests.extended.get(name), _units)
        for name, units in sized.extended_per_pod.items()
    ]
    if not needs:
        return None
    short = [
        f"{n.what} requests {n.show(n.have) if n.have is not None else 'nothing'}, {per_pod} "
        f"calls need {n.show(n.need)}"
        for n in needs
        if n.have is None or n.have < n.need
    ]
    if short:
        unrequested = all(n.have is None for n in needs)
        return PodFit(
            True,
            "NoRequests" if unrequested else "RequestsBelowCalls",
            "; ".join(short) + ": lower sessions.perPod or raise the containers' requests",
        )
    covered = ", ".join(f"{n.what} {n.show(n.have)} of {n.show(n.need)}" for n in needs if n.have)
    return PodFit(False, "RequestsCoverCalls", f"requests cover {per_pod} calls: {covered}")


def _cores(value: Decimal) -> str:
    return f"{value.normalize():f}" if value >= 1 else f"{(value * 1000).normalize():f}m"


def _bytes(value: Decimal) -> str:
    for unit, size in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if value >= size:
            return f"{(value / size).quantize(Decimal('0.1')).normalize():f}{unit}"
    return f"{value.normalize():f}"


def _units(value: Decimal) -> str:
    return f"{value.normalize():f}"
