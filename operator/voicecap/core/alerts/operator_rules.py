"""The alerts on the operator's own metrics: what no single VoiceCapacity's rule group can see.
One group for the whole cluster; `voicecap rules --operator` prints it and the chart ships it.

    alert                           fires when                                      for  severity
    VoicecapOperatorDown            no operator target is up (or none is scraped)    5m  critical
    VoicecapOperatorHeartbeatStale  a replica's fleet loop finished no pass in three
                                    intervals (at least 2m)                          2m  critical
    VoicecapOperatorReconcileErrors more than 5 % of reconciles fail                15m  warning
    VoicecapOperatorCycleSlow       the mean fleet cycle outlasts the interval      15m  warning
    VoicecapOperatorWatchStale      a watch stream re-lists (no cycle writes)       10m  warning
    VoicecapOperatorWriters         replicas writing != 1 (two writers, or none)     5m  critical
    TokenBudgetNearCap              the verticals' projected use >= 90 % of the cap  5m  warning

The operator is scraped as job="voicecap-operator" (the chart's ServiceMonitor sets it; set it
in your own scrape config). Every alert has a runbook_url (docs/runbooks.md).
"""

from __future__ import annotations

from typing import Any

from voicecap.core.alerts.rules import RUNBOOKS, with_runbooks
from voicecap.core.status.budget import NEAR_CAP

NEAR_CAP_FOR = "5m"
OPERATOR_GROUP = "voicecap-operator"
JOB = 'job="voicecap-operator"'
ERROR_RATIO = 0.05  # reconciles that fail, of all: a few are retried; a twentieth is a fault
WINDOW = "15m"
SEE_LOGS = "`kubectl -n <release namespace> logs deployment/<release>-voicecap-operator`"


def operator_rule_file(runbooks: str = RUNBOOKS) -> dict[str, Any]:
    """The alerts on the operator's own metrics, one group for the whole cluster (the chart
    ships it): the operator's health, and what no single VoiceCapacity's rules can see, such as
    every vertical's projected use of a TokenBudget against the provider's real cap."""
    rules = [*_health(), _near_cap()]
    return {"groups": [{"name": OPERATOR_GROUP, "rules": with_runbooks(rules, runbooks)}]}


def _alert(name: str, expr: str, sustain: str, severity: str, **text: str) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": sustain,
        "labels": {"severity": severity},
        "annotations": text,
    }


