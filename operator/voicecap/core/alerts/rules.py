"""The Prometheus rules of one VoiceCapacity: what `voicecap rules` prints, the operator applies.

One rule group per VoiceCapacity, evaluated top to bottom (so the alerts read this evaluation's
recordings):

    namespace_vertical:voice_active_sessions:sum        the session query (default or override)
    namespace_vertical:voicecap_capacity_sessions:max   ready pods x perPod, from the operator
    namespace_vertical:voicecap_utilization:ratio       the two above, where capacity > 0

    VoiceCapacityHeadroomWarning   utilization >= headroom.warning   for headroom.for
    VoiceCapacityHeadroomCritical  utilization >= headroom.critical  for headroom.for
    VoiceCapacityNearCeiling       calls / ceiling calls >= ceilingWarning  for headroom.for
    VoiceCapacityAtCeiling         wanted replicas > ceiling         for headroom.for
    VoiceCapacityTPMNearLimit      projected TPM >= 90 % of granted  for headroom.for (spec.model)
    VoiceCapacityModelRateLimited  any provider refusal (429) in 5m, at once: an incident
                                   (spec.model)
    VoiceCapacitySessionsAbsent    no session recording               for metricsOutage.maxStaleness
    VoiceCapacityBurstAboveFactor  a peak's last window: actual / forecast > its factor
                                   for headroom.for (peaks)
    VoiceCapacityOverAdmission     active sessions > the admission limit   for 2m
    VoiceCapacityLatencyAboveTarget  the latency quantile > latency.target  for latency.for
                                   (spec.latency)

Every rule carries `namespace` and `vertical`; alerts also `severity` and headroom.ruleLabels,
and a `runbook_url` annotation: the runbooks page (docs/runbooks.md) at the alert's section.
A Warning alert keeps firing while Critical fires too (as kube-prometheus does); route or inhibit
in Alertmanager (README "Alerts").
"""

from __future__ import annotations

import json
from typing import Any

from voicecap.api.models import Latency, ModelTokens, VoiceCapacity
from voicecap.api.types import format_duration, format_fine_duration
from voicecap.core.measured import queries

SESSIONS = "namespace_vertical:voice_active_sessions:sum"
CAPACITY = "namespace_vertical:voicecap_capacity_sessions:max"
UTILIZATION = "namespace_vertical:voicecap_utilization:ratio"
TPM_NEAR_LIMIT = 0.9  # projected / granted that counts as near the limit

ALERTS = (
    "VoiceCapacityHeadroomWarning",
    "VoiceCapacityHeadroomCritical",
    "VoiceCapacityNearCeiling",
    "VoiceCapacityAtCeiling",
    "VoiceCapacityTPMNearLimit",
    "VoiceCapacityModelRateLimited",
    "VoiceCapacitySessionsAbsent",
    "VoiceCapacityOverAdmission",
    "VoiceCapacityLatencyAboveTarget",
    "VoiceCapacityBurstAboveFactor",
)
OVER_ADMISSION_FOR = "2m"  # calls past the limit hit 429s or full pods: short, but not one scrape
# The docs site's runbooks page (mkdocs.yml site_url + runbooks/); `--runbook-base-url` and the
# chart's `alerts.runbookBaseUrl` point alerts at a copy you host.
RUNBOOKS = "https://voicecap-operator.github.io/voicecap-operator/runbooks/"


def runbook_url(base: str, alert: str) -> str:
    """The alert's section of the runbooks page: mkdocs anchors a heading by its lowercased
    text."""
    return f"{base}#{alert.lower()}"


def with_runbooks(rules: list[dict[str, Any]], base: str) -> list[dict[str, Any]]:
    """Every alert of `rules` with its runbook_url annotation (recording rules unchanged)."""
    return [
        {
            **rule,
            "annotations": {**rule["annotations"], "runbook_url": runbook_url(base, rule["alert"])},
        }
        if "alert" in rule
        else rule
        for rule in rules
    ]


def group_name(capacity: VoiceCapacity) -> str:
    return f"voicecap.{capacity.namespace}.{capacity.metadata.name}"


