"""What a vertical lets the operator measure instead of trusting the declaration: each pod's time
to first audio (from which per-pod capacity is measured, and which the live guard watches)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import ConfigDict, Field, field_validator

from voicecap.api.base import SpecModel, cel, duration_field
from voicecap.api.types import Duration, FineDuration, PromQL, parse_fine_duration

DEFAULT_LATENCY_METRIC = "voice_ttfb_seconds"


class Latency(SpecModel):
    """Time to first audio, per pod: the quantile that measures a pod's real capacity and the
    target it must stay under."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(
                    "duration(self.target) > duration('0s')",
                    "must be longer than 0s",
                    field_path=".target",
                )
            ]
        }
    )

    query: PromQL = Field(
        "",
        description="Optional PromQL returning each pod's latency quantile in seconds, labelled "
        "namespace, vertical and pod. Empty: histogram_quantile(quantile, sum by (namespace, "
        "vertical, pod, le) (rate(voice_ttfb_seconds_bucket[5m]))).",
    )
    quantile: float = Field(
        0.95, gt=0, lt=1, description="The latency quantile judged against the target."
    )
    target: FineDuration = Field(
        parse_fine_duration("800ms"),
        description="A pod is full when its latency quantile reaches this (e.g. 800ms).",
        json_schema_extra={"default": "800ms"},
    )
    for_: Duration = duration_field(
        "2m",
        "The vertical's latency quantile must stay above target this long before the live "
        "guard acts (holds admission, raises the floor).",
        alias="for",
    )

    @field_validator("target")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than 0s")
        return value
