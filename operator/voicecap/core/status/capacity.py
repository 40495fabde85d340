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
    CalibrationStatus,
    Condition,
    HPAConditionStatus,
    HPAStatus,
    NextPeak,
    PerPodCalibrationStatus,
    TokensCalibrationStatus,
    TPMStatus,
    VoiceCapacityStatus,
)
from voicecap.api.timefmt import iso, iso_or_none
from voicecap.core.apply.autoscaler import HPA_CONDITION_TYPES, HPAReport
from voicecap.core.apply.outcome import Outcome
from voicecap.core.measured.calibration import per_pod_verdict, verdict
from voicecap.core.planner.plan import Plan
from voicecap.core.status import events, memory
from voicecap.core.status.condition_types import decide_all
from voicecap.core.status.memory import rounded


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
        admission=AdmissionStatus(
            max_sessions=plan.admission.max_sessions,
            headroom_sessions=plan.admission.headroom_sessions,
            reason=plan.admission.reason,
        )
        if plan.admission is not None
        else None,
        calibration=_calibration(plan),
        latency=memory.latency_block(plan),
        forecast=memory.forecast_block(plan),
        burst_factor=plan.burst_factor,
        recommendations=memory.recommendations_block(plan),
        last_evaluated=previous.last_evaluated if previous else None,
        conditions=events.dated(decide_all(plan, outcome), previous, generation, now),
    )


def _calibration(plan: Plan) -> CalibrationStatus | None:
    """Declared inputs against what was measured, where something can be measured."""
    measured = plan.inputs.calibration
    per_pod = None
    if plan.spec_latency_target is not None and measured.per_pod is not None:
        estimate = measured.per_pod
        per_pod = PerPodCalibrationStatus.model_validate(
            {
                "declared": plan.declared_per_pod,
                "measured": rounded(estimate.measured, 1),
                "method": estimate.method,
                "samples": estimate.samples,
                "from": rounded(estimate.load_from, 1),
                "to": rounded(estimate.load_to, 1),
                "reason": per_pod_verdict(plan.declared_per_pod, estimate),
                "message": estimate.why,
            }
        )
    tokens = None
    declared = plan.declared_tokens_per_session_minute
    if declared is not None and measured.tokens is not None:
        used = measured.tokens
        tokens = TokensCalibrationStatus(
            declared=declared,
            measured=rounded(used.measured, 1),
            samples=round(used.call_minutes),
            reason=verdict(declared, used.measured),
            message=used.why,
        )
    if per_pod is None and tokens is None:
        return None
    return CalibrationStatus(
        per_pod=per_pod,
        tokens_per_session_minute=tokens,
        computed_at=iso_or_none(measured.computed_at),
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
