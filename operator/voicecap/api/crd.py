"""Generate the CustomResourceDefinitions from the pydantic models (as controller-gen does for Go).

Pydantic writes JSON Schema 2020-12; the API server wants a *structural* OpenAPI v3.0 schema:
no $ref, a type on every node, no `additionalProperties: false` beside `properties`, boolean
`exclusiveMinimum`, and no null branches. `structural()` is that translation.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

from voicecap.api.models import (
    GROUP,
    VERSION,
    TokenBudgetSpec,
    TokenBudgetStatus,
    VoiceCapacitySpec,
    VoiceCapacityStatus,
)
from voicecap.api.names import KOPF_GROUP

CATEGORY = "voicecap"

_DROPPED_KEYWORDS = {"title", "$defs"}

VOICECAPACITY_COLUMNS: list[dict[str, Any]] = [
    {"name": "Vertical", "type": "string", "jsonPath": ".status.vertical"},
    {"name": "Mode", "type": "string", "jsonPath": ".status.mode"},
    {"name": "Sessions", "type": "number", "jsonPath": ".status.sessions.active"},
    {"name": "Capacity", "type": "integer", "jsonPath": ".status.sessions.capacity"},
    {"name": "Util", "type": "number", "jsonPath": ".status.sessions.utilization"},
    {"name": "Floor", "type": "integer", "jsonPath": ".status.replicas.floor"},
    {"name": "Ceiling", "type": "integer", "jsonPath": ".status.replicas.ceiling"},
    {"name": "Replicas", "type": "integer", "jsonPath": ".status.replicas.current"},
    {"name": "Next-Peak", "type": "string", "jsonPath": ".status.nextPeak.startsAt"},
    {
        "name": "Ready",
        "type": "string",
        "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
    },
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]

TOKENBUDGET_COLUMNS: list[dict[str, Any]] = [
    {"name": "TPM", "type": "integer", "jsonPath": ".spec.tokensPerMinute"},
    {"name": "Overcommit", "type": "number", "jsonPath": ".spec.overcommit"},
    {"name": "Requested", "type": "integer", "jsonPath": ".status.requested"},
    {"name": "Granted", "type": "integer", "jsonPath": ".status.granted"},
    {"name": "Projected", "type": "integer", "jsonPath": ".status.projected"},
    {
        "name": "NearCap",
        "type": "string",
        "jsonPath": '.status.conditions[?(@.type=="NearCap")].status',
    },
    {
        "name": "Ready",
        "type": "string",
        "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
    },
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]


def structural(model: type[BaseModel]) -> dict[str, Any]:
    """The structural OpenAPI v3.0 schema of a model, as its wire form (camelCase)."""
    schema = model.model_json_schema(by_alias=True, mode="validation")
    definitions = schema.get("$defs", {})
    translated: dict[str, Any] = _translate(schema, definitions)
    return translated


def _translate(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_translate(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    node = _resolve(node, definitions)
    node = _drop_null_branch(node, definitions)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED_KEYWORDS:
            continue
        if key == "additionalProperties" and ("properties" in node or value is False):
            continue  # structural schemas prune unknown fields; both keywords are forbidden
        if key == "default" and value is None:
            continue
        if key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
            out["minimum" if key == "exclusiveMinimum" else "maximum"] = value
            out[key] = True
            continue
        if key == "properties":
            out[key] = {name: _translate(sub, definitions) for name, sub in value.items()}
            continue
        out[key] = _translate(value, definitions)
    if "properties" in out:
        out.setdefault("type", "object")
    return out


def _resolve(node: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """Inline a `$ref`, keeping the referring node's own keywords (description, default)."""
    if "$ref" not in node:
        return node
    target = copy.deepcopy(definitions[node["$ref"].rsplit("/", 1)[-1]])
    merged = {key: value for key, value in node.items() if key != "$ref"}
    return {**target, **merged}