def rule_file(capacities: list[VoiceCapacity], runbooks: str = RUNBOOKS) -> dict[str, Any]:
    """A Prometheus rule file (`promtool check rules` reads it) with one group per object."""
    return {"groups": [rule_group(capacity, runbooks) for capacity in capacities]}


def rule_group(capacity: VoiceCapacity, runbooks: str = RUNBOOKS) -> dict[str, Any]:
    spec = capacity.spec
    where = _selector(capacity)
    identity = {"namespace": capacity.namespace, "vertical": capacity.vertical}
    sessions = spec.sessions.query or f"sum(voice_active_sessions{where})"
    rules: list[dict[str, Any]] = [
        {"record": SESSIONS, "expr": sessions, "labels": dict(identity)},
        {
            "record": CAPACITY,
            "expr": f"max(voicecap_capacity_sessions{where})",
            "labels": dict(identity),
        },
        {
            "record": UTILIZATION,
            "expr": f"{SESSIONS}{where} / ({CAPACITY}{where} > 0)",
            "labels": dict(identity),
        },
    ]
    name = f"{capacity.namespace}/{capacity.metadata.name}"
    show = f"kubectl -n {capacity.namespace} get vcap {capacity.metadata.name}"
    sustain = format_duration(spec.headroom.for_)
    warning, critical = spec.headroom_levels
    for level, threshold in (("warning", warning), ("critical", critical)):
        rules.append(
            _alert(
                capacity,
                f"VoiceCapacityHeadroom{level.title()}",
                expr=f"{UTILIZATION}{where} >= {_number(threshold)}",
                sustain=sustain,
                severity=level,
                summary=f"{name}: calls use {{{{ $value | humanizePercentage }}}} of capacity",
                description=(
                    f"Active calls of vertical {capacity.vertical} have stayed at or above "
                    f"{threshold:.0%} of ready capacity (ready pods x {spec.sessions.per_pod} "
                    f"calls) for {sustain}. New calls may hear busy signals."
                ),
                action=(
                    f"`{show}`: if FLOOR is at CEILING raise replicas.max or the TPM "
                    "reservation; if pods are not ready, look at the Deployment; "
                    "headroom.action: ScaleUp lets the operator raise the floor itself."
                ),
            )
        )
    ceiling_warning = spec.headroom.ceiling_warning
    rules.append(
        _alert(
            capacity,
            "VoiceCapacityNearCeiling",
            expr=(
                f"{SESSIONS}{where} / on (namespace, vertical) "
                f"(max by (namespace, vertical) (voicecap_ceiling_sessions{where}) > 0) >= "
                f"{_number(ceiling_warning)}"
            ),
            sustain=sustain,
            severity="warning",
            summary=f"{name}: calls use {{{{ $value | humanizePercentage }}}} of what the ceiling "
            "can carry",
            description=(
                f"Active calls of vertical {capacity.vertical} have stayed at or above "
                f"{ceiling_warning:.0%} of the calls its ceiling can carry (replicas.max x "
                f"{spec.sessions.per_pod}, or the TPM grant, whichever binds) for {sustain}: "
                "the next burst has nowhere to scale to. This is the planning signal, not an "
                "outage."
            ),
            action=(
                f"`{show}` (status.sessions.ceilingSessions): raise replicas.max or "
                "model.reservedTPM before the next peak; condition NearCeiling says which binds."
            ),
        )
    )
    rules.append(
        _alert(
            capacity,
            "VoiceCapacityAtCeiling",
            expr=f"max(voicecap_wanted_replicas{where}) > max(voicecap_ceiling_replicas{where})",
            sustain=sustain,
            severity="warning",
            summary=f"{name}: the plan wants more replicas than the ceiling allows",
            description=(
                "The plan wants {{ $value }} replicas for the current load, peaks and headroom, "
                "but the ceiling (replicas.max or the granted TPM) has held it back for "
                f"{sustain}; "
                "condition CapacityLimited says which ceiling."
            ),
            action=f"`{show}` and its CapacityLimited condition; raise that ceiling.",
        )
    )
    if spec.model is not None:
        rules.append(
            _alert(
                capacity,
                "VoiceCapacityTPMNearLimit",
                expr=(
                    f"max(voicecap_tpm_projected{where}) >= {TPM_NEAR_LIMIT} * "
                    f"(max(voicecap_tpm_granted{where}) > 0)"
                ),
                sustain=sustain,
                severity="warning",
                summary=f"{name}: projected model TPM is near the granted TPM",
                description=(
                    "Active calls x the tokens a call-minute uses (measured where "
                    "model.usageQuery answers, else model.tokensPerSessionMinute) "
                    f"have stayed at or above {TPM_NEAR_LIMIT:.0%} of the TPM granted by "
                    f"TokenBudget {spec.model.budget_ref} for {sustain}; at 100 % the model "
                    "provider starts rejecting requests."
                ),
                action=(
                    f"Raise model.reservedTPM (or its priority) or the TokenBudget "
                    f"{spec.model.budget_ref}; `kubectl get tb {spec.model.budget_ref}` shows "
                    "who holds the grants."
                ),
            )
        )
        rules.append(_rate_limited_alert(capacity, spec.model, where, show))
    staleness = format_duration(spec.metrics_outage.max_staleness)
    rules.append(
        _alert(
            capacity,
            "VoiceCapacitySessionsAbsent",
            expr=f"absent({SESSIONS}{where})",
            sustain=staleness,
            severity="warning",
            summary=f"{name}: no session data",
            description=(
                f"The session query of vertical {capacity.vertical} has answered nothing for "
                f"{staleness}: the operator holds the floor ({spec.metrics_outage.mode}) and "
                "cannot follow the load."
            ),
            action=(
                "Check that the voice pods expose voice_active_sessions with namespace and "
                "vertical labels, that Prometheus scrapes them, and spec.sessions.query."
            ),
        )
    )
    rules.append(
        _alert(
            capacity,
            "VoiceCapacityOverAdmission",
            expr=(f"max({SESSIONS}{where}) > max(voicecap_admission_limit_sessions{where})"),
            sustain=OVER_ADMISSION_FOR,
            severity="critical",
            summary=f"{name}: more calls than the admission limit",
            description=(
                "{{ $value }} active calls exceed what the ready pods, the TPM grant and "
                "admission.maxSessions allow (status.admission.maxSessions) for "
                f"{OVER_ADMISSION_FOR}: calls are being squeezed onto full pods or will hit the "
                "model provider's rate limit or the carrier's."
            ),
            action=(
                f'Make the call gateway honour the limit (README "Admission limits"); `{show}` '
                "says whether Pods, TPM or MaxSessions binds (status.admission.reason)."
            ),
        )
    )
    if spec.latency is not None:
        rules.append(_latency_alert(capacity, spec.latency, where, show))
    if spec.peaks:
        rules.append(_burst_alert(capacity, where, sustain, show))
    return {"name": group_name(capacity), "rules": with_runbooks(rules, runbooks)}


