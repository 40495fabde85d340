"""The status of a VoiceCapacity and of a TokenBudget: what the operator reports (and remembers)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from voicecap.api.base import Model, Timestamp
from voicecap.api.types import Duration

# ---------------------------------------------------------------- VoiceCapacity status


class Condition(Model):
    """A standard Kubernetes condition."""

    type: str = Field(description="Ready, MetricsAvailable, PeakActive, HeadroomLow, ...")
    status: Literal["True", "False", "Unknown"] = Field(description="True, False or Unknown.")
    reason: str = Field("", description="One CamelCase word: why the condition is what it is.")
    message: str = Field("", description="What a person needs to know, with the numbers.")
    last_transition_time: Timestamp | None = Field(None, description="When status last changed.")
    observed_generation: int | None = Field(
        None, description="The spec generation this condition was decided for."
    )


class SessionsStatus(Model):
    """Live calls against the capacity of the ready pods."""

    active: float | None = Field(None, description="Active calls, last known.")
    capacity: int | None = Field(None, description="Ready pods x perPod.")
    utilization: float | None = Field(None, description="active / capacity.")
    ceiling_sessions: int | None = Field(
        None,
        description="The calls the ceiling can carry: min(replicas.max x perPod, TPM ceiling "
        "sessions, admission.maxSessions).",
    )
    ceiling_utilization: float | None = Field(
        None, description="active / ceilingSessions: the planning signal (NearCeiling)."
    )


class ScaleUpStatus(Model):
    """From a raised floor to Ready pods: what a peak's leadTime must cover."""

    last_seconds: float | None = Field(
        None, description="The last scale-up measured: seconds from the floor raised to Ready."
    )
    last_target: int | None = Field(None, description="The floor that scale-up asked for.")
    recent_seconds: list[float] = Field(
        default_factory=list,
        max_length=10,
        description="The last ten scale-ups measured, oldest first: their 90th percentile plus "
        "an HPA sync and the metrics' lag is how far ahead the peak floor looks, and what "
        "leadTime: auto raises a window by.",
    )
    pending_since: Timestamp | None = Field(
        None, description="A scale-up still waiting for Ready pods: when the floor was raised."
    )
    pending_target: int | None = Field(None, description="The floor it waits for.")


class ReplicasStatus(Model):
    """The target's ready pods, and the floor and ceiling as planned."""

    current: int | None = Field(None, description="Ready replicas of the target.")
    floor: int | None = Field(None, description="The HPA's minReplicas, as planned.")
    ceiling: int | None = Field(None, description="The HPA's maxReplicas, as planned.")
    sessions: int | None = Field(
        None,
        description="The pods live calls need (held inside the HPA's 10 % tolerance, so calls "
        "hovering at a pod boundary do not move the floor).",
    )
    scale_up: ScaleUpStatus | None = Field(
        None, description="The time from a raised floor to Ready pods, as last measured."
    )


class HPAConditionStatus(Model):
    """One of the HPA's conditions, without its message (see `kubectl describe hpa`)."""

    type: str = Field(description="AbleToScale, ScalingActive or ScalingLimited.")
    status: Literal["True", "False", "Unknown"] = Field(description="True, False or Unknown.")
    reason: str = Field("", description="The HPA's reason.")


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
    """The peak whose next window starts soonest."""

    name: str = Field(description="The peak's name.")
    starts_at: Timestamp = Field(description="When its window starts (UTC).")


class TPMStatus(Model):
    """Model tokens per minute: reserved, granted by the TokenBudget, and in use."""

    requested: int | None = Field(None, description="spec.model.reservedTPM.")
    granted: int | None = Field(None, description="What the TokenBudget grants this vertical.")
    projected: int | None = Field(
        None,
        description="Active sessions x the tokens a call-minute uses: as measured "
        "(status.calibration.tokensPerSessionMinute) where it is, else as counted.",
    )
    ceiling_sessions: int | None = Field(
        None,
        description="floor(granted / tokensPerSessionMinute), at the value counted "
        "(model.tokensFrom).",
    )


class Recommendation(Model):
    """A floor scale-down stabilization remembers (see core/planner/stabilization.py for `at`)."""

    at: Timestamp = Field(description="When this floor was recommended.")
    floor: int = Field(description="The floor recommended then.")


