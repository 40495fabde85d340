{{/* Chart name, overridable. */}}
{{- define "voicecap.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name prefix of every object: release name + chart name, unless the release already says it. */}}
{{- define "voicecap.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "voicecap.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "voicecap.labels" -}}
helm.sh/chart: {{ include "voicecap.chart" . }}
{{ include "voicecap.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: voicecap-operator
{{- end }}

{{/* Selector labels: stable across upgrades. */}}
{{- define "voicecap.selectorLabels" -}}
app.kubernetes.io/name: {{ include "voicecap.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "voicecap.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "voicecap.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "voicecap.image" -}}
{{- $repository := .Values.image.repository }}
{{- with .Values.image.registry }}{{ $repository = printf "%s/%s" (trimSuffix "/" .) $repository }}{{ end }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
RBAC rules for namespaced resources: in a ClusterRole when the operator watches every
namespace, in one Role per namespace otherwise. No wildcards; each rule says why.
*/}}
{{- define "voicecap.namespacedRules" -}}
# VoiceCapacity: watched; Kopf patches its own progress annotations (voicecap.io/*) on it.
- apiGroups: [voicecap.io]
  resources: [voicecapacities]
  verbs: [get, list, watch, patch]
# VoiceCapacity status: the plan, conditions and printer columns.
- apiGroups: [voicecap.io]
  resources: [voicecapacities/status]
  verbs: [patch]
# Scale targets: read for ready replicas and to check the target exists; never written
# (the HPA owns spec.replicas).
- apiGroups: [apps]
  resources: [deployments, statefulsets]
  verbs: [get, list, watch]
# The owned HPA per VoiceCapacity: created, then merge-patched (floor, ceiling, target); the
# garbage collector deletes it through its ownerReference.
- apiGroups: [autoscaling]
  resources: [horizontalpodautoscalers]
  verbs: [get, list, watch, create, patch]
# Rule ConfigMaps (voicecap-<name>-rules) where prometheus-operator is absent; delete removes
# one once a PrometheusRule replaces it. The watch uses a managed-by label selector.
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list, watch, create, patch, delete]
# Events: the operator's own transitions (events.k8s.io/v1).
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create]
# Events: Kopf's own warnings (core v1).
- apiGroups: [""]
  resources: [events]
  verbs: [create]
{{- if .Values.rbac.prometheusRules }}
# PrometheusRule voicecap-<name> when prometheus-operator serves monitoring.coreos.com/v1;
# delete removes one if the CRD goes away and a ConfigMap replaces it.
- apiGroups: [monitoring.coreos.com]
  resources: [prometheusrules]
  verbs: [get, list, watch, create, patch, delete]
{{- end }}
{{- if .Values.rbac.busyPods }}
# Pods of targets with scaleDown.protectBusyPods: listed by the target's selector and patched
# with the controller.kubernetes.io/pod-deletion-cost annotation only (busy pods last).
- apiGroups: [""]
  resources: [pods]
  verbs: [list, patch]
{{- end }}
{{- if .Values.rbac.keda }}
# KEDA ScaledObjects: read only, to refuse a second autoscaler on the same target.
- apiGroups: [keda.sh]
  resources: [scaledobjects]
  verbs: [list, watch]
{{- end }}
{{- end }}

{{/* RBAC rules for cluster-scoped resources, needed in both install modes. */}}
{{- define "voicecap.clusterRules" -}}
# TokenBudget: cluster-scoped; read for grants, its status shows the allocation.
- apiGroups: [voicecap.io]
  resources: [tokenbudgets]
  verbs: [get, list, watch]
# TokenBudget status: requested, granted and the reservations in grant order.
- apiGroups: [voicecap.io]
  resources: [tokenbudgets/status]
  verbs: [patch]
# CRDs: Kopf's resource discovery, and whether prometheus-operator's PrometheusRule is served.
- apiGroups: [apiextensions.k8s.io]
  resources: [customresourcedefinitions]
  verbs: [list, watch]
{{- end }}

{{/* The Kopf peering object's name: peering.name, or the release's full name. */}}
{{- define "voicecap.peeringName" -}}
{{- .Values.peering.name | default (include "voicecap.fullname" .) }}
{{- end }}

{{/* RBAC rules for Kopf peering (`resource`: clusterkopfpeerings or kopfpeerings). */}}
{{- define "voicecap.peeringRules" -}}
{{- if .Values.peering.enabled }}
# Kopf peering: every replica watches the peering objects and patches its own keep-alive into
# the chart's one; the fleet cycle reads it to know whether this replica writes.
- apiGroups: [kopf.dev]
  resources: [{{ .resource }}]
  verbs: [list, watch]
# ... and only the chart's peering object is read and written.
- apiGroups: [kopf.dev]
  resources: [{{ .resource }}]
  resourceNames: [{{ .name }}]
  verbs: [get, patch]
{{- end }}
{{- end }}

{{/*
The projected volume's sources for Prometheus credentials (empty: nothing to mount).
*/}}
{{- define "voicecap.prometheusFiles" -}}
{{- with .Values.operator.prometheusAuth -}}
{{- if .bearerTokenSecret.name }}
- secret:
    name: {{ .bearerTokenSecret.name }}
    items: [{key: {{ .bearerTokenSecret.key }}, path: token}]
{{- end }}
{{- if .serviceAccountToken }}
- serviceAccountToken:
    path: token
    expirationSeconds: 3600
    {{- with .serviceAccountTokenAudience }}
    audience: {{ . }}
    {{- end }}
{{- end }}
{{- if and .username .passwordSecret.name }}
- secret:
    name: {{ .passwordSecret.name }}
    items: [{key: {{ .passwordSecret.key }}, path: password}]
{{- end }}
{{- if .caSecret.name }}
- secret:
    name: {{ .caSecret.name }}
    items: [{key: {{ .caSecret.key }}, path: ca.crt}]
{{- end }}
{{- if .clientCertSecretName }}
- secret:
    name: {{ .clientCertSecretName }}
    items: [{key: tls.crt, path: tls.crt}, {key: tls.key, path: tls.key}]
{{- end }}
{{- end -}}
{{- end -}}
