"""Objects the tests share: the examples, a valid VoiceCapacity, and a corpus of broken ones."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml

from voicecap.api.models import Peak, VoiceCapacity

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))

BASE_CAPACITY: dict[str, Any] = {
    "apiVersion": "voicecap.io/v1alpha1",
    "kind": "VoiceCapacity",
    "metadata": {"name": "healthcare", "namespace": "voice"},
    "spec": {
        "targetRef": {"kind": "Deployment", "name": "healthcare-agent"},
        "sessions": {"perPod": 200, "targetUtilization": 0.7},
        "replicas": {"min": 2, "max": 40},
        "peaks": [
            {
                "name": "monday-morning",
                "schedule": "0 9 * * MON",
                "duration": "2h",
                "timeZone": "America/New_York",
                "factor": 1.5,
                "leadTime": "10m",
                "expectedSessions": 600,
            }
        ],
        "model": {"budgetRef": "openai-realtime", "reservedTPM": 4800000},
    },
}


def capacity_body(**spec_overrides: Any) -> dict[str, Any]:
    """The healthcare VoiceCapacity (a peak, a TPM reservation), its spec blocks replaced."""
    body = copy.deepcopy(BASE_CAPACITY)
    body["spec"].update(copy.deepcopy(spec_overrides))
    return body


def capacity(**spec_overrides: Any) -> VoiceCapacity:
    """capacity_body, validated: the typed object the core takes."""
    return VoiceCapacity.model_validate(capacity_body(**spec_overrides))


def vertical_body(
    name: str = "healthcare", namespace: str = "voice", **spec: Any
) -> dict[str, Any]:
    """A plain vertical `name` serving from Deployment `<name>-agent`: no peaks and no TPM
    reservation unless given, its spec blocks replaced by `spec`."""
    body = copy.deepcopy(BASE_CAPACITY)
    body["metadata"] = {"name": name, "namespace": namespace}
    body["spec"]["targetRef"] = {"kind": "Deployment", "name": f"{name}-agent"}
    body["spec"].pop("model")
    body["spec"]["peaks"] = []
    body["spec"].update(copy.deepcopy(spec))
    return body


def budget_body(name: str = "openai-realtime", **spec: Any) -> dict[str, Any]:
    """A TokenBudget of 6M tokens a minute (the healthcare reservation is 4.8M), its spec
    fields replaced."""
    return {
        "apiVersion": "voicecap.io/v1alpha1",
        "kind": "TokenBudget",
        "metadata": {"name": name},
        "spec": {"tokensPerMinute": 6_000_000, **spec},
    }


def peak(**overrides: Any) -> Peak:
    """The healthcare peak (Mondays 09:00-11:00 New York, lead time 10m, factor 1.5) without its
    expectedSessions, its fields replaced."""
    fields = {k: v for k, v in BASE_CAPACITY["spec"]["peaks"][0].items() if k != "expectedSessions"}
    return Peak.model_validate({**fields, **overrides})


def at(text: str) -> datetime:
    """An ISO 8601 time with its offset, as UTC: at("2026-11-09T08:55:00-05:00")."""
    return datetime.fromisoformat(text).astimezone(UTC)


def example_documents() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{path.name}#{index}", document)
        for path in EXAMPLES
        for index, document in enumerate(yaml.safe_load_all(path.read_text()))
        if document
    ]


_DELETE = object()


@dataclass(frozen=True)
class Broken:
    """One broken VoiceCapacity: what to change, where the error must point, and who catches it.

    caught_at: "apply" when the CRD schema (OpenAPI, CEL, strict fields, list-map keys) rejects
    it at kubectl apply; "reconcile" when only the operator's models can (Ready=False InvalidSpec).
    """

    id: str
    path: str
    value: Any
    field: str
    fragment: str
    caught_at: Literal["apply", "reconcile"] = "apply"

    def body(self) -> dict[str, Any]:
        body = copy.deepcopy(BASE_CAPACITY)
        *parents, last = self.path.split(".")
        node: Any = body
        for part in parents:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        if self.value is _DELETE:
            del node[last]
        elif isinstance(node, list) and int(last) == len(node):
            node.append(copy.deepcopy(self.value))
        else:
            node[int(last) if last.isdigit() else last] = copy.deepcopy(self.value)
        return body


BROKEN = [
    Broken(
        "min-above-max", "spec.replicas", {"min": 50, "max": 40}, "spec.replicas", "must not exceed"
    ),
    Broken("max-missing", "spec.replicas", {"min": 2}, "spec.replicas.max", "required"),
    Broken(
        "per-pod-zero",
        "spec.sessions.perPod",
        0,
        "spec.sessions.perPod",
        "greater than or equal to 1",
    ),
    Broken("per-pod-text", "spec.sessions.perPod", "lots", "spec.sessions.perPod", "integer"),
    Broken(
        "utilization-zero",
        "spec.sessions.targetUtilization",
        0,
        "spec.sessions.targetUtilization",
        "greater than 0",
    ),
    Broken(
        "utilization-above-one",
        "spec.sessions.targetUtilization",
        1.5,
        "spec.sessions.targetUtilization",
        "less than or equal to 1",
    ),
    Broken("target-missing", "spec.targetRef", _DELETE, "spec.targetRef", "required"),
    Broken(
        "target-kind",
        "spec.targetRef.kind",
        "Pod",
        "spec.targetRef.kind",
        "'Deployment' or 'StatefulSet'",
    ),
    Broken(
        "cron-four-fields",
        "spec.peaks.0.schedule",
        "0 9 * *",
        "spec.peaks[0].schedule",
        "5-field cron",
    ),
    Broken(
        "cron-six-fields",
        "spec.peaks.0.schedule",
        "0 0 9 * * MON",
        "spec.peaks[0].schedule",
        "5-field cron",
    ),
    Broken(
        "cron-macro", "spec.peaks.0.schedule", "@weekly", "spec.peaks[0].schedule", "5-field cron"
    ),
    Broken(
        "cron-minute-61",
        "spec.peaks.0.schedule",
        "61 9 * * MON",
        "spec.peaks[0].schedule",
        "minute '61' is out of range",
    ),
    Broken(
        "cron-hour-25",
        "spec.peaks.0.schedule",
        "0 25 * * MON",
        "spec.peaks[0].schedule",
        "hour '25' is out of range",
    ),
    Broken(
        "cron-day-32",
        "spec.peaks.0.schedule",
        "0 9 32 * *",
        "spec.peaks[0].schedule",
        "day of month '32' is out of range",
    ),
    Broken(
        "cron-month-13",
        "spec.peaks.0.schedule",
        "0 9 1 13 *",
        "spec.peaks[0].schedule",
        "month '13' is out of range",
    ),
    Broken(
        "cron-day-name",
        "spec.peaks.0.schedule",
        "0 9 * * MONDAY",
        "spec.peaks[0].schedule",
        "day of week 'MONDAY' is out of range",
    ),
    Broken(
        "cron-step-zero",
        "spec.peaks.0.schedule",
        "*/0 9 * * MON",
        "spec.peaks[0].schedule",
        "minute '*/0' is out of range",
    ),
    Broken(
        "cron-tab-separated",
        "spec.peaks.0.schedule",
        "0\t9 * * MON",
        "spec.peaks[0].schedule",
        "invalid cron",
    ),
    Broken(
        "zone-unknown",
        "spec.peaks.0.timeZone",
        "America/Nowhere",
        "spec.peaks[0].timeZone",
        "unknown IANA time zone",
    ),
    Broken(
        "zone-lower-case",
        "spec.peaks.0.timeZone",
        "america/new_york",
        "spec.peaks[0].timeZone",
        "unknown IANA time zone",
    ),
    # Strict types, as the API server has them: YAML quotes make text, and text is not a number.
    Broken(
        "per-pod-quoted", "spec.sessions.perPod", "250", "spec.sessions.perPod", "valid integer"
    ),
    Broken("min-quoted", "spec.replicas.min", "2", "spec.replicas.min", "valid integer"),
    Broken("paused-yes", "spec.paused", "yes", "spec.paused", "valid boolean"),
    Broken("factor-quoted", "spec.peaks.0.factor", "1.5", "spec.peaks[0].factor", "valid number"),
    Broken(
        "protect-busy-pods-quoted",
        "spec.scaleDown.protectBusyPods",
        "true",
        "spec.scaleDown.protectBusyPods",
        "valid boolean",
    ),
    Broken(
        "zone-with-space",
        "spec.peaks.0.timeZone",
        "New York",
        "spec.peaks[0].timeZone",
        "unknown IANA time zone",
    ),
    Broken(
        "duration-words",
        "spec.peaks.0.duration",
        "2 hours",
        "spec.peaks[0].duration",
        "expected a duration",
    ),
    Broken(
        "duration-zero", "spec.peaks.0.duration", "0s", "spec.peaks[0].duration", "longer than 0s"
    ),
    Broken(
        "duration-number",
        "spec.peaks.0.leadTime",
        600,
        "spec.peaks[0].leadTime",
        "expected auto or a duration",
    ),
    Broken(
        "lead-time-word",
        "spec.peaks.0.leadTime",
        "soon",
        "spec.peaks[0].leadTime",
        "expected auto or a duration",
    ),
    Broken(
        "factor-below-one",
        "spec.peaks.0.factor",
        0.5,
        "spec.peaks[0].factor",
        "greater than or equal to 1",
    ),
    Broken(
        "peak-names-twice",
        "spec.peaks.1",
        {"name": "monday-morning", "schedule": "0 9 * * TUE", "duration": "1h"},
        "spec.peaks",
        "used twice",
    ),
    Broken(
        "warning-above-critical",
        "spec.headroom",
        {"warning": 0.9, "critical": 0.7},
        "spec.headroom",
        "must be below critical",
    ),
    Broken(
        "warning-inside-the-hpa-band",  # the HPA holds 0.7 x 1.1: this would fire in steady state
        "spec.headroom",
        {"warning": 0.7, "critical": 0.9},
        "spec",
        "headroom.warning must be above sessions.targetUtilization x 1.1",
    ),
    Broken(
        "warning-at-the-band-edge",  # 0.7 x 1.1 exactly: not above it
        "spec.headroom",
        {"warning": 0.7 * 1.1, "critical": 0.9},
        "spec",
        "headroom.warning must be above",
    ),
    Broken(
        "critical-alone-at-the-derived-warning",  # warning unset: derived 0.85 for a 0.7 target
        "spec.headroom",
        {"critical": 0.85},
        "spec",
        "headroom.critical",
    ),
    Broken(
        "latency-target-zero",
        "spec.latency",
        {"target": "0ms"},
        "spec.latency.target",
        "longer than 0s",
    ),
    Broken(
        "latency-quantile-one",
        "spec.latency",
        {"quantile": 1},
        "spec.latency.quantile",
        "less than 1",
    ),
    Broken(
        "latency-query-two-expressions",
        "spec.latency",
        {"query": "sum(a); sum(b)"},
        "spec.latency.query",
        "not one PromQL expression",
        caught_at="reconcile",  # CEL cannot parse PromQL
    ),
    Broken(
        "rejected-query-unclosed",
        "spec.sessions.rejectedQuery",
        "sum(rate(voice_calls_rejected_total[5m]",
        "spec.sessions.rejectedQuery",
        "not one PromQL expression",
        caught_at="reconcile",
    ),
    Broken(
        "measured-per-pod-without-latency",
        "spec.sessions.perPodFrom",
        "Measured",
        "spec",
        "needs spec.latency",
    ),
    Broken(
        "tokens-from-unknown",
        "spec.model.tokensFrom",
        "Guessed",
        "spec.model.tokensFrom",
        "Declared",
    ),
    Broken(
        "extended-resource-without-domain",
        "spec.sessionCost",
        {"extended": {"gpu": "0.05"}},
        "spec.sessionCost.extended",
        "not an extended resource name",
    ),
    Broken(
        "blocking-target-half",
        "spec.sessions.blockingTarget",
        0.5,
        "spec.sessions.blockingTarget",
        "less than 0.5",
    ),
    Broken(
        "blocking-target-zero",
        "spec.sessions.blockingTarget",
        0,
        "spec.sessions.blockingTarget",
        "greater than 0",
    ),
    Broken(
        "weeks-quantile-zero",
        "spec.forecast.weeksQuantile",
        0,
        "spec.forecast.weeksQuantile",
        "greater than 0",
    ),
    Broken(
        "ceiling-warning-above-one",
        "spec.headroom.ceilingWarning",
        1.5,
        "spec.headroom.ceilingWarning",
        "less than or equal to 1",
    ),
    Broken(
        "action-unknown",
        "spec.headroom.action",
        "Scale",
        "spec.headroom.action",
        "'Alert' or 'ScaleUp'",
    ),
    Broken(
        "rule-label-reserved",
        "spec.headroom.ruleLabels",
        {"severity": "page"},
        "spec.headroom.ruleLabels",
        "set by the operator",
    ),
    Broken(
        "rule-label-name",
        "spec.headroom.ruleLabels",
        {"team-name": "x"},
        "spec.headroom.ruleLabels",
        "not a Prometheus label name",
    ),
    Broken(
        "forecast-quantile-above-one",
        "spec.forecast.quantile",
        1.5,
        "spec.forecast.quantile",
        "less than or equal to 1",
    ),
    Broken("forecast-weeks-zero", "spec.forecast.weeks", 0, "spec.forecast.weeks", "1"),
    Broken(
        "forecast-growth-negative",
        "spec.forecast.growth",
        -1,
        "spec.forecast.growth",
        "greater than 0",
    ),
    Broken(
        "forecast-min-weeks-above-weeks",
        "spec.forecast",
        {"weeks": 4, "minWeeks": 6},
        "spec.forecast",
        "must not exceed",
    ),
    Broken(
        "forecast-refresh-too-short",
        "spec.forecast.refresh",
        "10s",
        "spec.forecast.refresh",
        "at least 1m",
    ),
    Broken(
        "pod-patch-budget-negative",
        "spec.scaleDown.podPatchesPerCycle",
        -1,
        "spec.scaleDown.podPatchesPerCycle",
        "greater than or equal to 1",
    ),
    Broken(
        "admission-config-map-elsewhere",
        "spec.admission",
        {"configMapRef": {"name": "limits", "namespace": "other"}},
        "spec.admission.configMapRef.namespace",
        "is not the VoiceCapacity's namespace",
        caught_at="reconcile",  # CEL cannot read metadata.namespace
    ),
    Broken(
        "stabilization-too-long",
        "spec.scaleDown.stabilization",
        "2h",
        "spec.scaleDown.stabilization",
        "at most 1h",
    ),
    Broken(
        "reserved-negative",
        "spec.model.reservedTPM",
        -1,
        "spec.model.reservedTPM",
        "greater than or equal to 0",
    ),
    Broken(
        "budget-missing", "spec.model", {"reservedTPM": 100}, "spec.model.budgetRef", "required"
    ),
    Broken(
        "outage-mode",
        "spec.metricsOutage.mode",
        "Zero",
        "spec.metricsOutage.mode",
        "'HoldLastKnown' or 'Floor'",
    ),
    Broken("vertical-spaces", "spec.vertical", "Health Care", "spec.vertical", "pattern"),
    Broken(
        "cost-not-quantity",
        "spec.sessionCost.cpu",
        "fifty",
        "spec.sessionCost.cpu",
        "Kubernetes quantity",
    ),
    Broken(
        "max-sessions-negative",
        "spec.admission.maxSessions",
        -1,
        "spec.admission.maxSessions",
        "greater than or equal to 0",
    ),
    Broken(
        "max-sessions-quoted",
        "spec.admission.maxSessions",
        "800",
        "spec.admission.maxSessions",
        "valid integer",
    ),
    Broken(
        "reserve-above-max-sessions",
        "spec.admission",
        {"maxSessions": 100, "reserve": [{"name": "vip", "sessions": 150}]},
        "spec.admission",
        "more than admission.maxSessions",
    ),
    Broken(
        "reserve-above-the-most-pods-carry",
        "spec.admission",
        {"reserve": [{"name": "vip", "sessions": 5000}, {"name": "emergency", "sessions": 3001}]},
        "spec",
        "more than replicas.max x sessions.perPod",
    ),
    Broken(
        "reserve-name-not-a-label",
        "spec.admission",
        {"reserve": [{"name": "VIP callers", "sessions": 10}]},
        "spec.admission.reserve[0].name",
        "pattern",
    ),
    Broken(
        "reserve-names-twice",
        "spec.admission",
        {"reserve": [{"name": "vip", "sessions": 10}, {"name": "vip", "sessions": 5}]},
        "spec.admission",
        "vip",
    ),
    Broken(
        "reserve-sessions-zero",
        "spec.admission",
        {"reserve": [{"name": "vip", "sessions": 0}]},
        "spec.admission.reserve[0].sessions",
        "greater than or equal to 1",
    ),
    Broken(
        "overflow-unknown",
        "spec.admission.overflow",
        "Drop",
        "spec.admission.overflow",
        "Reject",
    ),
    Broken(
        "outbound-without-call-duration",
        "spec.admission.outbound",
        {"enabled": True},
        "spec",
        "needs sessions.callDuration",
    ),
    Broken(
        "exclude-not-a-date",
        "spec.peaks.0.exclude",
        ["Christmas"],
        "spec.peaks[0].exclude[0]",
        "expected a date such as 2026-12-25",
    ),
    Broken(
        "exclude-month-13",
        "spec.peaks.0.exclude",
        ["2026-13-01"],
        "spec.peaks[0].exclude[0]",
        "expected a date such as 2026-12-25",
    ),
    Broken(
        "exclude-february-30",  # a pattern cannot know month lengths: the operator says so
        "spec.peaks.0.exclude",
        ["2026-02-30"],
        "spec.peaks[0].exclude[0]",
        "is not a calendar date",
        caught_at="reconcile",
    ),
    Broken(
        "exclude-range-backwards",
        "spec.peaks.0.exclude",
        ["2026-12-26/2026-12-24"],
        "spec.peaks[0].exclude[0]",
        "the range ends before it starts",
        caught_at="reconcile",
    ),
    Broken(
        "calendar-ref-name",
        "spec.peaks.0.calendarRef",
        {"name": "US Holidays"},
        "spec.peaks[0].calendarRef.name",
        "pattern",
    ),
    Broken("unknown-field", "spec.replicas.maximum", 3, "spec.replicas.maximum", "unknown field"),
    Broken("unknown-spec-field", "spec.peak", [], "spec.peak", "unknown field"),
]
