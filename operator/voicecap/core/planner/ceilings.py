"""The upper bounds of a plan: the TPM grant's calls and pods, the ceiling (min of replicas.max,
the grant's pods and admission.maxSessions' pods, never below replicas.min), and the admission
limit the call gateway gets."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from voicecap.api.models import VoiceCapacity
from voicecap.core import sizing
from voicecap.core.measured.calibration import Counted
from voicecap.core.planner.reasoned import Reasoned

CeilingSource = Literal["MaxReplicas", "TPM", "MaxSessions", "MinReplicas"]
AdmissionReason = Literal["Pods", "TPM", "MaxSessions", "Latency"]


@dataclass(frozen=True)
class TokenPlan:
    requested: int | None = None
    granted: int | None = None
    projected: int | None = None
    ceiling_sessions: int | None = None
    pods: int | None = None  # the pods the grant's calls fill at perPod (None: no TPM ceiling)


@dataclass(frozen=True)
class AdmissionLimit:
    """The calls the gateway may admit now (docs/api.md "Admission")."""

    max_sessions: int
    headroom_sessions: int | None
    reason: AdmissionReason


def token_plan(
    capacity: VoiceCapacity,
    granted: int | None,
    last_known: float | None,
    *,
    per_pod: int,
    tokens: Counted | None,
    measured_tokens: float | None = None,
) -> Reasoned[TokenPlan]:
    """The grant's calls and pods at `per_pod` and `tokens` per call-minute (declared or
    measured: records.Given), and the TPM the last known calls use: at the measured tokens per
    call-minute where there are any (the provider counts what calls use, whatever a spec says),
    else at `tokens`."""
    model = capacity.spec.model
    if model is None or tokens is None:
        return Reasoned(TokenPlan())
    per_minute = tokens.value
    use = measured_tokens if measured_tokens is not None else per_minute
    projected = (
        math.ceil(sizing.exact(last_known) * sizing.exact(use)) if last_known is not None else None
    )
    if granted is None:
        return Reasoned(
            TokenPlan(requested=model.reserved_tpm, projected=projected),
            f"no grant known from TokenBudget {model.budget_ref}: no TPM ceiling",
        )
    ceiling_sessions = sizing.tpm_ceiling_sessions(granted, per_minute)
    pods = sizing.pods_for_sessions(ceiling_sessions, per_pod)
    return Reasoned(
        TokenPlan(
            requested=model.reserved_tpm,
            granted=granted,
            projected=projected,
            ceiling_sessions=ceiling_sessions,
            pods=pods,
        ),
        f"granted {granted:,} of {model.reserved_tpm:,} TPM / {per_minute} per call-minute = "
        f"{ceiling_sessions} calls = {pods} pods at {per_pod} per pod",
    )


def ceiling_of(
    minimum: int, maximum: int, tpm_pods: int | None, fixed_pods: int | None
) -> Reasoned[tuple[int, CeilingSource]]:
    """min(replicas.max, the TPM grant's pods, admission.maxSessions' pods), never below min."""
    bounds: list[tuple[int, CeilingSource, str]] = [(maximum, "MaxReplicas", "")]
    if tpm_pods is not None:
        bounds.append((tpm_pods, "TPM", "TPM grant"))
    if fixed_pods is not None:
        bounds.append((fixed_pods, "MaxSessions", "admission.maxSessions"))
    pods, source, what = min(bounds, key=lambda bound: bound[0])
    if source == "MaxReplicas":
        return Reasoned((maximum, "MaxReplicas"), f"replicas.max {maximum}")
    if pods >= minimum:
        return Reasoned((pods, source), f"{what}: {pods} pods (below replicas.max {maximum})")
    # Named policy MinWins: replicas.min is a promise the user made; a short grant (or a
    # trunk's ceiling) cannot break it, but the object says so (CapacityLimited) and the alerts
    # fire.
    return Reasoned(
        (minimum, "MinReplicas"),
        f"{what} carries {pods} pods, below replicas.min {minimum}: min wins",
    )


def admission_limit(
    active: float | None,
    ready: int | None,
    per_pod: int,
    tpm_sessions: int | None,
    fixed: int | None,
) -> AdmissionLimit | None:
    """min(ready pods x perPod, TPM ceiling sessions, admission.maxSessions); none while ready
    pods are unknown (a gateway keeps its last limit rather than admit on a guess). Ties name
    the first in that order: Pods, then TPM."""
    if ready is None:
        return None
    limits: list[tuple[int, AdmissionReason]] = [(ready * per_pod, "Pods")]
    if tpm_sessions is not None:
        limits.append((tpm_sessions, "TPM"))
    if fixed is not None:
        limits.append((fixed, "MaxSessions"))
    limit, reason = min(limits, key=lambda item: item[0])  # min keeps the first of equals
    headroom = None if active is None else math.floor(limit - active)
    return AdmissionLimit(limit, headroom, reason)


def held_by_latency(limit: AdmissionLimit | None, active: float | None) -> AdmissionLimit | None:
    """While the latency guard holds (core/planner/latency.py), no more calls than are live: new
    calls only as calls end, until the pods answer in time again."""
    if limit is None or active is None or limit.max_sessions <= active:
        return limit
    return AdmissionLimit(math.floor(active), 0, "Latency")


def admission_bound(
    tpm: TokenPlan, tokens_per_session_minute: int | None, fixed: int | None
) -> AdmissionLimit | None:
    """What the admission limit can be at most whatever the pods: the TPM calls (of the grant,
    else of the reservation, which no grant exceeds) and admission.maxSessions. `voicecap plan`
    shows it when ready pods are not given."""
    bounds: list[tuple[int, AdmissionReason]] = []
    if tpm.ceiling_sessions is not None:
        bounds.append((tpm.ceiling_sessions, "TPM"))
    elif tpm.requested is not None and tokens_per_session_minute:
        calls = sizing.tpm_ceiling_sessions(tpm.requested, tokens_per_session_minute)
        bounds.append((calls, "TPM"))
    if fixed is not None:
        bounds.append((fixed, "MaxSessions"))
    if not bounds:
        return None
    limit, reason = min(bounds, key=lambda item: item[0])
    return AdmissionLimit(limit, None, reason)
