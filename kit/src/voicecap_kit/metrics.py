"""The metrics contract voicecap reads (docs/api.md "Metrics contract"), exported with
prometheus_client, and the kit's own view of its limits.

Every series carries `namespace`, `vertical` and `pod`, emitted by the kit (from the downward
API's POD_NAMESPACE and POD_NAME and the vertical's name), so no relabeling is needed; a
PodMonitor that relabels them anyway must keep these names. The operator's default queries sum
by (namespace, vertical), so the pod label costs nothing there and serves the per-pod latency
calibration.

    voice_active_sessions           gauge      live calls on this pod
    voice_calls_rejected_total      counter    calls refused for lack of room (Full, QueueTimeout)
    voice_call_duration_seconds     histogram  calls that ended, admitted to released
    voice_ttfb_seconds              histogram  time to first audio of each response
    voice_model_tokens_total        counter    model tokens used
    voice_model_rate_limited_total  counter    the provider's rate-limit refusals (429)
    voicecap_kit_limit_sessions     gauge      the limit this process admits against (its share)
    voicecap_kit_limits_version     gauge      limits.json version applied
    voicecap_kit_limits_stale       gauge      1 while limits.json is unusable (last good kept)
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from voicecap_kit.admission import Admission, Decision, Ticket
from voicecap_kit.limits import VerticalLimits

LABELS = ("namespace", "vertical", "pod")
TTFB_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.5, 2.0, 3.0, 5.0)
DURATION_BUCKETS = (15, 30, 60, 120, 180, 240, 300, 420, 600, 900, 1200, 1800, 3600)


@dataclass(frozen=True)
class Identity:
    """Where the series come from: the pod's namespace and name, and the vertical."""

    namespace: str
    vertical: str
    pod: str

    @classmethod
    def from_environment(cls, vertical: str) -> Identity:
        """POD_NAMESPACE and POD_NAME from the downward API (the chart's docs show the env)."""
        return cls(
            os.environ.get("POD_NAMESPACE", "default"),
            vertical,
            os.environ.get("POD_NAME") or os.uname().nodename,
        )


class VoiceMetrics:
    """The contract's series for one pod, on `registry`."""

    def __init__(self, identity: Identity, registry: CollectorRegistry | None = None) -> None:
        registry = registry if registry is not None else CollectorRegistry()
        self.registry = registry
        values = (identity.namespace, identity.vertical, identity.pod)
        self.active = Gauge(
            "voice_active_sessions", "Live calls on this pod.", LABELS, registry=registry
        ).labels(*values)
        self.rejected = Counter(
            "voice_calls_rejected",
            "Calls refused for lack of capacity.",
            LABELS,
            registry=registry,
        ).labels(*values)
        self.duration = Histogram(
            "voice_call_duration_seconds",
            "Calls that ended, admitted to released.",
            LABELS,
            buckets=DURATION_BUCKETS,
            registry=registry,
        ).labels(*values)
        self.ttfb = Histogram(
            "voice_ttfb_seconds",
            "Time to first audio of each agent response.",
            LABELS,
            buckets=TTFB_BUCKETS,
            registry=registry,
        ).labels(*values)
        self.tokens = Counter(
            "voice_model_tokens", "Model tokens used.", LABELS, registry=registry
        ).labels(*values)
        self.rate_limited = Counter(
            "voice_model_rate_limited",
            "The model provider's rate-limit refusals (HTTP 429).",
            LABELS,
            registry=registry,
        ).labels(*values)
        self.limit = Gauge(
            "voicecap_kit_limit_sessions",
            "The limit this process admits against (its share of the vertical's).",
            LABELS,
            registry=registry,
        ).labels(*values)
        self.version = Gauge(
            "voicecap_kit_limits_version", "limits.json version applied.", LABELS, registry=registry
        ).labels(*values)
        self.stale = Gauge(
            "voicecap_kit_limits_stale",
            "1 while limits.json is unusable and the last good limits are kept.",
            LABELS,
            registry=registry,
        ).labels(*values)

    def observe(
        self, admission: Admission, decision: Decision | None, ended: Ticket | None
    ) -> None:
        """Admission's observer: live calls, refusals and call durations."""
        self.active.set(admission.live)
        limits = admission.limits()
        if limits is not None:
            self.limit.set(limits.max_sessions)
        refused = ("Full", "QueueTimeout", "TenantCap")
        if decision is not None and decision.final and decision.reason in refused:
            self.rejected.inc()
        if ended is not None:
            self.duration.observe(max(admission.clock() - ended.started, 0.0))

    def limits_read(self, limits: VerticalLimits | None, error: str | None) -> None:
        """LimitsFile's listener: the version applied and whether it is stale."""
        if limits is not None:
            self.version.set(limits.version)
        self.stale.set(1 if error is not None else 0)
