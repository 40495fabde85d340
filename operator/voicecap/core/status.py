"""Status is the user interface: a Plan and what applying it did, as the object's status.

Pure functions of (plan, outcome, previous status, now). The status doubles as the operator's
memory across restarts (last floor, last known sessions, headroom clocks, stabilization history),
so `memory_from_status` reads back exactly what `build_status` wrote. Nothing here changes from one
cycle to the next unless something real changed: a steady cycle must produce the same status,
because the operator writes only differences.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import ValidationError

from voicecap.api.models import (
    Condition,
    HeadroomStatus,
    HPAConditionStatus,
    HPAStatus,
    NextPeak,
    ReplicasStatus,
    Reservation,
    SessionsStatus,
    TokenBudgetStatus,
    TPMStatus,
    VoiceCapacityStatus,
)
from voicecap.api.models import Recommendation as RecommendationStatus
from voicecap.core.autoscaler import HPA_CONDITION_TYPES, HPAReport
from voicecap.core.headroom import HeadroomState
from voicecap.core.plan import Memory, Plan
from voicecap.core.stabilization import Recommendation
from voicecap.core.tokens import Allocation

CONDITION_TYPES = (
    "Ready",
    "MetricsAvailable",
    "PeakActive",
    "HeadroomLow",
    "CapacityLimited",
    "BudgetGranted",
    "RulesApplied",
    "HPAMetrics",
)

# Why Ready is False (or True) after applying a plan.
ApplyResult = Literal[
    "Reconciled",
    "Paused",
    "TargetNotFound",
    "ConflictingAutoscaler",
    "HPANameTaken",
    "ApplyFailed",
]


@dataclass(frozen=True)
class Outcome:
    """What the operator found and did when it applied a plan."""

    result: ApplyResult
    message: str
    budget_found: bool = True  # False: spec.model.budgetRef names no TokenBudget
    rules: RulesOutcome | None = None  # None: rules were not looked at (invalid spec)
    hpa: HPAReport | None = None  # what the owned HPA reported, when it exists
    hpa_max_replicas: int | None = None  # the maxReplicas written (see core/autoscaler.py)


@dataclass(frozen=True)
class RulesOutcome:
    """Whether the generated alert rules are in place: True, False, or None (not attempted)."""

    applied: bool | None
    reason: str  # PrometheusRule | ConfigMap | ApplyFailed | Paused
    message: str


@dataclass(frozen=True)
class Transition:
    """A change worth a Kubernetes Event."""

    type: Literal["Normal", "Warning"]
    reason: str
    message: str


def build_status(
    plan: Plan,
    outcome: Outcome,
    *,
    previous: VoiceCapacityStatus | None,
    generation: int | None,
    now: datetime,
) -> VoiceCapacityStatus:
    conditions = [
        _ready(outcome),
        _metrics(plan),
        _peak(plan),
        _headroom(plan),
        _capacity_limited(plan),
    ]
    budget = _budget(plan, outcome)
    if budget is not None:
        conditions.append(budget)
    if outcome.rules is not None:
        conditions.append(_rules(outcome.rules))
    if outcome.hpa is not None:
        conditions.append(_hpa_metrics(plan, outcome.hpa))
    memory = plan.memory
    return VoiceCapacityStatus(
        observed_generation=generation,
        vertical=plan.vertical,
        mode=plan.mode,
        sessions=SessionsStatus(
            active=_rounded(plan.sessions, 2),
            capacity=plan.capacity,
            utilization=_rounded(plan.utilization, 3),
        ),
        replicas=ReplicasStatus(
            current=plan.ready_replicas, floor=plan.floor, ceiling=plan.ceiling
        ),
        active_peak=plan.active_peak,
        next_peak=NextPeak(name=plan.next_peak[0], starts_at=_iso(plan.next_peak[1]))
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
        headroom=HeadroomStatus(
            level=plan.headroom_level,
            warning_since=_iso_or_none(memory.headroom.warning_since),
            critical_since=_iso_or_none(memory.headroom.critical_since),
        ),
        hpa=_hpa_status(outcome.hpa, outcome.hpa_max_replicas) if outcome.hpa is not None else None,
        recommendations=[
            RecommendationStatus(at=_iso(r.at), floor=r.floor) for r in memory.recommendations
        ],
        last_evaluated=previous.last_evaluated if previous else None,
        conditions=_dated(conditions, previous, generation, now),
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
            "conditions": _dated([ready, *others], previous, generation, now),
        }
    )


def parse_status(raw: Mapping[str, Any] | None) -> VoiceCapacityStatus | None:
    """The status as written; unreadable (older or hand-edited) status is treated as none."""
    if not raw:
        return None
    try:
        return VoiceCapacityStatus.model_validate(raw)
    except ValidationError:
        return None


def memory_from_status(status: VoiceCapacityStatus | None) -> Memory:
    if status is None:
        return Memory()
    headroom = status.headroom or HeadroomStatus()
    return Memory(
        floor=status.replicas.floor if status.replicas else None,
        sessions=status.sessions.active if status.sessions else None,
        headroom=HeadroomState(
            warning_since=_parse(headroom.warning_since),
            critical_since=_parse(headroom.critical_since),
        ),
        recommendations=tuple(
            Recommendation(at=moment, floor=r.floor)
            for r in status.recommendations
            if (moment := _parse(r.at)) is not None
        ),
    )


def condition(
    status: VoiceCapacityStatus | TokenBudgetStatus | None, kind: str
) -> Condition | None:
    for item in status.conditions if status else ():
        if item.type == kind:
            return item
    return None


def transitions(
    previous: VoiceCapacityStatus | None, current: VoiceCapacityStatus
) -> list[Transition]:
    """Events for what changed. A first evaluation reports only what needs attention."""
    events: list[Transition] = []
    for new in current.conditions:
        old = condition(previous, new.type)
        if old is not None and _same(old, new):
            continue
        event = _event_for(new, old)
        if event is not None:
            events.append(event)
    return events


def _same(old: Condition, new: Condition) -> bool:
    """Ready and HeadroomLow change with their reason (another problem, another level); the
    others with their status only (NoData -> PrometheusUnreachable is still the same outage)."""
    if new.type in {"Ready", "HeadroomLow"}:
        return (old.status, old.reason) == (new.status, new.reason)
    return old.status == new.status


# ---------------------------------------------------------------- conditions


def _ready(outcome: Outcome) -> Condition:
    good = outcome.result in {"Reconciled", "Paused"}
    return Condition(
        type="Ready",
        status="True" if good else "False",
        reason=outcome.result,
        message=outcome.message,
    )


def _metrics(plan: Plan) -> Condition:
    return Condition(
        type="MetricsAvailable",
        status="True" if plan.sessions_known else "False",
        reason="SessionsKnown" if plan.sessions_known else plan.sessions_state,
        message=plan.reasons["sessions"],
    )


def _peak(plan: Plan) -> Condition:
    if plan.active_peak is not None:
        return Condition(
            type="PeakActive",
            status="True",
            reason="InPeakWindow",
            message=plan.reasons.get("peakFloor", plan.active_peak),
        )
    if plan.next_peak is not None:
        message = f"next peak {plan.next_peak[0]} starts {_iso(plan.next_peak[1])}"
    else:
        message = "no peaks declared"
    return Condition(type="PeakActive", status="False", reason="NoActivePeak", message=message)


def _headroom(plan: Plan) -> Condition:
    low = plan.headroom_level != "Normal"
    return Condition(
        type="HeadroomLow",
        status="True" if low else "False",
        reason=plan.headroom_level if low else "HeadroomOK",
        message=plan.reasons["utilization"],
    )


def _capacity_limited(plan: Plan) -> Condition:
    if plan.capacity_limited:
        return Condition(
            type="CapacityLimited",
            status="True",
            reason=plan.ceiling_source,
            message=f"wants {plan.wanted} replicas, ceiling {plan.ceiling}: "
            f"{plan.reasons['ceiling']}",
        )
    return Condition(
        type="CapacityLimited",
        status="False",
        reason="WithinCeiling",
        message=f"floor {plan.floor} within ceiling {plan.ceiling} ({plan.reasons['ceiling']})",
    )


def _budget(plan: Plan, outcome: Outcome) -> Condition | None:
    requested = plan.tpm.requested
    if requested is None:
        return None  # no spec.model: nothing reserved
    if not outcome.budget_found or plan.tpm.granted is None:
        return Condition(
            type="BudgetGranted",
            status="False",
            reason="BudgetNotFound",
            message=plan.reasons.get("tpm", "the referenced TokenBudget does not exist"),
        )
    granted = plan.tpm.granted
    return Condition(
        type="BudgetGranted",
        status="True" if granted >= requested else "False",
        reason="Granted" if granted >= requested else "PartiallyGranted",
        message=plan.reasons["tpm"],
    )


def _rules(rules: RulesOutcome) -> Condition:
    status: Literal["True", "False", "Unknown"] = (
        "Unknown" if rules.applied is None else "True" if rules.applied else "False"
    )
    return Condition(type="RulesApplied", status=status, reason=rules.reason, message=rules.message)


def _hpa_metrics(plan: Plan, report: HPAReport) -> Condition:
    active = report.condition("ScalingActive")
    if active is None:
        return Condition(
            type="HPAMetrics",
            status="Unknown",
            reason="NotReported",
            message="the HPA has not reported ScalingActive yet",
        )
    # The HPA's own messages are left out: they change wording as prometheus-adapter relists
    # ("could not find the metric" / "no metrics returned"), and a copy would cost a status
    # write each time. `kubectl describe hpa` has them.
    if report.metric_unavailable:
        return Condition(
            type="HPAMetrics",
            status="False",
            reason="FloorDrivesScaleDown",
            message=f"the HPA cannot read its metric ({active.reason}; kubectl describe hpa "
            f"says why): maxReplicas held at the floor ({plan.floor}) so scale-down follows the "
            "floor; serve voice_active_sessions_per_pod (prometheus-adapter) to scale between "
            "cycles",
        )
    return Condition(
        type="HPAMetrics",
        status="True",
        reason=active.reason,
        message=f"the HPA reads its metric ({active.reason}) and scales up to the ceiling",
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


def _dated(
    conditions: Sequence[Condition],
    previous: VoiceCapacityStatus | TokenBudgetStatus | None,
    generation: int | None,
    now: datetime,
) -> list[Condition]:
    """lastTransitionTime moves only when a condition's status changes."""
    dated = []
    for item in conditions:
        old = condition(previous, item.type)
        since = (
            old.last_transition_time
            if old is not None and old.status == item.status and old.last_transition_time
            else _iso(now)
        )
        dated.append(
            item.model_copy(
                update={"last_transition_time": since, "observed_generation": generation}
            )
        )
    return dated


