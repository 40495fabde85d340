"""What a cycle saw (Observation), what the last evaluation decided (Memory), and the named
policy that says when a session count is known."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from voicecap.core.measured.calibration import Calibration
from voicecap.core.peaks.calendar import CalendarReport
from voicecap.core.peaks.forecast import History, PeakForecast
from voicecap.core.peaks.scorecard import Scorecard
from voicecap.core.planner.headroom import HeadroomState
from voicecap.core.planner.latency import LatencyState
from voicecap.core.planner.pod_fit import PodRequests
from voicecap.core.planner.readiness import Readiness
from voicecap.core.planner.stabilization import Recommendation
from voicecap.core.planner.tenant_caps import TenantCaps

# Why sessions are or are not known. Everything but Known means UNKNOWN, never zero.
SessionsState = Literal[
    "Known",
    "NoData",
    "Stale",
    "InvalidValue",
    "MultipleSeries",
    "PrometheusUnreachable",
    "QueryError",
]


@dataclass(frozen=True)
class Observation:
    """What was seen this cycle. Adapters fill it; they never decide what a value means."""

    sessions: float | None = None
    sampled_at: datetime | None = None
    failure: SessionsState | None = None  # set when the query gave no usable answer
    detail: str | None = None  # what the failure was, for a person (never a secret)
    ready_replicas: int | None = None
    granted_tpm: int | None = None  # None: no budget grant is known
    # The owned HPA sizes the target from its metric (True), cannot (False), or has not said
    # (None). While it does, the floor leaves live calls to it (core/planner/plan.py).
    hpa_scaling: bool | None = None
    history: History = field(default_factory=History)  # forecasts, burst factor, actuals
    calendars: CalendarReport = field(default_factory=CalendarReport)  # holiday calendars read
    pod_requests: PodRequests | None = None  # the target's pod template (None: unknown)
    # With spec.latency: the vertical's latency quantile now, in seconds (None: unknown).
    latency: float | None = None
    # With spec.model: the provider's rate-limit refusals (429) over the last 5 minutes.
    rate_limited: float | None = None
    # With a blocking target: the calls the refused ones would have held now (refused a second x
    # the mean call duration; None: nothing counts refusals). Erlang B sizes the calls offered.
    refused_load: float | None = None
    # With admission.tenantCaps: what its ConfigMap lists (None: not named, or never read).
    tenant_caps: TenantCaps | None = None
    # With admission.outbound: the mean call over the last hour, in seconds (None: unknown).
    mean_call_seconds: float | None = None
    calibration: Calibration = field(default_factory=Calibration)  # measured, in the background


@dataclass(frozen=True)
class Memory:
    """What the previous evaluation decided."""

    floor: int | None = None
    session_replicas: int | None = None  # the sessions term, held inside the HPA's tolerance
    sessions: float | None = None
    # When sessions were last known: moves with every sample, so it is left out of equality
    # (two plans that decide the same are equal; the operator skips rebuilding their status).
    sessions_at: datetime | None = field(default=None, compare=False)
    headroom: HeadroomState = field(default_factory=HeadroomState)
    recommendations: tuple[Recommendation, ...] = ()
    forecasts: tuple[PeakForecast, ...] = ()  # kept through a failed refresh
    burst_factor: float | None = None
    scorecards: tuple[Scorecard, ...] = ()
    readiness: Readiness = field(default_factory=Readiness)  # scale-ups to Ready pods
    latency: LatencyState = field(default_factory=LatencyState)  # the live guard's clocks
    # What was last measured (status.calibration): counts until this process measures anew,
    # so a restart plans as before and writes nothing.
    calibration: Calibration = field(default_factory=Calibration)


def judge_sessions(
    observation: Observation, *, max_staleness_seconds: float, now: datetime
) -> tuple[float | None, SessionsState]:
    """Named policies for session data: only a finite, non-negative, fresh number is known."""
    if observation.failure is not None:
        return None, observation.failure
    value = observation.sessions
    if value is None:
        return None, "NoData"
    if not math.isfinite(value) or value < 0:
        return None, "InvalidValue"
    if (
        observation.sampled_at is not None
        and (now - observation.sampled_at).total_seconds() > max_staleness_seconds
    ):
        return None, "Stale"
    return value, "Known"
