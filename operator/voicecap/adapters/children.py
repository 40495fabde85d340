"""What the operator owns, rendered as Kubernetes objects, and the smallest change to reach it.

The HPA is named like its VoiceCapacity (read by name, never found by a label selector), owned
through an ownerReference (garbage-collected with it: no finalizer), and carries only
allow-listed labels: Argo CD prunes children that carry its tracking label, so
app.kubernetes.io/instance is never copied.

The alert rules are a PrometheusRule `voicecap-<name>` where prometheus-operator serves that API,
else a ConfigMap `voicecap-<name>-rules` holding the same rule file.

`child_patch` compares only the fields the operator sets (a subset test), so an API server that
fills in defaults (behavior policies, selectPolicy) never makes a steady cycle write.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

import yaml
from yaml.representer import SafeRepresenter

try:  # libyaml's emitter: the same text 8x faster (rules are rendered for every object)
    from yaml import CSafeDumper as _SafeDumper
except ImportError:  # a PyYAML built without libyaml
    from yaml import SafeDumper as _SafeDumper  # type: ignore[assignment]

from voicecap.api.models import ObjectMeta, VoiceCapacity
from voicecap.api.names import (
    API_VERSION,
    COMPONENT,
    EVENTS_API_VERSION,
    HPA_API_VERSION,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    PROMETHEUS_RULE_API_VERSION,
)
from voicecap.api.timefmt import micro_iso
from voicecap.core import sizing
from voicecap.core.alerts import rules
from voicecap.core.apply.outcome import Transition
from voicecap.core.planner.plan import Plan

RulesKind = Literal["PrometheusRule", "ConfigMap"]
PODS_METRIC = "voice_active_sessions_per_pod"
# Labels copied from a VoiceCapacity to what it owns. Never app.kubernetes.io/instance (Argo CD).
COPIED_LABELS = frozenset(
    {"app.kubernetes.io/part-of", "app.kubernetes.io/component", "app.kubernetes.io/version"}
)


def hpa_name(capacity: VoiceCapacity) -> str:
    return capacity.metadata.name


def owner_reference(capacity: VoiceCapacity) -> dict[str, Any]:
    reference: dict[str, Any] = {
        "apiVersion": capacity.api_version,
        "kind": capacity.kind,
        "name": capacity.metadata.name,
        "controller": True,
        "blockOwnerDeletion": True,
    }
    if capacity.metadata.uid:
        reference["uid"] = capacity.metadata.uid
    return reference


def child_labels(capacity: VoiceCapacity) -> dict[str, str]:
    copied = {k: v for k, v in capacity.metadata.labels.items() if k in COPIED_LABELS}
    return {
        **copied,
        MANAGED_BY_LABEL: MANAGED_BY,
        "voicecap.io/capacity": capacity.metadata.name,
        "voicecap.io/vertical": capacity.vertical,
    }


def render_hpa(capacity: VoiceCapacity, plan: Plan, max_replicas: int) -> dict[str, Any]:
    """The owned HPA: minReplicas = the floor, maxReplicas as core.autoscaler decided."""
    spec = capacity.spec
    planned = sizing.hpa_target_per_pod(
        plan.per_pod, spec.sessions.target_utilization, spec.sessions.blocking_target
    )
    return {
        "apiVersion": HPA_API_VERSION,
        "kind": "HorizontalPodAutoscaler",
        "metadata": {
            "name": hpa_name(capacity),
            "namespace": capacity.namespace,
            "labels": child_labels(capacity),
            "ownerReferences": [owner_reference(capacity)],
        },
        "spec": {
            "scaleTargetRef": {
                "apiVersion": spec.target_ref.api_version,
                "kind": spec.target_ref.kind,
                "name": spec.target_ref.name,
            },
            "minReplicas": max(plan.floor, 1),
            "maxReplicas": max_replicas,
            "metrics": [
                {
                    "type": "Pods",
                    "pods": {
                        "metric": {"name": PODS_METRIC},
                        "target": {"type": "AverageValue", "averageValue": quantity(planned)},
                    },
                }
            ],
            "behavior": {
                "scaleDown": {
                    "stabilizationWindowSeconds": int(spec.scale_down.stabilization.total_seconds())
                },
                "scaleUp": {"stabilizationWindowSeconds": 0},
            },
        },
    }


def quantity(value: Fraction | Decimal | float) -> str:
    """A Kubernetes quantity in canonical form: whole numbers bare, else milli-units."""
    exact = Fraction(value) if not isinstance(value, Fraction) else value
    if exact.denominator == 1:
        return str(exact.numerator)
    milli = exact * 1000
    return f"{milli.numerator // milli.denominator}m"


def child_patch(desired: Mapping[str, Any], live: Mapping[str, Any]) -> dict[str, Any] | None:
    """The merge patch that brings a live child to the desired one, or None when it is right.

    Compares labels, owners and each top-level body field (`spec`, `data`) field by field."""
    patch: dict[str, Any] = {}
    live_meta = live.get("metadata", {})
    labels = desired["metadata"]["labels"]
    if not contains(live_meta.get("labels") or {}, labels):
        patch.setdefault("metadata", {})["labels"] = labels
    owners = desired["metadata"]["ownerReferences"]
    if not contains(live_meta.get("ownerReferences") or [], owners):
        patch.setdefault("metadata", {})["ownerReferences"] = owners
    for part in desired.keys() - {"apiVersion", "kind", "metadata"}:
        changed = {
            key: value
            for key, value in desired[part].items()
            if not contains((live.get(part) or {}).get(key), value)
        }
        if changed:
            patch[part] = changed
    return patch or None


def contains(live: Any, wanted: Any) -> bool:
    """Whether `live` has every field of `wanted` (dicts by key; lists item by item)."""
    if isinstance(wanted, Mapping):
        return isinstance(live, Mapping) and all(
            contains(live.get(key), value) for key, value in wanted.items()
        )
    if isinstance(wanted, list):
        return (
            isinstance(live, list)
            and len(live) == len(wanted)
            and all(contains(a, b) for a, b in zip(live, wanted, strict=True))
        )
    return bool(live == wanted)


def merge_patch(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """RFC 7386: the JSON merge patch that turns `old` into `new` (lists are replaced whole)."""
    patch: dict[str, Any] = {}
    for key in old.keys() - new.keys():
        patch[key] = None
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            nested = merge_patch(before, value)
            if nested:
                patch[key] = nested
        elif key not in old or before != value:
            patch[key] = value
    return patch


def rules_name(capacity: VoiceCapacity, kind: RulesKind) -> str:
    suffix = "" if kind == "PrometheusRule" else "-rules"
    return f"voicecap-{capacity.metadata.name}{suffix}"


def rules_file_name(capacity: VoiceCapacity) -> str:
    """Unique across VoiceCapacities, so many ConfigMaps can be mounted into one rules directory."""
    return f"voicecap-{capacity.namespace}-{capacity.metadata.name}.rules.yaml"


def render_rules(
    capacity: VoiceCapacity, kind: RulesKind, runbooks: str = rules.RUNBOOKS
) -> dict[str, Any]:
    """The owned PrometheusRule (prometheus-operator) or, without it, a ConfigMap with the file.

    headroom.ruleLabels go on the object too: a Prometheus ruleSelector matches object labels."""
    metadata = {
        "name": rules_name(capacity, kind),
        "namespace": capacity.namespace,
        "labels": {**capacity.spec.headroom.rule_labels, **child_labels(capacity)},
        "ownerReferences": [owner_reference(capacity)],
    }
    if kind == "PrometheusRule":
        return {
            "apiVersion": PROMETHEUS_RULE_API_VERSION,
            "kind": "PrometheusRule",
            "metadata": metadata,
            "spec": {"groups": [rules.rule_group(capacity, runbooks)]},
        }
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata,
        "data": {rules_file_name(capacity): rules_yaml(rules.rule_file([capacity], runbooks))},
    }


def rules_yaml(document: Mapping[str, Any]) -> str:
    """A rule file as Prometheus and promtool read it; stable text, so equal rules compare equal."""
    return yaml.dump(document, Dumper=_PlainDumper, sort_keys=False, width=1000)


def manifests_yaml(documents: Sequence[Mapping[str, Any]]) -> str:
    """Objects as a multi-document YAML stream, multi-line strings (rule files) as blocks."""
    return yaml.dump_all(documents, Dumper=_PlainDumper, sort_keys=False, width=1000)


class _PlainDumper(_SafeDumper):
    """No &anchors/*aliases and multi-line strings as | blocks: rule files are read by people."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text(dumper: SafeRepresenter, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_PlainDumper.add_representer(str, _text)


def render_event(
    meta: ObjectMeta,
    transition: Transition,
    *,
    now: datetime,
    instance: str,
) -> dict[str, Any]:
    """An events.k8s.io/v1 Event about a VoiceCapacity, named the way client-go names them."""
    namespace = meta.namespace or "default"
    return {
        "apiVersion": EVENTS_API_VERSION,
        "kind": "Event",
        "metadata": {
            # <object>.<unique hex>: unique without relying on generateName.
            "name": f"{meta.name}.{int(now.timestamp() * 1e9):x}{secrets.token_hex(2)}",
            "namespace": namespace,
            "labels": {MANAGED_BY_LABEL: MANAGED_BY},
        },
        "eventTime": micro_iso(now),
        "type": transition.type,
        "reason": transition.reason,
        "note": transition.message[:1024],
        "action": "Reconcile",
        "reportingController": COMPONENT,
        "reportingInstance": instance[:128],
        "regarding": {
            "apiVersion": API_VERSION,
            "kind": "VoiceCapacity",
            "name": meta.name,
            "namespace": namespace,
            **({"uid": meta.uid} if meta.uid else {}),
        },
    }