def _rate_limited_alert(
    capacity: VoiceCapacity, model: ModelTokens, where: str, show: str
) -> dict[str, Any]:
    """Any 429 from the model provider: each one is a call failing mid-way, so it fires at once
    (the seeds: treat any rate-limit hit as an incident) and clears 5 minutes after the last."""
    name = f"{capacity.namespace}/{capacity.metadata.name}"
    counter = (
        f"sum(increase(({model.rate_limited_query})[{queries.RATE_WINDOW}:1m]))"
        if model.rate_limited_query
        else f"sum(increase({queries.RATE_LIMITED}{where}[{queries.RATE_WINDOW}]))"
    )
    return _alert(
        capacity,
        "VoiceCapacityModelRateLimited",
        expr=f"{counter} > 0",
        sustain="0s",
        severity="critical",
        summary=f"{name}: the model provider refused {{{{ $value }}}} requests in 5 minutes",
        description=(
            "The model provider answered 429 (rate limited): calls of vertical "
            f"{capacity.vertical} fail mid-way. The TPM the calls use is above what the "
            "provider gives, or tokens per call-minute are above what the spec declares. "
            "Condition ModelRateLimited holds the numbers."
        ),
        action=(
            f"`{show}`: compare status.calibration.tokensPerSessionMinute (measured) with "
            "model.tokensPerSessionMinute (set model.tokensFrom: Measured), and the "
            f"TokenBudget {model.budget_ref}'s tokensPerMinute with the provider's real cap."
        ),
    )


