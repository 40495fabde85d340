"""The spec of a VoiceCapacity and of a TokenBudget: what users declare.

Cross-field rules live twice on purpose: as CEL (`x-kubernetes-validations`, enforced by the
API server at `kubectl apply`) and as pydantic validators (for `voicecap plan`, and for servers
that predate CEL). Tests evaluate both against the same corpus so that they cannot drift apart.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import (
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from voicecap.api import zones
from voicecap.api.base import (
    HPA_TOLERANCE,
    MAX_EXCLUDED,
    MAX_PEAKS,
    RESERVED_RULE_LABELS,
    SpecModel,
    cel,
    defaulted,
    duration_field,
)
from voicecap.api.types import (
    LABEL_VALUE_PATTERN,
    PROMETHEUS_LABEL_NAME_PATTERN,
    Cron,
    DateSpan,
    Duration,
    Quantity,
    TimeZone,
)

# ---------------------------------------------------------------- VoiceCapacity spec


class TargetRef(SpecModel):
    """The workload that serves calls; the operator's HPA targets it."""

    api_version: str = Field("apps/v1", description="API version of the target workload.")
    kind: Literal["Deployment", "StatefulSet"] = Field(
        "Deployment", description="Kind of the target workload."
    )
    name: str = Field(
        min_length=1,
        max_length=253,
        pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
        description="Name of the target workload, in the VoiceCapacity's namespace.",
    )


class Sessions(SpecModel):
    """How many calls a pod carries, and where the live call count comes from."""

    per_pod: int = Field(
        ge=1, le=100_000, description="Concurrent calls one pod serves at 100 % utilization."
    )
    target_utilization: float = Field(
        0.7,
        gt=0,
        le=1,
        description="Plan pods so that they run at this fraction of perPod.",
    )
    query: str = Field(
        "",
        max_length=4096,
        description=(
            "Optional PromQL returning one number: the vertical's active sessions. "
            "Empty: sum(voice_active_sessions{namespace, vertical})."
        ),
    )
    blocking_target: float | None = Field(
        None,
        gt=0,
        lt=0.5,
        description="Optional: size for this probability that a call finds every slot busy "
        "(Erlang B over the pods' pooled slots, e.g. 0.001) instead of targetUtilization; "
        "the HPA's per-pod target becomes perPod, a backstop for when pods fill.",
    )


class Replicas(SpecModel):
    """Bounds of the floor and the ceiling the operator plans (the HPA's min and max)."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                cel("self.min <= self.max", "replicas.min must not exceed replicas.max")
            ]
        }
    )

    min: int = Field(
        1, ge=1, le=10_000, description="Lowest floor; the HPA's minReplicas never goes below it."
    )
    max: int = Field(
        ge=1, le=10_000, description="Highest ceiling; the HPA's maxReplicas never exceeds it."
    )

    @model_validator(mode="after")
    def _min_not_above_max(self) -> Replicas:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) must not exceed max ({self.max})")
        return self


class SessionCost(SpecModel):
    """Resources one concurrent call uses, for sizing reports."""

    cpu: Quantity | None = Field(None, description="CPU one concurrent call uses, e.g. 50m.")
    memory: Quantity | None = Field(
        None, description="Memory one concurrent call uses, e.g. 120Mi."
    )


class ScaleDown(SpecModel):
    """How fast the floor may come down (calls are long-lived)."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(
                    "duration(self.stabilization) <= duration('1h')",
                    "must be at most 1h",
                    field_path=".stabilization",
                )
            ]
        }
    )

    stabilization: Duration = duration_field(
        "10m", "The floor never drops below its highest value within this window (max 1h)."
    )
    protect_busy_pods: bool = Field(
        False,
        description="Rank the target's pods by live calls in the controller.kubernetes.io/"
        "pod-deletion-cost annotation, so a scale-down removes the emptiest pods first (needs "
        "the chart's rbac.busyPods).",
    )
    pod_patches_per_cycle: int = Field(
        20,
        ge=1,
        le=1000,
        description="At most this many pod annotation patches per cycle for this VoiceCapacity.",
    )

    @field_validator("stabilization")
    @classmethod
    def _at_most_one_hour(cls, value: timedelta) -> timedelta:
        if value > timedelta(hours=1):
            raise ValueError("must be at most 1h (the HPA's own limit)")
        return value


