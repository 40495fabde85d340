"""The spec of a VoiceCapacity: what users declare (its peaks in api/spec_peaks.py, its limits and
the TokenBudget's spec in api/spec_limits.py).

Cross-field rules live twice on purpose: as CEL (`x-kubernetes-validations`, enforced by the
API server at `kubectl apply`) and as pydantic validators (for `voicecap plan`, and for servers
that predate CEL). Tests evaluate both against the same corpus so that they cannot drift apart.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from fractions import Fraction
from typing import Literal

from pydantic import (
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from voicecap.api.base import (
    HPA_TOLERANCE,
    MAX_PEAKS,
    SpecModel,
    cel,
    defaulted,
    duration_field,
    object_name_field,
)
from voicecap.api.spec_limits import Admission, Headroom, MetricsOutage, ModelTokens
from voicecap.api.spec_measured import Latency
from voicecap.api.spec_peaks import Forecast, Peak
from voicecap.api.types import (
    LABEL_VALUE_PATTERN,
    RESOURCE_NAME_PATTERN,
    Duration,
    PromQL,
    Quantity,
)

# ---------------------------------------------------------------- VoiceCapacity spec


class TargetRef(SpecModel):
    """The workload that serves calls; the operator's HPA targets it."""

    api_version: str = Field("apps/v1", description="API version of the target workload.")
    kind: Literal["Deployment", "StatefulSet"] = Field(
        "Deployment", description="Kind of the target workload."
    )
    name: str = object_name_field("Name of the target workload, in the VoiceCapacity's namespace.")


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
    per_pod_from: Literal["Declared", "Measured"] = Field(
        "Declared",
        description="Declared: plan with perPod. Measured: plan with the per-pod capacity "
        "measured from latency (status.calibration.perPod; needs spec.latency), within half "
        "and twice perPod, and perPod while none is measured.",
    )
    rejected_query: PromQL = Field(
        "",
        description="Optional PromQL of the calls refused for lack of capacity, a counter whose "
        "series carry the namespace and vertical labels: with the mean call duration it turns "
        "the calls served into the calls offered for forecasts (with the default session query; "
        "an override's one series is forecast as it is). Empty: "
        "sum by (namespace, vertical) (voice_calls_rejected_total).",
    )
    call_duration: Duration | None = Field(
        None,
        description="The mean call duration, where voice_call_duration_seconds is not exported "
        "(offered load, outbound pacing). Unset: measured from that histogram.",
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
    extended: dict[str, Quantity] = Field(
        default_factory=dict,
        description="Extended resources one concurrent call uses, by resource name, e.g. "
        'nvidia.com/gpu: "0.05" (GPUs are requested whole per pod: perPod x this, rounded up).',
        json_schema_extra={
            "maxProperties": 8,
            "x-kubernetes-validations": [
                cel(
                    f"self.all(k, k.matches('{RESOURCE_NAME_PATTERN}'))",
                    "extended resource names are DOMAIN/NAME, e.g. nvidia.com/gpu",
                )
            ],
        },
    )

    @field_validator("extended")
    @classmethod
    def _resource_names(cls, resources: dict[str, str]) -> dict[str, str]:
        for name in resources:
            if not re.match(RESOURCE_NAME_PATTERN, name):
                raise ValueError(f"{name!r} is not an extended resource name (DOMAIN/NAME)")
        return resources


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


def warning_floor(target_utilization: float) -> float:
    """The utilization the HPA may hold a vertical at: its target plus the HPA's tolerance."""
    return target_utilization * (1 + HPA_TOLERANCE)


def critical_floor(target_utilization: float) -> float:
    """A critical level written without a warning must be above this (and above 0.85)."""
    return target_utilization * (1 + HPA_TOLERANCE) + 0.01


DEFAULT_WARNING = Fraction(85, 100)
DEFAULT_CRITICAL = Fraction(90, 100)
CRITICAL_ABOVE_WARNING = Fraction(5, 100)


def default_levels(target_utilization: float) -> tuple[float, float]:
    """The headroom levels of a spec that names none: warning is the next hundredth above the
    HPA's band (targetUtilization x 1.1), at least 0.85; critical is warning + 0.05, at least
    0.9. A target of 0.7 keeps 0.85 / 0.9; 0.8 gives 0.89 / 0.94; from 0.91 on the band passes
    1, and so do the levels: they fire only on calls beyond the pods' declared capacity."""
    band = Fraction(repr(target_utilization)) * (1 + Fraction(repr(HPA_TOLERANCE)))
    warning = max(DEFAULT_WARNING, Fraction(math.floor(band * 100) + 1, 100))
    critical = max(DEFAULT_CRITICAL, warning + CRITICAL_ABOVE_WARNING)
    return float(warning), float(critical)


class VoiceCapacitySpec(SpecModel):
    """The capacity a vertical declares: workload, calls per pod, bounds, peaks, headroom and
    model-token reservation."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                # The same IEEE double product as warning_floor, so the API server and
                # `voicecap plan` agree to the last bit on a warning right at the edge.
                cel(
                    "!has(self.headroom.warning) || self.headroom.warning > "
                    f"self.sessions.targetUtilization * {1 + HPA_TOLERANCE!r}",
                    "headroom.warning must be above sessions.targetUtilization x "
                    f"{1 + HPA_TOLERANCE:g}: the HPA holds utilization up to there, so a lower "
                    "warning fires (and, with ScaleUp, moves the floor) in steady state",
                    field_path=".headroom.warning",
                ),
                cel(
                    "self.sessions.perPodFrom != 'Measured' || has(self.latency)",
                    "sessions.perPodFrom Measured needs spec.latency: per-pod capacity is "
                    "measured from it",
                    field_path=".sessions.perPodFrom",
                ),
                cel(
                    "!has(self.admission) || !has(self.admission.reserve) || "
                    "self.admission.reserve.map(p, p.sessions).sum() <= "
                    "self.replicas.max * self.sessions.perPod",
                    "admission.reserve must not hold more calls than replicas.max x "
                    "sessions.perPod, the most the vertical can ever admit",
                    field_path=".admission.reserve",
                ),
                cel(
                    "!has(self.admission) || !has(self.admission.outbound) || "
                    "!self.admission.outbound.enabled || has(self.sessions.callDuration)",
                    "admission.outbound needs sessions.callDuration: a dial pace needs the mean "
                    "call, and the duration histogram may be absent",
                    field_path=".admission.outbound.enabled",
                ),
                cel(
                    "!has(self.headroom.critical) || has(self.headroom.warning) || "
                    "(self.headroom.critical > 0.85 && self.headroom.critical > "
                    f"self.sessions.targetUtilization * {1 + HPA_TOLERANCE!r} + 0.01)",
                    "headroom.critical must be above max(0.85, sessions.targetUtilization x "
                    f"{1 + HPA_TOLERANCE:g} + 0.01), where the derived warning can be: set "
                    "headroom.warning below it, or raise critical",
                    field_path=".headroom.critical",
                ),
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
    latency: Latency | None = Field(
        None,
        description="Optional: each pod's time to first audio. Measures per-pod capacity "
        "(status.calibration.perPod) and guards the live calls (LatencyAboveTarget).",
    )
    metrics_outage: MetricsOutage = Field(
        default_factory=MetricsOutage,
        json_schema_extra=defaulted(MetricsOutage),
        description="What the floor does while session data is unknown.",
    )
    admission: Admission = Field(
        default_factory=Admission,
        json_schema_extra=defaulted(Admission),
        description="Admission limits for the call gateway.",
    )
    paused: bool = Field(False, description="Compute and report, write nothing to children.")

    @property
    def headroom_levels(self) -> tuple[float, float]:
        """(warning, critical): as written, else derived from the target (default_levels)."""
        derived_warning, derived_critical = default_levels(self.sessions.target_utilization)
        headroom = self.headroom
        warning = headroom.warning if headroom.warning is not None else derived_warning
        if headroom.critical is not None:
            return warning, headroom.critical
        if derived_critical > warning:
            return warning, derived_critical
        return warning, float(Fraction(repr(warning)) + CRITICAL_ABOVE_WARNING)

    @model_validator(mode="after")
    def _measured_needs_latency(self) -> VoiceCapacitySpec:
        if self.sessions.per_pod_from == "Measured" and self.latency is None:
            raise ValueError(
                "sessions.perPodFrom Measured needs spec.latency: per-pod capacity is measured "
                "from it"
            )
        return self

    @model_validator(mode="after")
    def _admission_tiers_fit(self) -> VoiceCapacitySpec:
        admission = self.admission
        total = sum(pool.sessions for pool in admission.reserve)
        most = self.replicas.max * self.sessions.per_pod
        if total > most:
            raise ValueError(
                f"admission.reserve holds {total} calls, more than replicas.max x "
                f"sessions.perPod ({most}), the most the vertical can ever admit"
            )
        if admission.outbound.enabled and self.sessions.call_duration is None:
            raise ValueError(
                "admission.outbound needs sessions.callDuration: a dial pace needs the mean "
                "call, and the duration histogram may be absent"
            )
        return self

    @model_validator(mode="after")
    def _critical_above_derived_warning(self) -> VoiceCapacitySpec:
        critical = self.headroom.critical
        if critical is None or self.headroom.warning is not None:
            return self
        # The same IEEE expression as the CEL rule; the derived warning is never above it.
        bound = max(float(DEFAULT_WARNING), critical_floor(self.sessions.target_utilization))
        if not critical > bound:
            raise ValueError(
                f"headroom.critical ({critical:g}) must be above {bound:.4g}, where the warning "
                "derived from sessions.targetUtilization can be (max(0.85, targetUtilization "
                "x 1.1 + 0.01)): set headroom.warning below it, or raise critical"
            )
        return self

    @model_validator(mode="after")
    def _warning_above_target_band(self) -> VoiceCapacitySpec:
        band = warning_floor(self.sessions.target_utilization)
        if self.headroom.warning is not None and not self.headroom.warning > band:
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
