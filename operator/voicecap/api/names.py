"""Where every API object the operator reads or writes lives: groups, versions, plurals, labels.

One home, so a version bump (v1alpha1 -> v1beta1) or a renamed label is a one-line change.
"""

from __future__ import annotations

from typing import Final

GROUP = "voicecap.io"
VERSION = "v1alpha1"
API_VERSION: Final = "voicecap.io/v1alpha1"  # GROUP/VERSION, spelled out for Literal types
VOICECAPACITIES = "voicecapacities"
TOKENBUDGETS = "tokenbudgets"

HPA_API_VERSION = "autoscaling/v2"
PROMETHEUS_RULE_API_VERSION = "monitoring.coreos.com/v1"
PROMETHEUS_RULE_CRD = "prometheusrules.monitoring.coreos.com"
EVENTS_API_VERSION = "events.k8s.io/v1"
KEDA_GROUP, KEDA_VERSION = "keda.sh", "v1alpha1"
KOPF_GROUP = "kopf.dev"
KOPF_PEERING_API_VERSION = f"{KOPF_GROUP}/v1"

# Labels and annotations on what the operator owns, and Kopf's own bookkeeping keys.
MANAGED_BY = "voicecap-operator"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
OWNED_SELECTOR = f"{MANAGED_BY_LABEL}={MANAGED_BY}"
COMPONENT = "voicecap.io/operator"
ANNOTATION_PREFIX = GROUP