# ---------------------------------------------------------------- TokenBudget


def budget_status(
    allocation: Allocation,
    *,
    previous: TokenBudgetStatus | None,
    generation: int | None,
    now: datetime,
) -> TokenBudgetStatus:
    """What a TokenBudget shows: every reservation in grant order, and whether it is short."""
    short = [grant for grant in allocation.grants if grant.short]
    shortfall = (
        f"; {len(short)} short: "
        + ", ".join(
            f"{g.request.namespace}/{g.request.name} {g.granted}/{g.request.requested}"
            for g in short[:5]
        )
        + (" ..." if len(short) > 5 else "")
        if short
        else ""
    )
    ready = Condition(
        type="Ready",
        status="True",
        reason="Allocated",
        message=f"{len(allocation.grants)} reservations: granted {allocation.granted} of "
        f"{allocation.requested} requested, pool {allocation.pool}{shortfall}",
    )
    over = allocation.overcommitted
    overcommitted = Condition(
        type="Overcommitted",
        status="True" if over else "False",
        reason="GrantsAboveCap" if over else "WithinCap",
        message=f"grants {allocation.granted} {'above' if over else 'within'} the provider cap "
        f"{allocation.tokens_per_minute} tokens per minute",
    )
    return TokenBudgetStatus(
        observed_generation=generation,
        requested=allocation.requested,
        granted=allocation.granted,
        available=allocation.available,
        reservations=[
            Reservation(
                namespace=g.request.namespace,
                name=g.request.name,
                requested=g.request.requested,
                granted=g.granted,
                priority=g.request.priority,
            )
            for g in allocation.grants
        ],
        conditions=_dated([ready, overcommitted], previous, generation, now),
    )


