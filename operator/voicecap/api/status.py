"""The status of a VoiceCapacity and of a TokenBudget: what the operator reports (and remembers)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from voicecap.api.base import Model, Timestamp

# ---------------------------------------------------------------- VoiceCapacity status


class Condition(Model):
    type: str
    status: Literal["True", "False", "Unknown"]
    reason: str = ""
    message: str = ""
    last_transition_time: Timestamp | None = None
    observed_generation: int | None = None


class SessionsStatus(Model):
    active: float | None = Field(None, description="Active calls, last known.")
    capacity: int | None = Field(None, description="Ready pods x perPod.")
    utilization: float | None = Field(None, description="active / capacity.")


class ReplicasStatus(Model):
    current: int | None = Field(None, description="Ready replicas of the target.")
    floor: int | None = Field(None, description="The HPA's minReplicas, as planned.")
    ceiling: int | None = Field(None, description="The HPA's maxReplicas, as planned.")


class HPAConditionStatus(Model):
    """One of the HPA's conditions, without its message (see `kubectl describe hpa`)."""

    type: str
    status: Literal["True", "False", "Unknown"]
    reason: str = ""


class HPAStatus(Model):
    """What the owned HPA itself reports (`kubectl describe hpa`), copied for one place to look."""

    current_replicas: int | None = Field(None, description="The HPA's currentReplicas.")
    desired_replicas: int | None = Field(None, description="The HPA's desiredReplicas.")
    max_replicas: int | None = Field(
        None, description="maxReplicas as written: the ceiling, or the floor while the HPA "
        "cannot read its metric (condition HPAMetrics).",
    )  # fmt: skip
    conditions: list[HPAConditionStatus] = Field(
        default_factory=list,
        description="The HPA's AbleToScale, ScalingActive and ScalingLimited.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )


class NextPeak(Model):
    name: str
    starts_at: Timestamp


class TPMStatus(Model):
    requested: int | None = None
    granted: int | None = None
    projected: int | None = Field(None, description="active sessions x tokensPerSessionMinute.")
    ceiling_sessions: int | None = Field(
        None, description="floor(granted / tokensPerSessionMinute)."
    )


class Recommendation(Model):
    """A floor scale-down stabilization remembers (see core/stabilization.py for `at`)."""

    at: Timestamp
    floor: int


class HeadroomStatus(Model):
    level: Literal["Normal", "Warning", "Critical"] = "Normal"
    warning_since: Timestamp | None = None
    critical_since: Timestamp | None = None


class LastWindowStatus(Model):
    """How the latest window of a peak went against what its pre-scale planned for."""

    start: Timestamp
    end: Timestamp
    forecast: float | None = Field(
        None, description="The baseline the pre-scale planned for (see source)."
    )
    source: Literal["expected", "forecast", "current", "none"] = Field(
        "none", description="Where that baseline came from: expectedSessions, the forecast, or "
        "the sessions when the floor was raised.",
    )  # fmt: skip
    actual: float | None = Field(
        None, description="forecast.quantile of sessions inside the window, once it closed."
    )
    error_ratio: float | None = Field(
        None,
        description="(actual - forecast) / forecast; above factor - 1 the pre-scale fell short.",
    )
    over_capacity_minutes: int = Field(
        0, description="Minutes inside the window with sessions above ready pods x perPod."
    )
    last_over_capacity: Timestamp | None = Field(None, description="The last minute counted.")


class ForecastStatus(Model):
    """One peak's forecast and its latest window (docs/api.md "Forecasts")."""

    peak: str
    sessions: float | None = Field(
        None, description="forecastSessions: the peak's baseline unless expectedSessions is set."
    )
    weeks_used: int = Field(0, description="Weeks with data inside the window.")
    quantile: float | None = None
    window_start: Timestamp | None = Field(None, description="The window it forecasts.")
    computed_at: Timestamp | None = None
    reason: str = Field(
        "Pending",
        description="Forecast, InsufficientHistory, PrometheusUnreachable, QueryError or Pending; "
        "a failure keeps the last sessions.",
    )
    last_window: LastWindowStatus | None = Field(
        None, description="The scorecard of the peak's latest window (open or closed)."
    )


class VoiceCapacityStatus(Model):
    """What the operator observed and decided, and why (every field declared: nothing is pruned)."""

    observed_generation: int | None = None
    vertical: str | None = None
    mode: Literal["Normal", "Peak", "Degraded", "Paused"] | None = None
    sessions: SessionsStatus | None = None
    replicas: ReplicasStatus | None = None
    active_peak: str | None = None
    next_peak: NextPeak | None = None
    tpm: TPMStatus | None = None
    headroom: HeadroomStatus | None = None
    hpa: HPAStatus | None = None
    forecast: list[ForecastStatus] = Field(
        default_factory=list,
        max_length=64,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["peak"]},
    )
    burst_factor: float | None = Field(
        None, description="Largest / median concurrent sessions over the last 28 days."
    )
    recommendations: list[Recommendation] = Field(
        default_factory=list,
        max_length=1000,
        description="Recent floors that scale-down stabilization still remembers.",
    )
    last_evaluated: Timestamp | None = None
    conditions: list[Condition] = Field(
        default_factory=list,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )


class Reservation(Model):
    namespace: str
    name: str
    requested: int
    granted: int
    priority: int = 0


class TokenBudgetStatus(Model):
    observed_generation: int | None = None
    requested: int | None = None
    granted: int | None = None
    available: int | None = Field(None, description="What is left to grant.")
    reservations: list[Reservation] = Field(default_factory=list)
    conditions: list[Condition] = Field(
        default_factory=list,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