class HeadroomStatus(Model):
    """The sustained headroom level and when utilization crossed each threshold."""

    level: Literal["Normal", "Warning", "Critical"] = Field(
        "Normal", description="Normal, Warning or Critical (sustained for headroom.for)."
    )
    warning_since: Timestamp | None = Field(
        None, description="Since when utilization has been at or above headroom.warning."
    )
    critical_since: Timestamp | None = Field(
        None, description="Since when utilization has been at or above headroom.critical."
    )
    near_ceiling_since: Timestamp | None = Field(
        None,
        description="Since when calls have been at or above headroom.ceilingWarning of the "
        "ceiling's calls.",
    )


class LastWindowStatus(Model):
    """How the latest window of a peak went against what its pre-scale planned for."""

    start: Timestamp = Field(description="When the window started.")
    end: Timestamp = Field(description="When the window ends or ended.")
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
    planned_floor: int | None = Field(
        None, description="The floor planned for the window when it opened."
    )
    ready_at_open: int | None = Field(
        None, description="Ready pods when the window opened (first evaluation inside it)."
    )
    shortfall: int | None = Field(
        None, description="plannedFloor - readyAtOpen when positive: the pre-scale was late."
    )


class WeekStatus(Model):
    """One past week's value of a peak's window, as the forecast used it."""

    start: Timestamp = Field(description="When that week's window started.")
    end: Timestamp = Field(description="When it ended.")
    sessions: float | None = Field(
        None, description="Its value: forecast.quantile of the calls inside it (absent: no data)."
    )
    offered: bool = Field(
        False,
        description="True: the calls offered (served plus those refused for lack of capacity, "
        "from sessions.rejectedQuery and the mean call duration), not only those served.",
    )
    censored: bool = Field(
        False,
        description="True: the calls served sat at that week's admission limit (above 95 % of "
        "it) and nothing says how many were refused: the real demand was higher.",
    )


class BacktestStatus(Model):
    """The forecast made for each past week from the weeks before it, against that week."""

    weeks: int = Field(description="Past weeks forecast (those with minWeeks weeks before them).")
    mean_absolute_error: float = Field(
        description="The mean of |forecast - what the week carried| / what it carried."
    )
    under_forecast_weeks: int = Field(
        description="Weeks that carried more than their forecast (most of them, with a large "
        "error: a trend the forecast misses; forecast.trend: Weekly follows it)."
    )


class ForecastStatus(Model):
    """One peak's forecast and its latest window (docs/api.md "Forecasts")."""

    peak: str = Field(description="The peak's name.")
    sessions: float | None = Field(
        None, description="forecastSessions: the peak's baseline unless expectedSessions is set."
    )
    weeks_used: int = Field(0, description="Weeks with data inside the window.")
    profile: list[float] = Field(
        default_factory=list,
        max_length=64,
        description="The forecast calls for each equal slot of the window, in order: the floor "
        "follows them (sessions is their largest).",
    )
    quantile: float | None = Field(None, description="forecast.quantile it was computed with.")
    window_start: Timestamp | None = Field(None, description="The window it forecasts.")
    computed_at: Timestamp | None = Field(None, description="When its numbers last changed.")
    reason: str = Field(
        "Pending",
        description="Forecast, CensoredHistory (a week used was served at its limit: the "
        "forecast is a lower bound), InsufficientHistory, PrometheusUnreachable, QueryError or "
        "Pending; a failure keeps the last sessions.",
    )
    last_window: LastWindowStatus | None = Field(
        None, description="The scorecard of the peak's latest window (open or closed)."
    )
    replaced_weeks: list[str] = Field(
        default_factory=list,
        max_length=64,
        description="Days of weekly windows the forecast skipped because they were excluded "
        "(holidays); each was replaced by the week before the oldest one used.",
    )
    weeks: list[WeekStatus] = Field(
        default_factory=list,
        max_length=64,
        description="The past weeks the forecast read, newest first: their values, whether "
        "each counts offered calls, and whether it was censored at its limit.",
    )
    trend: float | None = Field(
        None,
        description="With forecast.trend Weekly: the weekly growth learned from those weeks "
        "(0.05: 5 % a week) that carries each one forward.",
    )
    backtest: BacktestStatus | None = Field(
        None, description="How far to trust the forecast: the same rule on past weeks."
    )


class LeadTimeStatus(Model):
    """How early a peak's windows are raised, and why (peaks[].leadTime, auto or declared)."""

    peak: str = Field(description="The peak's name.")
    lead_time: Duration = Field(description="The lead time used now.")
    source: Literal["Declared", "Measured", "Default"] = Field(
        description="Declared: a duration in the spec; Measured: leadTime auto from this "
        "vertical's scale-ups; Default: auto before any scale-up was measured (10m)."
    )
    message: str = Field("", description="Why this lead time.")


