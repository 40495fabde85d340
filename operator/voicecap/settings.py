"""What `voicecap run` was told: one frozen value, from the command line to the Kopf handlers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from voicecap.adapters.prometheus_access import PrometheusAccess
from voicecap.core.alerts.rules import RUNBOOKS

LogFormat = Literal["plain", "full", "json"]


@dataclass(frozen=True)
class Settings:
    prometheus: PrometheusAccess
    namespaces: tuple[str, ...] = ()  # empty: all namespaces
    interval: float = 15.0  # seconds between fleet cycles
    metrics_port: int | None = 8080  # None: no /metrics
    health_port: int | None = 8081  # None: no /healthz
    bind_address: str = "0.0.0.0"
    prometheus_failure_grace: float = 30.0  # seconds: shorter query failures are a blip
    hpa_metric_grace: float = 45.0  # seconds: a shorter metric loss of the HPA is a blip
    peering: str | None = None  # None: Kopf's "default" peering, if its CRD is installed
    standalone: bool = False
    priority: int = 0
    auto_priority: bool = False  # --priority=auto: runner.run derives it from the start time
    peering_lifetime: int = 60  # seconds a peering entry lives without a keep-alive
    prometheus_rules: bool = True  # watch and write PrometheusRules where they are served
    keda: bool = True  # watch KEDA ScaledObjects where they are served
    log_format: LogFormat = "full"
    verbose: bool = False
    query_timeout: float = 3.0  # seconds per Prometheus query
    clock_start: datetime | None = None  # demos and tests: a shifted, compressed timeline
    clock_speed: float = 1.0
    clock_origin: float | None = None  # Unix time at which the clock reads clock_start
    identity: str = "voicecap-operator"  # this process, in peering objects and Events
    runbook_base_url: str = RUNBOOKS  # the alerts' runbook_url: this page + #alertname
    kubeconfig: str | None = None  # None: $KUBECONFIG, ~/.kube/config, or in-cluster
    context: str | None = None  # None: the kubeconfig's current context

    @property
    def prometheus_url(self) -> str:
        return self.prometheus.url

    @property
    def peering_name(self) -> str | None:
        """The peering object the fleet cycle checks (None: standalone)."""
        return None if self.standalone else (self.peering or "default")
