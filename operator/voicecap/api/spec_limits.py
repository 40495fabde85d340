"""The limits of a VoiceCapacity spec (headroom levels, the model-token reservation, what to do
while blind, admission for the call gateway) and the TokenBudget spec they reserve from."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from voicecap.api.base import (
    RESERVED_RULE_LABELS,
    SpecModel,
    cel,
    defaulted,
    duration_field,
    object_name_field,
)
from voicecap.api.types import PROMETHEUS_LABEL_NAME_PATTERN, Duration, PromQL


class Headroom(SpecModel):
    """Utilization levels that count as low headroom, and what to do about them."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(
                    "!has(self.warning) || !has(self.critical) || self.warning < self.critical",
                    "headroom.warning must be below headroom.critical",
                )
            ]
        }
    )

    # None: derived from sessions.targetUtilization (api/spec.py, headroom_levels), so a spec
    # that names no level is never refused for a default's sake.
    warning: float | None = Field(
        None,
        gt=0,
        le=1,
        description="Utilization that counts as low headroom; must be above "
        "sessions.targetUtilization x 1.1, the band the HPA holds it in. Unset: the next "
        "hundredth above that band, at least 0.85.",
    )
    critical: float | None = Field(
        None,
        gt=0,
        le=1,
        description="Utilization that counts as critical. Unset: warning + 0.05, at least 0.9.",
    )
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
        warning, critical = self.warning, self.critical
        if warning is not None and critical is not None and warning >= critical:
            raise ValueError(f"warning ({warning}) must be below critical ({critical})")
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
    usage_query: PromQL = Field(
        "",
        description="Optional PromQL of the model tokens the vertical uses, a counter: measures "
        "tokensPerSessionMinute (status.calibration). Empty: "
        "sum(voice_model_tokens_total{namespace, vertical}).",
    )
    rate_limited_query: PromQL = Field(
        "",
        description="Optional PromQL of the provider's rate-limit refusals (HTTP 429), a "
        "counter: any increase is ModelRateLimited. Empty: "
        "sum(voice_model_rate_limited_total{namespace, vertical}).",
    )
    tokens_from: Literal["Declared", "Measured"] = Field(
        "Declared",
        description="Declared: ceilings and admission count tokensPerSessionMinute. Measured: "
        "the tokens per call-minute measured from usageQuery (status.calibration), and the "
        "declared value while none is measured.",
    )


class MetricsOutage(SpecModel):
    """What the floor does while session data is unknown."""

    mode: Literal["HoldLastKnown", "Floor"] = Field(
        "HoldLastKnown",
        description="While sessions are unknown: HoldLastKnown never lowers the floor; "
        "Floor holds it at max(replicas.min, peak floor).",
    )
    max_staleness: Duration = duration_field("5m", "A session sample older than this is unknown.")


class ConfigMapRef(SpecModel):
    """A ConfigMap in the VoiceCapacity's own namespace."""

    name: str = object_name_field(
        "Name of the ConfigMap the operator writes the namespace's limits into."
    )
    namespace: str | None = Field(
        None,
        description="Must be empty or the VoiceCapacity's own namespace: limits are written only "
        "where the VoiceCapacity lives.",
    )


MAX_RESERVE_POOLS = 8


class ReservePool(SpecModel):
    """Calls kept for one tier of callers (VIP, emergency) that general traffic cannot take."""

    name: str = Field(
        min_length=1,
        max_length=63,
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        description="The tier the gateway tags these callers with (a DNS label, e.g. vip).",
    )
    sessions: int = Field(
        ge=1,
        le=10_000_000,
        description="Calls only this tier may use: general traffic is admitted up to the limit "
        "less every pool.",
    )


class TenantCapsMap(SpecModel):
    """A ConfigMap of tenant caps in the VoiceCapacity's own namespace."""

    name: str = object_name_field(
        "Name of the ConfigMap; every value of its data is read, one `<tenant>: <cap>` per "
        "line (acme: 50), `#` starting a comment."
    )


class TenantCaps(SpecModel):
    """Per-tenant caps for the gateway: how many concurrent calls each tenant may hold."""

    config_map_ref: TenantCapsMap = Field(
        description="The ConfigMap listing them (hundreds of tenants: a ConfigMap, not the spec)."
    )


class Outbound(SpecModel):
    """A dial pace for outbound dialers, published beside the limit."""

    enabled: bool = Field(
        False,
        description="Publish outbound.callsPerSecond in limits.json: the general pool over the "
        "mean call (Little's law), the most calls a second a dialer may start and on average "
        "stay within it. Needs sessions.callDuration (used while the duration histogram is "
        "absent).",
    )


class Admission(SpecModel):
    """Admission limits for the call gateway (docs/api.md "Admission")."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(
                    "!has(self.maxSessions) || !has(self.reserve) || "
                    "self.reserve.map(p, p.sessions).sum() <= self.maxSessions",
                    "admission.reserve must not hold more calls than admission.maxSessions",
                    field_path=".reserve",
                )
            ]
        }
    )

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
    reserve: list[ReservePool] = Field(
        default_factory=list,
        max_length=MAX_RESERVE_POOLS,
        description="Pools of calls only the named tier may use when the vertical nears its "
        "limit; each is published in limits.json (reserve), clipped to the limit in order.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
    )
    tenant_caps: TenantCaps | None = Field(
        None,
        description="Per-tenant caps, published in limits.json (tenants) and summarized in "
        "status.admission.tenants; bad lines are named in TenantCapsReady and skipped.",
    )
    overflow: Literal["Reject", "Queue"] = Field(
        "Reject",
        description="What a gateway does with a call past the limit: Reject it at once (SIP "
        "486/503), or Queue it for a bounded wait and admit it when a call ends.",
    )
    outbound: Outbound = Field(
        default_factory=Outbound,
        json_schema_extra=defaulted(Outbound),
        description="A dial pace for outbound dialers (limits.json outbound.callsPerSecond).",
    )

    @model_validator(mode="after")
    def _reserve_within_limit(self) -> Admission:
        names = [pool.name for pool in self.reserve]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"admission.reserve names {', '.join(twice)} more than once")
        total = sum(pool.sessions for pool in self.reserve)
        if self.max_sessions is not None and total > self.max_sessions:
            raise ValueError(
                f"admission.reserve holds {total} calls, more than admission.maxSessions "
                f"({self.max_sessions})"
            )
        return self


class TokenBudgetSpec(SpecModel):
    """A model provider's tokens-per-minute cap, shared by the VoiceCapacities reserving from it."""

    tokens_per_minute: int = Field(ge=1, description="The provider's tokens-per-minute cap.")
    overcommit: float = Field(
        0.0, ge=0, le=1, description="Grants may add up to tokensPerMinute x (1 + overcommit)."
    )