class CalendarRef(SpecModel):
    """A ConfigMap of excluded days in the VoiceCapacity's own namespace."""

    name: str = Field(
        min_length=1,
        max_length=253,
        pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
        description="Name of the ConfigMap; every value of its data is read, one date or range "
        "(2026-12-24/2026-12-26) per line, `#` starting a comment.",
    )


class Peak(SpecModel):
    """A known peak: a window that starts at each cron match, pre-scaled from leadTime before."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(
                    "duration(self.duration) > duration('0s')",
                    "must be longer than 0s",
                    field_path=".duration",
                )
            ]
        }
    )

    name: str = Field(
        min_length=1,
        max_length=63,
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        description="Unique name of the peak within this VoiceCapacity.",
    )
    schedule: Cron = Field(description="Start of each window, a 5-field cron in timeZone.")
    duration: Duration = Field(description="How long each window lasts (elapsed time).")
    time_zone: TimeZone = Field(
        "UTC",
        description=f"IANA time zone of schedule, one of tzdata {zones.tzdata_version()}'s; "
        "DST-correct.",
    )
    factor: float = Field(
        1.5,
        ge=1,
        le=20,
        description="Headroom over the forecast: plan factor x the forecast calls at perPod "
        "(1.5: capacity for 1.5x the calls expected at each moment of the window).",
    )
    lead_time: Duration = duration_field(
        "10m", "Raise the floor this long before each window starts."
    )
    expected_sessions: int | None = Field(
        None,
        ge=0,
        description="The window's peak calls; the floor follows the window's shape in history "
        "scaled to it (flat without history). Unset: the forecast, else current sessions.",
    )
    exclude: list[DateSpan] = Field(
        default_factory=list,
        max_length=MAX_EXCLUDED,
        description="Days on which the window does not open (holidays), in timeZone: a date "
        "(2026-12-25) or an inclusive range (2026-12-24/2026-12-26). A window is excluded by the "
        "day it starts on. The forecast skips excluded weeks and looks one week further back.",
    )
    calendar_ref: CalendarRef | None = Field(
        None,
        description="A shared holiday calendar: a ConfigMap in this namespace whose data values "
        "list excluded days, one date or range per line (# comments); added to exclude.",
    )

    @field_validator("duration")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than 0s")
        return value


class Headroom(SpecModel):
    """Utilization levels that count as low headroom, and what to do about them."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(
                    "self.warning < self.critical",
                    "headroom.warning must be below headroom.critical",
                )
            ]
        }
    )

    warning: float = Field(
        0.85,
        gt=0,
        le=1,
        description="Utilization that counts as low headroom; must be above "
        "sessions.targetUtilization x 1.1, the band the HPA holds it in.",
    )
    critical: float = Field(0.9, gt=0, le=1, description="Utilization that counts as critical.")
    for_: Duration = duration_field(
        "10m",
        "Utilization must stay at or above a level this long before it counts.",
        alias="for",
    )
    ceiling_warning: float = Field(
        0.7,
        gt=0,
        le=1,
        description="Planning signal: calls / the ceiling's calls (replicas.max or the TPM grant, "
        "whichever binds) at or above this for `for` raises NearCeiling.",
    )
    action: Literal["Alert", "ScaleUp"] = Field(
        "Alert",
        description="Alert: report only. ScaleUp: also raise the floor to restore headroom.",
    )
    rule_labels: dict[str, str] = Field(
        default_factory=dict,
        description="Extra labels on the generated alert rules (to match a ruleSelector).",
        json_schema_extra={
            "maxProperties": 16,
            "x-kubernetes-validations": [
                cel(
                    f"self.all(k, k.matches('{PROMETHEUS_LABEL_NAME_PATTERN}'))",
                    "ruleLabels keys must be Prometheus label names",
                ),
                cel(
                    " && ".join(f"!('{name}' in self)" for name in RESERVED_RULE_LABELS),
                    "ruleLabels may not set severity, namespace or vertical",
                ),
            ],
        },
    )

    @model_validator(mode="after")
    def _warning_below_critical(self) -> Headroom:
        if self.warning >= self.critical:
            raise ValueError(f"warning ({self.warning}) must be below critical ({self.critical})")
        return self

    @field_validator("rule_labels")
    @classmethod
    def _label_names(cls, labels: dict[str, str]) -> dict[str, str]:
        for name in labels:
            if not re.match(PROMETHEUS_LABEL_NAME_PATTERN, name):
                raise ValueError(f"{name!r} is not a Prometheus label name")
            if name in RESERVED_RULE_LABELS:
                raise ValueError(f"{name!r} is set by the operator and cannot be overridden")
        return labels


