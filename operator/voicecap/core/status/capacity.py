"""The VoiceCapacity's status, from a Plan and what applying it did: the user interface.

Pure functions of (plan, outcome, previous status, now). The blocks that double as the
operator's memory across restarts are written (and read back) in core/status/memory.py; the
conditions are decided by the rows of core/status/condition_types.py. Nothing here changes from
one cycle to the next unless something real changed: a steady cycle must produce the same
status, because the operator writes only differences.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from voicecap.api.models import (
    AdmissionStatus,
    Condition,
    HPAConditionStatus,
    HPAStatus,
    LeadTimeStatus,
    NextPeak,
    OutboundStatus,
    ReserveStatus,
    TenantsStatus,
    TPMStatus,
    VoiceCapacityStatus,
)
from voicecap.api.timefmt import iso
from voicecap.core.apply.autoscaler import HPA_CONDITION_TYPES, HPAReport
from voicecap.core.apply.outcome import Outcome
from voicecap.core.planner.plan import Plan
from voicecap.core.status import events, memory
from voicecap.core.status.condition_types import decide_all


def build_status(
    plan: Plan,
    outcome: Outcome,
    *,
    previous: VoiceCapacityStatus | None,
    generation: int | None,
    now: datetime,
) -> VoiceCapacityStatus:
    return VoiceCapacityStatus(
        observed_generation=generation,
        vertical=plan.vertical,
        mode=plan.mode,
        sessions=memory.sessions_block(plan),
        replicas=memory.replicas_block(plan),
        active_peak=plan.active_peak,
        next_peak=NextPeak(name=plan.next_peak[0], starts_at=iso(plan.next_peak[1]))
        if plan.next_peak
        else None,
        tpm=TPMStatus(
            requested=plan.tpm.requested,
            granted=plan.tpm.granted,
            projected=plan.tpm.projected,
            ceiling_sessions=plan.tpm.ceiling_sessions,
        )
        if plan.tpm.requested is not None
        else None,
        headroom=memory.headroom_block(plan),
        hpa=_hpa_status(outcome.hpa, outcome.hpa_max_replicas) if outcome.hpa is not None else None,
        admission=_admission_status(plan),
        calibration=memory.calibration_block(plan),
        latency=memory.latency_block(plan),
        forecast=memory.forecast_block(plan),
        lead_times=[
            LeadTimeStatus(
                peak=used.peak, lead_time=used.lead, source=used.source, message=used.reason
            )
            for used in plan.lead_times
        ],
        burst_factor=plan.burst_factor,
        recommendations=memory.recommendations_block(plan),
        last_evaluated=previous.last_evaluated if previous else None,
        conditions=events.dated(decide_all(plan, outcome), previous, generation, now),
    )


def invalid_status(
    message: str,
    *,
    previous: VoiceCapacityStatus | None,
    generation: int | None,
    now: datetime,
) -> VoiceCapacityStatus:
    """Ready=False InvalidSpec; everything else stays as last decided (nothing is lost)."""
    base = previous or VoiceCapacityStatus()
    ready = Condition(type="Ready", status="False", reason="InvalidSpec", message=message)
    others = [c for c in base.conditions if c.type != "Ready"]
    return base.model_copy(
        update={
            "observed_generation": generation,
            "conditions": events.dated([ready, *others], previous, generation, now),
        }
    )


def _admission_status(plan: Plan) -> AdmissionStatus | None:
    limit, tiers = plan.admission, plan.tiers
    if limit is None:
        return None
    status = AdmissionStatus(
        max_sessions=limit.max_sessions,
        headroom_sessions=limit.headroom_sessions,
        reason=limit.reason,
    )
    if tiers is None:
        return status
    pace = tiers.pace
    return status.model_copy(
        update={
            "reserve": [ReserveStatus(name=name, sessions=kept) for name, kept in tiers.reserve],
            "general_sessions": tiers.general if tiers.reserve else None,
            "overflow": tiers.overflow if tiers.published else None,
            "outbound": OutboundStatus.model_validate(
                {
                    "callsPerSecond": pace.calls_per_second,
                    "callSeconds": pace.call_seconds,
                    "from": pace.source,
                }
            )
            if pace is not None
            else None,
            "tenants": _tenants_status(plan),
        }
    )


def _tenants_status(plan: Plan) -> TenantsStatus | None:
    tiers = plan.tiers
    if tiers is None or tiers.tenants is None or plan.tenant_caps_map is None:
        return None
    caps = tiers.tenants
    return TenantsStatus(
        config_map=plan.tenant_caps_map,
        tenants=len(caps.caps),
        total_sessions=caps.total,
        largest_sessions=max(caps.caps.values(), default=None),
        invalid_lines=len(caps.problems),
    )


_CONDITION_STATUS: dict[str, Literal["True", "False"]] = {"True": "True", "False": "False"}


def _hpa_status(report: HPAReport, max_replicas: int | None) -> HPAStatus:
    return HPAStatus(
        current_replicas=report.current_replicas,
        desired_replicas=report.desired_replicas,
        max_replicas=max_replicas,
        conditions=[
            HPAConditionStatus(
                type=c.type,
                status=_CONDITION_STATUS.get(c.status, "Unknown"),
                reason=c.reason,
            )
            for kind in HPA_CONDITION_TYPES
            if (c := report.condition(kind)) is not None
        ],
    )