class PerPodCalibrationStatus(Model):
    """Per-pod capacity: declared, and measured from latency with its evidence."""

    declared: int = Field(description="sessions.perPod.")
    measured: float | None = Field(
        None,
        description="Calls per pod at which the latency quantile reaches latency.target "
        "(absent: not measurable from the samples; message says why).",
    )
    method: Literal["Observed", "Extrapolated"] | None = Field(
        None,
        description="Observed: the samples reach the target; Extrapolated: they approach it and "
        "the trend reaches it at most 2x past the highest load seen.",
    )
    samples: int = Field(0, description="5-minute samples behind the estimate.")
    from_: float | None = Field(
        None, alias="from", description="The lowest load (calls per pod) the samples cover."
    )
    to: float | None = Field(None, description="The highest load the samples cover.")
    reason: Literal["Matches", "Overstated", "Understated", "InsufficientData"] = Field(
        description="Declared against measured: Matches within 10 % (20 % of an extrapolated "
        "estimate), Overstated when declared "
        "is more than 10 % above, Understated more than 10 % below."
    )
    message: str = Field("", description="The evidence, or why there is no estimate.")


class TokensCalibrationStatus(Model):
    """Tokens per call-minute: declared, and measured from the tokens the vertical used."""

    declared: int = Field(description="model.tokensPerSessionMinute.")
    measured: float | None = Field(
        None, description="Tokens used / call-minutes served over the calibration window."
    )
    samples: int = Field(
        0,
        description="The call-minutes served over the calibration window: each one a sample of "
        "the tokens a call-minute uses.",
    )
    reason: Literal["Matches", "Overstated", "Understated", "InsufficientData"] = Field(
        description="Declared against measured, as for perPod."
    )
    message: str = Field("", description="The evidence, or why there is no estimate.")


class CalibrationStatus(Model):
    """Declared inputs against what the operator measures (docs/api.md "Measured inputs")."""

    per_pod: PerPodCalibrationStatus | None = Field(
        None, description="With spec.latency: per-pod capacity measured from latency."
    )
    tokens_per_session_minute: TokensCalibrationStatus | None = Field(
        None, description="With spec.model: tokens per call-minute measured from real use."
    )
    computed_at: Timestamp | None = Field(None, description="When the numbers last changed.")


class LatencyStatus(Model):
    """The vertical's latency quantile now, and the live guard it drives."""

    seconds: float | None = Field(
        None, description="The vertical's latency quantile now (absent: unknown)."
    )
    target: float | None = Field(None, description="latency.target, in seconds.")
    above_since: Timestamp | None = Field(
        None, description="Since when the quantile has been above target."
    )
    below_since: Timestamp | None = Field(
        None, description="Since when it has been back under 90 % of the target (the release)."
    )
    guard_pods: int | None = Field(
        None,
        description="While the guard holds: the floor it asks for (raised by a quarter each "
        "`for` the latency stays above target).",
    )
    guard_raised_at: Timestamp | None = Field(None, description="When guardPods last rose.")


class ReserveStatus(Model):
    """One reserved pool as published: the calls only its tier may use."""

    name: str = Field(description="The tier (spec.admission.reserve[].name).")
    sessions: int = Field(
        description="Calls kept for it now: as declared, less what the limit cannot hold."
    )


class TenantsStatus(Model):
    """The tenant caps published, summarized (spec.admission.tenantCaps)."""

    config_map: str = Field(description="The ConfigMap read (spec.admission.tenantCaps).")
    tenants: int = Field(description="Tenants with a cap.")
    total_sessions: int = Field(description="The caps summed (may exceed maxSessions).")
    largest_sessions: int | None = Field(None, description="The largest cap.")
    invalid_lines: int = Field(0, description="Lines skipped (TenantCapsReady names them).")


class OutboundStatus(Model):
    """The dial pace published for outbound dialers (Little's law over the general pool)."""

    calls_per_second: float = Field(
        description="generalSessions / the mean call: starting at most this many calls a second "
        "keeps a dialer's calls within the general pool on average."
    )
    call_seconds: float = Field(description="The mean call it assumes, in seconds.")
    from_: Literal["Measured", "Declared"] = Field(
        alias="from",
        description="Measured: voice_call_duration_seconds over the last hour; Declared: "
        "sessions.callDuration.",
    )


