"""What every voicecap.io model shares: the wire conventions, CRD helpers, metadata, dump."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict

from voicecap.api.types import (
    OBJECT_NAME_PATTERN,
    parse_duration,
)

# Labels that generated alert rules set themselves; ruleLabels may not override them.
RESERVED_RULE_LABELS = ("severity", "namespace", "vertical")
# The HPA controller's default --horizontal-pod-autoscaler-tolerance: it leaves the replicas
# alone while usage / target is within 10 %, so it holds utilization anywhere up to target x 1.1.
HPA_TOLERANCE = 0.1
# Its default --horizontal-pod-autoscaler-sync-period: it reads the metrics and acts this often.
HPA_SYNC = timedelta(seconds=15)
MAX_PEAKS = 32
MAX_EXCLUDED = 128  # excluded dates or ranges per peak (a calendar ConfigMap holds more)


def defaulted(model: type[BaseModel]) -> JsonDict:
    """The CRD default of an optional block: the block with every nested default filled in.

    The API server checks a default against the block's CEL rules as written, without applying
    the nested defaults first, so `default: {}` fails a rule that reads a defaulted field.
    """
    return {"default": model().model_dump(by_alias=True, exclude_none=True, mode="json")}


# RFC 3339 timestamps, kept as the text the API server stores.
Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]


def duration_field(default: str, description: str, **kwargs: Any) -> Any:
    """A Duration field whose CRD default reads as written ("10m"), not as ISO 8601 ("PT10M")."""
    return Field(
        parse_duration(default),
        description=description,
        json_schema_extra={"default": default},
        **kwargs,
    )


def object_name_field(description: str) -> Any:
    """The name of a Kubernetes object in the VoiceCapacity's namespace (a DNS subdomain)."""
    return Field(min_length=1, max_length=253, pattern=OBJECT_NAME_PATTERN, description=description)


def cel(rule: str, message: str, field_path: str | None = None) -> JsonDict:
    validation: JsonDict = {"rule": rule, "message": message}
    if field_path:
        validation["fieldPath"] = field_path
    return validation


class Model(BaseModel):
    """camelCase on the wire, snake_case in Python, unknown fields are errors."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        validate_default=True,
    )


class SpecModel(Model):
    """A block of a spec: strict types, as the API server checks them (`perPod: "250"` and
    `paused: "yes"` are errors, not coerced), so `voicecap plan` refuses what `kubectl apply`
    refuses. Statuses stay lenient: the operator reads back what it wrote."""

    model_config = ConfigDict(strict=True)


class ObjectMeta(BaseModel):
    """The few metadata fields the operator reads; the rest is the API server's business."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    name: str = Field(min_length=1, max_length=253)
    namespace: str | None = None
    uid: str | None = None
    generation: int | None = None
    resource_version: str | None = Field(None, alias="resourceVersion")
    creation_timestamp: datetime | None = Field(None, alias="creationTimestamp")
    labels: dict[str, str] = Field(default_factory=dict)


def dump(model: BaseModel) -> dict[str, Any]:
    """The wire form: camelCase keys, durations as text, unset optionals left out."""
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")