class ModelTokens(SpecModel):
    """This vertical's reservation of model tokens per minute from a TokenBudget."""

    budget_ref: str = Field(
        min_length=1, max_length=253, description="Name of the cluster-scoped TokenBudget."
    )
    tokens_per_session_minute: int = Field(
        6000, ge=1, description="Model tokens one minute of one call uses (full duplex ~6000)."
    )
    reserved_tpm: int = Field(
        alias="reservedTPM", ge=0, description="Tokens per minute this vertical reserves."
    )
    priority: int = Field(
        0,
        ge=-1_000_000,
        le=1_000_000,
        description="Higher is granted first when the budget is short.",
    )


class MetricsOutage(SpecModel):
    """What the floor does while session data is unknown."""

    mode: Literal["HoldLastKnown", "Floor"] = Field(
        "HoldLastKnown",
        description="While sessions are unknown: HoldLastKnown never lowers the floor; "
        "Floor holds it at max(replicas.min, peak floor).",
    )
    max_staleness: Duration = duration_field("5m", "A session sample older than this is unknown.")


class Forecast(SpecModel):
    """How each peak's calls are learned from the vertical's own history (docs/api.md
    "Forecasts"): moment by moment inside the window, weeksQuantile of the weekly `quantile`
    of concurrent sessions over the last `weeks` weeks, times `growth`."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(
                    "self.minWeeks <= self.weeks",
                    "forecast.minWeeks must not exceed forecast.weeks",
                ),
                cel(
                    "duration(self.refresh) >= duration('1m')",
                    "must be at least 1m",
                    field_path=".refresh",
                ),
            ]
        }
    )

    weeks: int = Field(
        13, ge=1, le=52, description="Weeks of history the forecast looks back over (max 52)."
    )
    min_weeks: int = Field(
        2, ge=1, le=52, description="Fewer weeks with data than this: no forecast."
    )
    quantile: float = Field(
        0.99,
        gt=0,
        le=1,
        description="Each week's value: this quantile of concurrent sessions inside the window.",
    )
    weeks_quantile: float = Field(
        0.5,
        gt=0,
        le=1,
        description="How the weeks combine, moment by moment: this quantile of the weekly "
        "values (0.5: the median, which a one-off spike week does not move; 1: the largest).",
    )
    growth: float = Field(
        1.0,
        gt=0,
        le=10,
        description="Multiply the combined weekly values by this (1.1: expect 10 % more).",
    )
    refresh: Duration = duration_field(
        "1h", "Recompute at least this often (and whenever a window closes); min 1m."
    )

    @model_validator(mode="after")
    def _min_weeks_within_weeks(self) -> Forecast:
        if self.min_weeks > self.weeks:
            raise ValueError(f"minWeeks ({self.min_weeks}) must not exceed weeks ({self.weeks})")
        return self

    @field_validator("refresh")
    @classmethod
    def _at_least_a_minute(cls, value: timedelta) -> timedelta:
        if value < timedelta(minutes=1):
            raise ValueError("must be at least 1m")
        return value


class ConfigMapRef(SpecModel):
    """A ConfigMap in the VoiceCapacity's own namespace."""

    name: str = Field(
        min_length=1,
        max_length=253,
        pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
        description="Name of the ConfigMap the operator writes the namespace's limits into.",
    )
    namespace: str | None = Field(
        None,
        description="Must be empty or the VoiceCapacity's own namespace: limits are written only "
        "where the VoiceCapacity lives.",
    )


class Admission(SpecModel):
    """Admission limits for the call gateway (docs/api.md "Admission")."""

    config_map_ref: ConfigMapRef | None = Field(
        None,
        description="Publish this vertical's limit in this ConfigMap, one per namespace, as JSON "
        "(key limits.json) for gateways to mount or watch.",
    )
    max_sessions: int | None = Field(
        None,
        ge=0,
        le=10_000_000,
        description="A fixed ceiling on concurrent calls the vertical can carry whatever its "
        "pods, e.g. its SIP trunks' channels or the carrier account's limit: the admission limit "
        "is min(ready pods x perPod, TPM calls, this), and the ceiling never holds more pods than "
        "carry it at perPod. 0 closes admission.",
    )