def _health() -> list[dict[str, Any]]:
    return [
        _alert(
            "VoicecapOperatorDown",
            f"absent(up{{{JOB}}} == 1)",
            "5m",
            "critical",
            summary="voicecap-operator is down: no replica is scraped up",
            description="No target of job voicecap-operator has been up for 5m (or none is "
            "scraped). Nothing follows the load: HPA floors and ceilings, admission limits and "
            "TPM grants stay as last written, and peaks are not pre-scaled.",
            action=f"`kubectl -n <release namespace> get pods`; {SEE_LOGS}; the chart's NOTES.",
        ),
        _alert(
            "VoicecapOperatorHeartbeatStale",
            f"time() - voicecap_cycle_heartbeat_timestamp_seconds{{{JOB}}} > "
            f"clamp_min(3 * voicecap_cycle_interval_seconds{{{JOB}}}, 120)",
            "2m",
            "critical",
            summary="voicecap-operator {{ $labels.instance }}: the fleet loop is stuck",
            description="The replica answers scrapes but its fleet loop has not finished a "
            "pass (a cycle, or a skip as a standby) for {{ $value | humanizeDuration }}: more "
            "than three intervals. A stuck writer decides nothing.",
            action=f"{SEE_LOGS}; restart the pod (`kubectl rollout restart`), then look for "
            "the query or API call it hung on.",
        ),
        _alert(
            "VoicecapOperatorReconcileErrors",
            f"sum(rate(voicecap_reconcile_errors_total{{{JOB}}}[{WINDOW}])) / "
            f"sum(rate(voicecap_reconcile_duration_seconds_count{{{JOB}}}[{WINDOW}])) > "
            f"{ERROR_RATIO}",
            WINDOW,
            "warning",
            summary="voicecap-operator: {{ $value | humanizePercentage }} of reconciles fail",
            description=f"More than {ERROR_RATIO:.0%} of reconciles have failed over "
            f"{WINDOW} (voicecap_reconcile_errors_total by reason): API errors, RBAC refusals "
            "or Prometheus failures keep some verticals from being followed.",
            action="`sum by (reason) (rate(voicecap_reconcile_errors_total[15m]))` names the "
            f"reason; {SEE_LOGS}; `kubectl get vcap -A` shows which objects are not Ready.",
        ),
        _alert(
            "VoicecapOperatorCycleSlow",
            f"rate(voicecap_cycle_duration_seconds_sum{{{JOB}}}[{WINDOW}]) / "
            f"rate(voicecap_cycle_duration_seconds_count{{{JOB}}}[{WINDOW}]) > "
            f"voicecap_cycle_interval_seconds{{{JOB}}}",
            WINDOW,
            "warning",
            summary="voicecap-operator {{ $labels.instance }}: a fleet cycle outlasts the interval",
            description="The mean fleet cycle has been longer than --interval for 15m: every "
            "vertical is re-evaluated less often than configured, so floors follow the load late.",
            action="`voicecap_prometheus_query_duration_seconds` (a slow Prometheus) and the "
            "object count (`voicecap_objects`); raise operator.interval or resources.",
        ),
        _alert(
            "VoicecapOperatorWatchStale",
            f"max(voicecap_watch_streams_stale{{{JOB}}}) > 0",
            "10m",
            "warning",
            summary="voicecap-operator: {{ $value }} watch streams have been re-listing for 10m",
            description="A watch stream has been re-listing for 10m; the fleet cycle writes "
            "nothing until every cache is fresh (a decision on a stale cache could undo a newer "
            "one).",
            action=f"{SEE_LOGS} (watch errors, 410 Gone); the API server's health and the "
            "operator's RBAC (`kubectl auth can-i list voicecapacities "
            "--as=system:serviceaccount:<namespace>:<release>`).",
        ),
        _alert(
            "VoicecapOperatorWriters",
            f"sum(voicecap_writer{{{JOB}}}) != 1",
            "5m",
            "critical",
            summary="voicecap-operator: {{ $value }} replicas are writing (want exactly 1)",
            description="Kopf peering should elect exactly one writer. Two writers fight over "
            "HPAs and status; none means every replica stands by and nothing is decided.",
            action="`kubectl get clusterkopfpeering -o yaml` (each replica's priority and "
            "last keep-alive); replicas with --standalone ignore peering: run one of them only.",
        ),
    ]


def _near_cap() -> dict[str, Any]:
    share = f"{NEAR_CAP:g}"
    return _alert(
        "TokenBudgetNearCap",
        # max by budget: each replica of the operator may export the series
        "max by (budget) (voicecap_budget_projected_tpm) >= "
        f"{share} * max by (budget) (voicecap_budget_tokens_per_minute)",
        NEAR_CAP_FOR,
        "warning",
        summary="TokenBudget {{ $labels.budget }}: the verticals' live calls use at least "
        f"{NEAR_CAP:.0%} of the provider's tokens-per-minute cap",
        description="The sum over the budget's verticals of live calls x the tokens a "
        "call-minute uses (status.projected) has been at or above "
        f"{NEAR_CAP:.0%} of spec.tokensPerMinute for {NEAR_CAP_FOR}: the provider starts "
        "rate-limiting (HTTP 429) the next calls of every vertical at once.",
        action="`kubectl get tokenbudget {{ $labels.budget }} -o yaml`: status.projected, "
        "status.projectedShare and the reservations; raise the provider's cap, lower the "
        "grants of the verticals that can wait (model.priority), or lower spec.overcommit.",
    )