def invalid_budget_status(
    message: str, *, previous: TokenBudgetStatus | None, generation: int | None, now: datetime
) -> TokenBudgetStatus:
    """Ready=False InvalidSpec; the budget grants nothing until it is fixed."""
    ready = Condition(type="Ready", status="False", reason="InvalidSpec", message=message)
    return TokenBudgetStatus(
        observed_generation=generation,
        conditions=_dated([ready], previous, generation, now),
    )


def parse_budget_status(raw: Mapping[str, Any] | None) -> TokenBudgetStatus | None:
    if not raw:
        return None
    try:
        return TokenBudgetStatus.model_validate(raw)
    except ValidationError:
        return None


# ---------------------------------------------------------------- events

_PROBLEMS: dict[str, tuple[str, str]] = {
    # condition type -> (reason of the Event when it turns bad, when it recovers)
    "MetricsAvailable": ("MetricsLost", "MetricsRestored"),
    "CapacityLimited": ("CapacityLimited", "CapacityRestored"),
    "BudgetGranted": ("BudgetShort", "BudgetGranted"),
    "RulesApplied": ("RulesNotApplied", "RulesApplied"),
    "HPAMetrics": ("HPAMetricUnavailable", "HPAMetricAvailable"),
}


def _event_for(new: Condition, old: Condition | None) -> Transition | None:
    if new.type == "PeakActive":
        if new.status == "True":
            return Transition("Normal", "PeakEntered", new.message)
        return Transition("Normal", "PeakLeft", new.message) if old is not None else None
    if new.type == "HeadroomLow":
        if new.status == "True":
            return Transition("Warning", f"Headroom{new.reason}", new.message)
        return Transition("Normal", "HeadroomRecovered", new.message) if old else None
    if new.type == "Ready":
        if new.status == "False":
            return Transition("Warning", new.reason, new.message)
        return Transition("Normal", new.reason, new.message) if old is not None else None
    if new.status == "Unknown":
        return None  # not attempted (paused): nothing happened worth an Event
    bad_when = "True" if new.type == "CapacityLimited" else "False"
    lost, back = _PROBLEMS[new.type]
    if new.status == bad_when:
        return Transition("Warning", lost, new.message)
    return Transition("Normal", back, new.message) if old is not None else None


# ---------------------------------------------------------------- small helpers


def _rounded(value: float | None, digits: int) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    value = round(value, digits)
    return int(value) if float(value).is_integer() else value


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_or_none(moment: datetime | None) -> str | None:
    return _iso(moment) if moment is not None else None


def _parse(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