def _drop_null_branch(node: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """`anyOf: [X, {type: null}]` (an Optional) becomes X: absent, not null, means unset."""
    branches = node.get("anyOf")
    if not branches:
        return node
    kept = [branch for branch in branches if branch.get("type") != "null"]
    if len(kept) == len(branches):
        return node
    rest = {key: value for key, value in node.items() if key != "anyOf"}
    if len(kept) == 1:
        return {**_resolve(kept[0], definitions), **rest}
    return {**rest, "anyOf": kept}


def _root_schema(
    spec: type[BaseModel], status: type[BaseModel], description: str
) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "required": ["spec"],
        "properties": {
            "apiVersion": {
                "type": "string",
                "description": "APIVersion defines the versioned schema of this representation of "
                "an object: voicecap.io/v1alpha1.",
            },
            "kind": {
                "type": "string",
                "description": "Kind is a string value representing the REST resource this object "
                "represents.",
            },
            # The API server refuses anything but `type` here and explains ObjectMeta itself.
            "metadata": {"type": "object"},
            "spec": {**structural(spec), "description": _doc(spec)},
            "status": {**structural(status), "description": _doc(status)},
        },
    }


def _doc(model: type[BaseModel]) -> str:
    return " ".join((model.__doc__ or "").split())


def _crd(
    *,
    kind: str,
    plural: str,
    short_names: list[str],
    scope: str,
    columns: list[dict[str, Any]],
    schema: dict[str, Any],
) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
                "shortNames": short_names,
                "categories": [CATEGORY],
            },
            "scope": scope,
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": columns,
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }


def voicecapacity_crd() -> dict[str, Any]:
    return _crd(
        kind="VoiceCapacity",
        plural="voicecapacities",
        short_names=["vcap"],
        scope="Namespaced",
        columns=VOICECAPACITY_COLUMNS,
        schema=_root_schema(
            VoiceCapacitySpec,
            VoiceCapacityStatus,
            "Concurrent-call capacity of one voice-AI vertical: floor, ceiling, peaks, headroom "
            "and model-token reservation of the workload that serves its calls.",
        ),
    )


def tokenbudget_crd() -> dict[str, Any]:
    return _crd(
        kind="TokenBudget",
        plural="tokenbudgets",
        short_names=["tb"],
        scope="Cluster",
        columns=TOKENBUDGET_COLUMNS,
        schema=_root_schema(
            TokenBudgetSpec,
            TokenBudgetStatus,
            "A model provider's tokens-per-minute cap, shared by the VoiceCapacities that "
            "reserve from it.",
        ),
    )


def kopf_peering_crd(kind: str, scope: str) -> dict[str, Any]:
    """Kopf's peering CRD, as Kopf's documentation defines it: how replicas elect one writer.
    Shared by every Kopf operator in the cluster (Helm leaves an existing one alone)."""
    plural = f"{kind.lower()}s"
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{KOPF_GROUP}"},
        "spec": {
            "group": KOPF_GROUP,
            "names": {"kind": kind, "plural": plural, "singular": kind.lower()},
            "scope": scope,
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "description": "Kopf peering: each live operator replica's "
                            "priority and last keep-alive, in status (one writer at a time).",
                            "properties": {
                                "status": {
                                    "type": "object",
                                    "description": "Per replica identity: its priority, "
                                    "lifetime (seconds) and lastseen keep-alive time.",
                                    "x-kubernetes-preserve-unknown-fields": True,
                                }
                            },
                        }
                    },
                }
            ],
        },
    }


def all_crds() -> dict[str, dict[str, Any]]:
    """File name (as controller-gen names them) -> CRD."""
    return {
        f"{GROUP}_voicecapacities.yaml": voicecapacity_crd(),
        f"{GROUP}_tokenbudgets.yaml": tokenbudget_crd(),
        f"{KOPF_GROUP}_clusterkopfpeerings.yaml": kopf_peering_crd("ClusterKopfPeering", "Cluster"),
        f"{KOPF_GROUP}_kopfpeerings.yaml": kopf_peering_crd("KopfPeering", "Namespaced"),
    }
