"""VoiceCapacity and TokenBudget (voicecap.io/v1alpha1) as typed, validated values.

These models are the one source of truth: the CRDs in crds/ are generated from them
(`voicecap crds`), and every body the operator or `voicecap plan` reads is parsed by them. The
parts live by concern: base.py (wire conventions, metadata), spec.py (what users declare),
status.py (what the operator reports); they are re-exported here, where callers look for them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from voicecap.api.base import MAX_PEAKS, RESERVED_RULE_LABELS, Model, ObjectMeta, Timestamp, dump
from voicecap.api.names import API_VERSION, GROUP, VERSION
from voicecap.api.spec import (
    Replicas,
    ScaleDown,
    SessionCost,
    Sessions,
    TargetRef,
    VoiceCapacitySpec,
)
from voicecap.api.spec_limits import (
    Admission,
    ConfigMapRef,
    Headroom,
    MetricsOutage,
    ModelTokens,
    Outbound,
    ReservePool,
    TenantCaps,
    TenantCapsMap,
    TokenBudgetSpec,
)
from voicecap.api.spec_measured import Latency
from voicecap.api.spec_peaks import CalendarRef, Forecast, Peak
from voicecap.api.status import (
    AdmissionStatus,
    BacktestStatus,
    CalibrationStatus,
    Condition,
    ForecastStatus,
    HeadroomStatus,
    HPAConditionStatus,
    HPAStatus,
    LastWindowStatus,
    LatencyStatus,
    LeadTimeStatus,
    NextPeak,
    OutboundStatus,
    PerPodCalibrationStatus,
    Recommendation,
    ReplicasStatus,
    Reservation,
    ReserveStatus,
    ScaleUpStatus,
    SessionsStatus,
    TenantsStatus,
    TokenBudgetStatus,
    TokensCalibrationStatus,
    TPMStatus,
    VoiceCapacityStatus,
    WeekStatus,
)


class VoiceCapacity(Model):
    api_version: Literal["voicecap.io/v1alpha1"] = API_VERSION
    kind: Literal["VoiceCapacity"] = "VoiceCapacity"
    metadata: ObjectMeta
    spec: VoiceCapacitySpec
    status: VoiceCapacityStatus | None = None

    @model_validator(mode="after")
    def _admission_in_own_namespace(self) -> VoiceCapacity:
        # CEL cannot read metadata.namespace, so the API server cannot check this one.
        ref = self.spec.admission.config_map_ref
        if ref is not None and ref.namespace not in (None, "", self.namespace):
            raise ValueError(
                f"spec.admission.configMapRef.namespace: {ref.namespace!r} is not the "
                f"VoiceCapacity's namespace {self.namespace!r}; limits are written only there"
            )
        return self

    @property
    def namespace(self) -> str:
        return self.metadata.namespace or "default"

    @property
    def vertical(self) -> str:
        return self.spec.vertical or self.metadata.name

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.metadata.name}"


class TokenBudget(Model):
    api_version: Literal["voicecap.io/v1alpha1"] = API_VERSION
    kind: Literal["TokenBudget"] = "TokenBudget"
    metadata: ObjectMeta
    spec: TokenBudgetSpec
    status: TokenBudgetStatus | None = None


__all__ = [
    "API_VERSION",
    "GROUP",
    "MAX_PEAKS",
    "RESERVED_RULE_LABELS",
    "VERSION",
    "Admission",
    "AdmissionStatus",
    "BacktestStatus",
    "CalendarRef",
    "CalibrationStatus",
    "Condition",
    "ConfigMapRef",
    "Forecast",
    "ForecastStatus",
    "HPAConditionStatus",
    "HPAStatus",
    "Headroom",
    "HeadroomStatus",
    "LastWindowStatus",
    "Latency",
    "LatencyStatus",
    "LeadTimeStatus",
    "MetricsOutage",
    "Model",
    "ModelTokens",
    "NextPeak",
    "ObjectMeta",
    "Outbound",
    "OutboundStatus",
    "Peak",
    "PerPodCalibrationStatus",
    "Recommendation",
    "Replicas",
    "ReplicasStatus",
    "Reservation",
    "ReservePool",
    "ReserveStatus",
    "ScaleDown",
    "ScaleUpStatus",
    "SessionCost",
    "Sessions",
    "SessionsStatus",
    "TPMStatus",
    "TargetRef",
    "TenantCaps",
    "TenantCapsMap",
    "TenantsStatus",
    "Timestamp",
    "TokenBudget",
    "TokenBudgetSpec",
    "TokenBudgetStatus",
    "TokensCalibrationStatus",
    "VoiceCapacity",
    "VoiceCapacitySpec",
    "VoiceCapacityStatus",
    "WeekStatus",
    "dump",
]