class AdmissionStatus(Model):
    """How many calls the gateway may admit now (docs/api.md "Admission")."""

    max_sessions: int = Field(
        description="min(ready pods x perPod, TPM ceiling sessions, admission.maxSessions): the "
        "calls to admit now."
    )
    headroom_sessions: int | None = Field(
        None, description="maxSessions - active sessions (negative: over the limit)."
    )
    reason: Literal["Pods", "TPM", "MaxSessions", "Latency"] = Field(
        description="Which limit binds: Pods, TPM, MaxSessions (spec.admission.maxSessions), or "
        "Latency (the pods answer too slowly: no more calls than are live)."
    )
    reserve: list[ReserveStatus] = Field(
        default_factory=list, description="The reserved pools as published (admission.reserve)."
    )
    general_sessions: int | None = Field(
        None,
        description="maxSessions less the reserved pools: the calls any caller may take (set "
        "with a reserve).",
    )
    overflow: Literal["Reject", "Queue"] | None = Field(
        None, description="What the gateway does past the limit (set with a ConfigMap)."
    )
    outbound: OutboundStatus | None = Field(
        None, description="The published dial pace (admission.outbound.enabled)."
    )
    tenants: TenantsStatus | None = Field(
        None, description="The tenant caps published (admission.tenantCaps), summarized."
    )


class VoiceCapacityStatus(Model):
    """What the operator observed and decided, and why (every field declared: nothing is pruned)."""

    observed_generation: int | None = Field(
        None, description="The spec generation this status answers."
    )
    vertical: str | None = Field(None, description="The vertical label of its session metrics.")
    mode: Literal["Normal", "Peak", "Degraded", "Paused"] | None = Field(
        None,
        description="Normal, Peak (a window is raised), Degraded (sessions unknown) or Paused.",
    )
    sessions: SessionsStatus | None = Field(None, description="Live calls against capacity.")
    replicas: ReplicasStatus | None = Field(None, description="Ready pods, floor and ceiling.")
    active_peak: str | None = Field(None, description="The peak whose window is raised now.")
    next_peak: NextPeak | None = Field(None, description="The next window to start.")
    tpm: TPMStatus | None = Field(None, description="Model tokens per minute (with spec.model).")
    headroom: HeadroomStatus | None = Field(None, description="The sustained headroom level.")
    hpa: HPAStatus | None = None
    admission: AdmissionStatus | None = Field(
        None, description="Admission limit for the call gateway, when ready pods are known."
    )
    calibration: CalibrationStatus | None = Field(
        None, description="Declared inputs against measured ones (spec.latency, spec.model)."
    )
    latency: LatencyStatus | None = Field(
        None, description="With spec.latency: the latency quantile now and the live guard."
    )
    forecast: list[ForecastStatus] = Field(
        default_factory=list,
        description="One entry per peak: its forecast and the scorecard of its latest window.",
        max_length=64,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["peak"]},
    )
    lead_times: list[LeadTimeStatus] = Field(
        default_factory=list,
        description="One entry per peak: the lead time its windows are raised with, and why.",
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
    last_evaluated: Timestamp | None = Field(None, description="When the operator last looked.")
    conditions: list[Condition] = Field(
        default_factory=list,
        description="Ready, MetricsAvailable, PeakActive, HeadroomLow, CapacityLimited, "
        "BudgetGranted, RulesApplied, HPAMetrics, ForecastReady, BurstAboveFactor.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )


class Reservation(Model):
    """One VoiceCapacity's reservation and what it was granted."""

    namespace: str = Field(description="The VoiceCapacity's namespace.")
    name: str = Field(description="The VoiceCapacity's name.")
    requested: int = Field(description="Its spec.model.reservedTPM.")
    granted: int = Field(description="What it was granted.")
    priority: int = Field(0, description="Its spec.model.priority.")


class TokenBudgetStatus(Model):
    """The grants, in the order they were made, and what is left."""

    observed_generation: int | None = Field(
        None, description="The spec generation this status answers."
    )
    requested: int | None = Field(None, description="The sum of the reservations.")
    granted: int | None = Field(None, description="The sum of the grants.")
    available: int | None = Field(None, description="What is left to grant.")
    projected: int | None = Field(
        None,
        description="Tokens per minute the verticals' live calls use now: the sum over the "
        "reserving VoiceCapacities of calls x the tokens a call-minute uses, measured where it "
        "is (absent: none known).",
    )
    projected_share: float | None = Field(
        None, description="projected / tokensPerMinute: the share of the provider's real cap."
    )
    reservations: list[Reservation] = Field(
        default_factory=list, description="Each reservation and its grant, in grant order."
    )
    conditions: list[Condition] = Field(
        default_factory=list,
        description="Ready, Overcommitted (grants above the cap), OvercommitHigh (overcommit "
        "above 0.1) and NearCap (projected use at or above 90 % of the cap).",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