def warning_floor(target_utilization: float) -> float:
    """The utilization the HPA may hold a vertical at: its target plus the HPA's tolerance."""
    return target_utilization * (1 + HPA_TOLERANCE)


class VoiceCapacitySpec(SpecModel):
    """The capacity a vertical declares: workload, calls per pod, bounds, peaks, headroom and
    model-token reservation."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                # The same IEEE double product as warning_floor, so the API server and
                # `voicecap plan` agree to the last bit on a warning right at the edge.
                cel(
                    "self.headroom.warning > self.sessions.targetUtilization * "
                    f"{1 + HPA_TOLERANCE!r}",
                    "headroom.warning must be above sessions.targetUtilization x "
                    f"{1 + HPA_TOLERANCE:g}: the HPA holds utilization up to there, so a lower "
                    "warning fires (and, with ScaleUp, moves the floor) in steady state",
                    field_path=".headroom.warning",
                )
            ]
        }
    )

    vertical: str | None = Field(
        None,
        max_length=63,
        pattern=LABEL_VALUE_PATTERN,
        description="Value of the `vertical` label in session metrics; default metadata.name.",
    )
    target_ref: TargetRef = Field(description="The workload that serves this vertical's calls.")
    sessions: Sessions = Field(description="Calls per pod and the query that counts live calls.")
    replicas: Replicas = Field(description="Bounds of the floor and the ceiling.")
    session_cost: SessionCost = Field(
        default_factory=SessionCost,
        json_schema_extra=defaulted(SessionCost),
        description="Resources one concurrent call uses.",
    )
    scale_down: ScaleDown = Field(
        default_factory=ScaleDown,
        json_schema_extra=defaulted(ScaleDown),
        description="How fast the floor may come down.",
    )
    peaks: list[Peak] = Field(
        default_factory=list,
        max_length=MAX_PEAKS,
        description="Known peaks: windows during which the floor is pre-scaled.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
    )
    headroom: Headroom = Field(
        default_factory=Headroom,
        json_schema_extra=defaulted(Headroom),
        description="Utilization levels that count as low headroom, and the action.",
    )
    forecast: Forecast = Field(
        default_factory=Forecast,
        json_schema_extra=defaulted(Forecast),
        description="How peak baselines are forecast from the vertical's session history.",
    )
    model: ModelTokens | None = Field(None, description="Model tokens-per-minute reservation.")
    metrics_outage: MetricsOutage = Field(
        default_factory=MetricsOutage,
        json_schema_extra=defaulted(MetricsOutage),
        description="What the floor does while session data is unknown.",
    )
    admission: Admission = Field(
        default_factory=Admission,
        description="Admission limits for the call gateway.",
    )
    paused: bool = Field(False, description="Compute and report, write nothing to children.")

    @model_validator(mode="after")
    def _warning_above_target_band(self) -> VoiceCapacitySpec:
        band = warning_floor(self.sessions.target_utilization)
        if not self.headroom.warning > band:
            raise ValueError(
                f"headroom.warning must be above sessions.targetUtilization x "
                f"{1 + HPA_TOLERANCE:g} ({band:.4g}), not {self.headroom.warning:g}: the HPA holds "
                "utilization up to there, so a lower warning fires (and, with ScaleUp, moves the "
                "floor) in steady state"
            )
        return self

    @field_validator("peaks")
    @classmethod
    def _unique_peak_names(cls, peaks: list[Peak]) -> list[Peak]:
        seen: set[str] = set()
        for peak in peaks:
            if peak.name in seen:
                raise ValueError(f"peak name {peak.name!r} is used twice")
            seen.add(peak.name)
        return peaks


# ---------------------------------------------------------------- TokenBudget


class TokenBudgetSpec(SpecModel):
    """A model provider's tokens-per-minute cap, shared by the VoiceCapacities reserving from it."""

    tokens_per_minute: int = Field(ge=1, description="The provider's tokens-per-minute cap.")
    overcommit: float = Field(
        0.0, ge=0, le=1, description="Grants may add up to tokensPerMinute x (1 + overcommit)."
    )
