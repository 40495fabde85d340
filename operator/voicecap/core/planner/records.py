"""What each stage of a plan returns (core/planner/stages.py runs them in order; the Plan holds
them). Every record is frozen and holds its values with their reasons, so a reader follows a
number back to the stage that decided it, and two plans that decide the same compare equal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Literal, Protocol

from voicecap.api.models import VoiceCapacity
from voicecap.core.measured.calibration import Calibration, Counted, counted, tolerance_of
from voicecap.core.peaks import forecast
from voicecap.core.peaks.forecast import PeakForecast
from voicecap.core.peaks.scorecard import Scorecard
from voicecap.core.planner.ceilings import AdmissionLimit, CeilingSource, TokenPlan
from voicecap.core.planner.headroom import CeilingVerdict, HeadroomVerdict
from voicecap.core.planner.latency import LatencyVerdict
from voicecap.core.planner.observation import Memory, Observation, SessionsState
from voicecap.core.planner.pod_fit import PodFit
from voicecap.core.planner.reasoned import Reasoned
from voicecap.core.planner.stabilization import Recommendation
from voicecap.core.planner.tiers import Tiers
from voicecap.core.planner.usage import Sizing, Utilization


@dataclass(frozen=True)
class Given:
    """What every stage reads: the spec, what was observed, the last memory, the moment."""

    capacity: VoiceCapacity
    observation: Observation
    memory: Memory
    now: datetime

    @cached_property
    def calibration(self) -> Calibration:
        """What was measured: this refresh's, else the last one kept in memory (status)."""
        fresh = self.observation.calibration
        return fresh if fresh.computed_at is not None else self.memory.calibration

    @cached_property
    def per_pod(self) -> Counted:
        """The calls a pod carries at 100 %: perPod, or as measured (sessions.perPodFrom)."""
        sessions = self.capacity.spec.sessions
        estimate = self.calibration.per_pod
        measured = estimate.measured if estimate is not None else None
        return counted(
            "perPod",
            sessions.per_pod,
            measured,
            sessions.per_pod_from,
            round_up=False,
            tolerance=tolerance_of(estimate),
        )

    @cached_property
    def tokens_per_session_minute(self) -> Counted | None:
        """Tokens one call-minute uses: declared, or as measured (model.tokensFrom); None
        without spec.model."""
        model = self.capacity.spec.model
        if model is None:
            return None
        estimate = self.calibration.tokens
        measured = estimate.measured if estimate is not None else None
        return counted(
            "tokensPerSessionMinute",
            model.tokens_per_session_minute,
            measured,
            model.tokens_from,
            round_up=True,
        )

    @cached_property
    def forecasts(self) -> dict[str, PeakForecast]:
        """Each declared peak's forecast: fresh, else the one kept in memory (a failed refresh
        or a restart keeps the last numbers)."""
        names = {peak.name for peak in self.capacity.spec.peaks}
        kept = forecast.with_kept(self.observation.history.forecasts, self.memory.forecasts)
        return {name: value for name, value in kept.items() if name in names}


@dataclass(frozen=True)
class JudgedSessions:
    """The live calls as the planner judges them (core/planner/observation.judge_sessions)."""

    active: float | None  # known now
    state: SessionsState
    last_known: float | None  # now, or as last known


@dataclass(frozen=True)
class Bounds:
    """The upper bounds: the TPM grant's calls, the ceiling and what it carries."""

    tpm: Reasoned[TokenPlan]
    ceiling: Reasoned[tuple[int, CeilingSource]]
    fixed: int | None  # admission.maxSessions
    ceiling_sessions: int  # the calls the ceiling carries: the planning signal's denominator


@dataclass(frozen=True)
class Pressure:
    """How close the calls are to the ready pods (headroom) and to the ceiling, and whether the
    pods answer too slowly (latency), each sustained."""

    headroom: HeadroomVerdict
    near_ceiling: CeilingVerdict
    latency: LatencyVerdict
    rate_limited: float | None  # the provider's 429s over the last 5 minutes (None: unknown)


@dataclass(frozen=True)
class Inputs:
    """What the plan counts with where a declaration can be measured instead, and what was
    measured (status.calibration)."""

    per_pod: Counted
    tokens_per_session_minute: Counted | None
    calibration: Calibration


# demand: what the calls, live and forecast, ask for; guard: what the operator holds against
# pressure or blindness. The plan's reasons list demand before the bounds and guards after.
FloorKind = Literal["demand", "guard"]


@dataclass(frozen=True)
class Asked:
    """What one floor term asks for now (core/planner/floors.py)."""

    value: int | None  # pods; None: nothing now
    reason: str | None = None
    counts: bool = True  # False: reported, but left to the HPA (the floor does not take it)
    source: str | None = None  # what asked, when a term has several (the raised peak's name)


@dataclass(frozen=True)
class FloorTerm:
    """One candidate of the floor, as the floors stage found it."""

    name: str  # as the floor's reason names it ("max(min 2, peak 5) = 5")
    reason_key: str | None  # its key in the plan's reasons and JSON (None: it has none)
    kind: FloorKind
    asked: Asked

    @property
    def value(self) -> int | None:
        return self.asked.value

    @property
    def reason(self) -> str | None:
        return self.asked.reason

    @property
    def binding(self) -> int | None:
        """What it asks of the floor: its value, unless it is only reported."""
        return self.asked.value if self.asked.counts else None


class Named(Protocol):
    """Anything with the name of a floor term (core/planner/floors.py's FloorRule)."""

    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class Floors:
    """Every floor candidate, in the order core/planner/floors.py lists them."""

    terms: tuple[FloorTerm, ...]

    def of(self, rule: Named) -> FloorTerm:
        for term in self.terms:
            if term.name == rule.name:
                return term
        raise KeyError(f"no floor term {rule.name!r}: is its rule in FLOOR_RULES?")

    @property
    def wanted(self) -> int:
        """The largest demand, before the ceiling."""
        return max(term.binding for term in self.terms if term.binding is not None)


@dataclass(frozen=True)
class Clamped:
    """The floor: the largest candidate, under the ceiling, held on the way down."""

    wanted: int  # the largest candidate, before the ceiling
    floor: int
    recommendations: tuple[Recommendation, ...]
    reason: str


@dataclass(frozen=True)
class Report:
    """What a plan reports besides its floor and ceiling."""

    utilization: Reasoned[Utilization]
    admission: AdmissionLimit | None
    admission_bound: AdmissionLimit | None
    tiers: Tiers | None  # reserved pools, overflow and the dial pace (on the bound if no limit)
    sizing: Sizing
    pod_fit: PodFit | None
    forecasts: tuple[PeakForecast, ...]  # one per peak, in peak order
    scorecards: tuple[Scorecard, ...]
    burst_factor: float | None
    skipped: dict[str, tuple[date, ...]]  # per peak: excluded days before its next window