def _latency_alert(
    capacity: VoiceCapacity, latency: Latency, where: str, show: str
) -> dict[str, Any]:
    """The vertical's latency quantile above its target for latency.for: callers hear silence
    and hang up. The operator's guard raises the floor and holds admission meanwhile."""
    name = f"{capacity.namespace}/{capacity.metadata.name}"
    quantile = (
        f"quantile(0.5, ({latency.query}))"
        if latency.query
        else (
            f"histogram_quantile({latency.quantile!r}, sum by (le) "
            f"(rate({queries.TTFB}_bucket{where}[{queries.RATE_WINDOW}])))"
        )
    )
    target = latency.target.total_seconds()
    sustain = format_duration(latency.for_)
    return _alert(
        capacity,
        "VoiceCapacityLatencyAboveTarget",
        expr=f"{quantile} > {_number(target)}",
        sustain=sustain,
        severity="critical",
        summary=f"{name}: time to first audio is {{{{ $value | humanizeDuration }}}}, above "
        f"its {format_fine_duration(latency.target)} target",
        description=(
            f"The p{latency.quantile * 100:g} time to first audio of vertical "
            f"{capacity.vertical} has stayed above {format_fine_duration(latency.target)} for "
            f"{sustain}: "
            "the pods are past their real capacity and callers hang up. The operator raises "
            "the floor and admits new calls only as calls end (condition LatencyAboveTarget)."
        ),
        action=(
            f"`{show}`: status.calibration.perPod says the calls a pod carries at the target; "
            "lower sessions.perPod or set sessions.perPodFrom: Measured; check the model "
            "provider's latency and the pods' CPU."
        ),
    )


def _burst_alert(capacity: VoiceCapacity, where: str, sustain: str, show: str) -> dict[str, Any]:
    """A peak's last window against what it planned for: actual / forecast above its factor
    (like with like: the factor is the headroom over the forecast)."""
    name = f"{capacity.namespace}/{capacity.metadata.name}"
    terms = []
    for peak in capacity.spec.peaks:
        one = where[:-1] + f", peak={json.dumps(peak.name)}}}"
        terms.append(
            f"max(voicecap_scorecard_actual_sessions{one} / "
            f"(voicecap_scorecard_baseline_sessions{one} > 0)) > {_number(peak.factor)}"
        )
    return _alert(
        capacity,
        "VoiceCapacityBurstAboveFactor",
        expr=" or ".join(terms),
        sustain=sustain,
        severity="warning",
        summary=f"{name}: a peak window's calls reached {{{{ $value }}}}x its forecast, more than "
        "its factor",
        description=(
            "The last window of a peak carried more calls than factor x the calls it planned "
            "for: the pre-scale was short and the HPA had to catch up. Condition "
            "BurstAboveFactor names the peak and the numbers."
        ),
        action=(
            f"`{show}`: compare status.forecast[].lastWindow (actual, forecast, errorRatio, "
            "overCapacityMinutes) with the peak's factor; raise peaks[].factor, "
            "forecast.growth or expectedSessions, or run `voicecap forecast` for a suggestion."
        ),
    )


def _alert(
    capacity: VoiceCapacity,
    name: str,
    *,
    expr: str,
    sustain: str,
    severity: str,
    summary: str,
    description: str,
    action: str,
) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": sustain,
        "labels": {
            **capacity.spec.headroom.rule_labels,
            "severity": severity,
            "namespace": capacity.namespace,
            "vertical": capacity.vertical,
        },
        "annotations": {"summary": summary, "description": description, "action": action},
    }


def _selector(capacity: VoiceCapacity) -> str:
    """A label matcher for this vertical; values are quoted as PromQL strings."""
    namespace, vertical = json.dumps(capacity.namespace), json.dumps(capacity.vertical)
    return f"{{namespace={namespace}, vertical={vertical}}}"


def _number(value: float) -> str:
    return repr(float(value))
