"""plan = f(spec, observation, memory, now): one vertical's floor and ceiling, with reasons.

No I/O, no clock, no environment. `memory` is what the previous evaluation decided (kept in the
object's status by the operator), so that the rules which span time (scale-down stabilization,
sustained headroom, holding the last known floor through an outage) survive restarts.

The math is docs/api.md "Semantics":
    plannedPerPod   = perPod x targetUtilization
    sessionReplicas = ceil(active / plannedPerPod), held inside the HPA's 10 % tolerance
                      (Erlang B pods with blockingTarget)
    peakFloor       = ceil(factor x calls(now) / perPod)   inside [start - lead, end), where
                      calls(now) follows the window's forecast shape leadTime ahead
                      (core/planner/peak_floor.py)
    headroomFloor   = fewest pods with utilization < warning           (ScaleUp, sustained)
    ceiling         = min(replicas.max, ceil(floor(grantedTPM / tokensPerSessionMinute) / perPod),
                          ceil(admission.maxSessions / perPod)), never below replicas.min
    floor           = clamp(max(min, sessionReplicas*, peakFloor, headroomFloor, outageHold),
                            min, ceiling)
then never lower than the highest floor within scaleDown.stabilization. *sessionReplicas only
while the HPA cannot read its metric (or has not said), or with blockingTarget.

plan() runs the stages of core/planner/stages.py in order (judge, bounds, pressure, floors,
clamp, report, remember); the Plan holds what each returned, and reads as the flat names the
status, the CLI and the metrics use (plan.floor, plan.peak_floor, plan.reasons, ...)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from voicecap.api.models import Peak, VoiceCapacity
from voicecap.core.peaks.calendar import CalendarReport
from voicecap.core.peaks.forecast import PeakForecast
from voicecap.core.peaks.scorecard import Scorecard
from voicecap.core.peaks.windows import next_start
from voicecap.core.planner import floor_rules, lead_time, stages
from voicecap.core.planner.ceilings import AdmissionLimit, CeilingSource, TokenPlan
from voicecap.core.planner.headroom import CeilingVerdict, Level
from voicecap.core.planner.lead_time import LeadTimeUsed
from voicecap.core.planner.observation import Memory, Observation, SessionsState
from voicecap.core.planner.pod_fit import PodFit
from voicecap.core.planner.reasoned import Reasoned
from voicecap.core.planner.records import (
    Bounds,
    Clamped,
    Floors,
    Given,
    Inputs,
    JudgedSessions,
    Pressure,
    Report,
)
from voicecap.core.planner.tenant_caps import TenantCaps
from voicecap.core.planner.tiers import Tiers
from voicecap.core.planner.usage import Sizing

Mode = Literal["Normal", "Peak", "Degraded", "Paused"]


@dataclass(frozen=True)
class Plan:
    """One vertical's plan at one moment: the record each stage returned, and the flat names
    read from them. Frozen and comparable: a reconcile whose plan equals the last one's (and
    whose object and outcome did not move) rebuilds no status."""

    namespace: str
    name: str
    vertical: str
    declared_per_pod: int  # sessions.perPod
    declared_tokens_per_session_minute: int | None  # model.tokensPerSessionMinute
    spec_latency_target: float | None  # latency.target in seconds (None: not watched)
    mode: Mode
    next_peak: tuple[str, datetime] | None
    ready_replicas: int | None
    peaks: tuple[Peak, ...]  # leadTime: auto resolved (core/planner/lead_time.py)
    lead_times: tuple[LeadTimeUsed, ...]  # the lead time each peak uses, and why
    calendars: CalendarReport
    tenant_caps_map: str | None  # admission.tenantCaps' ConfigMap (None: none named)
    tenant_caps: TenantCaps | None  # what it lists (None: not read yet)
    inputs: Inputs
    judged: Reasoned[JudgedSessions]
    bounds: Bounds
    pressure: Pressure
    floors: Floors
    clamped: Clamped
    report: Report
    memory: Memory

    # ---------------------------------------------------------- the floor and the ceiling

    @property
    def per_pod(self) -> int:
        """The calls a pod carries at 100 %: perPod, or as measured (sessions.perPodFrom)."""
        return self.inputs.per_pod.value

    @property
    def tokens_per_session_minute(self) -> int | None:
        tokens = self.inputs.tokens_per_session_minute
        return tokens.value if tokens is not None else None

    @property
    def floor(self) -> int:
        return self.clamped.floor

    @property
    def wanted(self) -> int:
        """The floor before the ceiling clamps it."""
        return self.clamped.wanted

    @property
    def ceiling(self) -> int:
        return self.bounds.ceiling.value[0]

    @property
    def ceiling_source(self) -> CeilingSource:
        return self.bounds.ceiling.value[1]

    @property
    def capacity_limited(self) -> bool:
        return self.wanted > self.ceiling

    @property
    def session_replicas(self) -> int | None:
        return self.floors.of(floor_rules.SESSIONS).value

    @property
    def peak_floor(self) -> int | None:
        return self.floors.of(floor_rules.PEAK).value

    @property
    def active_peak(self) -> str | None:
        return self.floors.of(floor_rules.PEAK).asked.source

    @property
    def headroom_floor(self) -> int | None:
        return self.floors.of(floor_rules.HEADROOM).value

    @property
    def outage_hold(self) -> int | None:
        return self.floors.of(floor_rules.HOLD).value

    # ---------------------------------------------------------- calls and use

    @property
    def sessions(self) -> float | None:
        """The last known calls."""
        return self.judged.value.last_known

    @property
    def sessions_state(self) -> SessionsState:
        return self.judged.value.state

    @property
    def sessions_known(self) -> bool:
        return self.sessions_state == "Known"

    @property
    def capacity(self) -> int:
        return self.report.utilization.value.capacity

    @property
    def utilization(self) -> float | None:
        return self.report.utilization.value.ratio

    @property
    def utilization_basis(self) -> Literal["ReadyReplicas", "Floor"]:
        return self.report.utilization.value.basis

    @property
    def over_capacity(self) -> bool:
        """More live calls than the ready pods carry at perPod (0 ready pods and any call)."""
        ready = self.ready_replicas
        return (
            self.sessions_state == "Known"
            and ready is not None
            and (self.sessions or 0) > ready * self.per_pod
        )

    @property
    def headroom_level(self) -> Level:
        return self.pressure.headroom.level

    @property
    def headroom_now(self) -> Level:
        return self.pressure.headroom.instantaneous

    @property
    def near_ceiling(self) -> CeilingVerdict:
        return self.pressure.near_ceiling

    @property
    def ceiling_sessions(self) -> int:
        """The calls the ceiling can carry (the planning signal's denominator)."""
        return self.bounds.ceiling_sessions

    @property
    def sizing(self) -> Sizing:
        return self.report.sizing

    @property
    def pod_fit(self) -> PodFit | None:
        """The target's requests against perPod calls (None: not comparable)."""
        return self.report.pod_fit

    # ---------------------------------------------------------- tokens and admission

    @property
    def tpm(self) -> TokenPlan:
        return self.bounds.tpm.value

    @property
    def admission(self) -> AdmissionLimit | None:
        return self.report.admission

    @property
    def tiers(self) -> Tiers | None:
        """The reserved pools, overflow and dial pace published with the limit."""
        return self.report.tiers

    @property
    def admission_bound(self) -> AdmissionLimit | None:
        """At most this whatever the pods (TPM, maxSessions)."""
        return self.report.admission_bound

    # ---------------------------------------------------------- peaks

    @property
    def forecasts(self) -> tuple[PeakForecast, ...]:
        """One per peak, in peak order."""
        return self.report.forecasts

    @property
    def burst_factor(self) -> float | None:
        return self.report.burst_factor

    @property
    def skipped(self) -> dict[str, tuple[date, ...]]:
        """Per peak: excluded days on which its schedule would open before its next window."""
        return self.report.skipped

    @property
    def scorecards(self) -> tuple[Scorecard, ...]:
        return self.memory.scorecards

    # ---------------------------------------------------------- why

    @property
    def reasons(self) -> dict[str, str]:
        """Each number's reason by its JSON name, in the order the math reads: the calls, what
        they ask for, the bounds, what the operator holds against pressure, the floor, the use.
        A term with nothing to say is left out."""
        demand = [t for t in self.floors.terms if t.kind == "demand"]
        guards = [t for t in self.floors.terms if t.kind == "guard"]
        tokens = self.inputs.tokens_per_session_minute
        ordered = [
            ("perPod", self.inputs.per_pod.reason),
            ("tokensPerSessionMinute", tokens.reason if tokens is not None else None),
            ("sessions", self.judged.reason),
            *((t.reason_key, t.reason) for t in demand if t.reason_key),
            ("tpm", self.bounds.tpm.reason),
            ("ceiling", self.bounds.ceiling.reason),
            *((t.reason_key, t.reason) for t in guards if t.reason_key),
            ("floor", self.clamped.reason),
            ("utilization", self.report.utilization.reason),
        ]
        return {key: reason for key, reason in ordered if key is not None and reason is not None}


def plan(
    capacity: VoiceCapacity,
    observation: Observation,
    now: datetime,
    memory: Memory | None = None,
) -> Plan:
    """The plan, stage by stage (core/planner/stages.py): each reads what those before returned."""
    memory = memory or Memory()
    capacity, lead_times = lead_time.resolve(capacity, memory.readiness)  # leadTime: auto
    given = Given(capacity, observation, memory, now)
    judged = stages.judge(given)
    bounds = stages.bounds(given, judged=judged.value)
    pressure = stages.pressure(given, judged=judged.value, bounds=bounds)
    floors = stages.floors(given, judged=judged.value, pressure=pressure)
    clamped = stages.clamp(given, floors=floors, bounds=bounds)
    report = stages.report(
        given, judged=judged.value, bounds=bounds, pressure=pressure, floor=clamped.floor
    )
    upcoming = next_start(capacity.spec.peaks, now)
    spec = capacity.spec
    return Plan(
        namespace=capacity.namespace,
        name=capacity.metadata.name,
        vertical=capacity.vertical,
        declared_per_pod=spec.sessions.per_pod,
        declared_tokens_per_session_minute=spec.model.tokens_per_session_minute
        if spec.model
        else None,
        spec_latency_target=spec.latency.target.total_seconds() if spec.latency else None,
        mode=_mode(capacity, known=judged.value.active is not None, floors=floors),
        next_peak=(upcoming[0].name, upcoming[1]) if upcoming else None,
        ready_replicas=observation.ready_replicas,
        peaks=tuple(spec.peaks),
        lead_times=lead_times,
        calendars=observation.calendars,
        tenant_caps_map=spec.admission.tenant_caps.config_map_ref.name
        if spec.admission.tenant_caps
        else None,
        tenant_caps=observation.tenant_caps,
        inputs=Inputs(given.per_pod, given.tokens_per_session_minute, given.calibration),
        judged=judged,
        bounds=bounds,
        pressure=pressure,
        floors=floors,
        clamped=clamped,
        report=report,
        memory=stages.remember(
            given,
            judged=judged.value,
            floors=floors,
            pressure=pressure,
            clamped=clamped,
            report=report,
        ),
    )


def _mode(capacity: VoiceCapacity, *, known: bool, floors: Floors) -> Mode:
    """Paused over Degraded over Peak: what an SRE most needs to know comes first."""
    if capacity.spec.paused:
        return "Paused"
    if not known:
        return "Degraded"
    return "Peak" if floors.of(floor_rules.PEAK).value is not None else "Normal"
