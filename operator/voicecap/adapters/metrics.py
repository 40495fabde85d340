"""The operator's own /metrics (docs/api.md "Metrics contract"), with prometheus_client.

Per-vertical gauges carry `namespace` and `vertical`, and are removed when their VoiceCapacity
goes away, so the series count follows the object count and never grows on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest

from voicecap.adapters.budget_metrics import BudgetGauges
from voicecap.adapters.plan_metrics import PlanGauges
from voicecap.adapters.prometheus import QueryRecord

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class WatchStreamCounts(Protocol):
    """What adapters/kopf_watches.WatchStreams counts."""

    restarts: int
    pruned: int

    def stale(self) -> list[str]: ...


class _WatchStreamsCollector:
    def __init__(self, streams: WatchStreamCounts) -> None:
        self._streams = streams

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "voicecap_watch_restarts",
            "Watch streams that failed (a request escalated after its retries) and listed again.",
            value=self._streams.restarts,
        )
        yield CounterMetricFamily(
            "voicecap_watch_pruned_objects",
            "Objects forgotten because a re-listing (after 410 Gone, a pause or an error) no "
            "longer had them: deleted while the watch was away.",
            value=self._streams.pruned,
        )
        yield GaugeMetricFamily(
            "voicecap_watch_streams_stale",
            "Watch streams re-listing; the fleet cycle writes nothing until they are fresh.",
            value=len(self._streams.stale()),
        )


class OperatorMetrics:
    """The operator's own health (reconciles, cycles, queries, writes) and the plans' and
    budgets' gauges (adapters/plan_metrics.py), on one registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.reconcile_duration = Histogram(
            "voicecap_reconcile_duration_seconds",
            "One VoiceCapacity's reconcile: observe, plan, apply, status.",
            ("trigger",),
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.reconcile_errors = Counter(
            "voicecap_reconcile_errors_total",
            "Reconciles that did not finish, by reason.",
            ("reason",),
            registry=r,
        )
        self.cycle_duration = Histogram(
            "voicecap_cycle_duration_seconds",
            "One periodic evaluation of every VoiceCapacity.",
            buckets=(*_LATENCY_BUCKETS, 30, 60),
            registry=r,
        )
        self.cycles_skipped = Counter(
            "voicecap_cycles_skipped_total",
            "Fleet cycles not run, by reason: a peer with a higher priority writes (Peer), or "
            "a watch cache is re-listing after 410 Gone, a pause or an error (StaleCache).",
            ("reason",),
            registry=r,
        )
        self.heartbeat = Gauge(
            "voicecap_cycle_heartbeat_timestamp_seconds",
            "Unix time the fleet loop last finished a pass (a cycle, or a skip as a standby or "
            "while caches re-list): alert VoicecapOperatorHeartbeatStale when it stops moving.",
            registry=r,
        )
        self.interval = Gauge(
            "voicecap_cycle_interval_seconds",
            "The fleet cycle's configured interval (--interval).",
            registry=r,
        )
        self.writer = Gauge(
            "voicecap_writer",
            "1 while this replica is the one that writes (Kopf peering), else 0.",
            registry=r,
        )
        self.objects = Gauge(
            "voicecap_objects",
            "VoiceCapacities known to the operator, by validity.",
            ("valid",),
            registry=r,
        )
        self.query_duration = Histogram(
            "voicecap_prometheus_query_duration_seconds",
            "Prometheus query latency.",
            ("kind",),
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.query_failures = Counter(
            "voicecap_prometheus_query_failures_total",
            "Prometheus queries that gave no usable answer, by reason.",
            ("reason",),
            registry=r,
        )
        self.api_writes = Counter(
            "voicecap_kube_writes_total",
            "Writes to the Kubernetes API, by resource and verb.",
            ("resource", "verb"),
            registry=r,
        )
        self.events = Counter(
            "voicecap_events_total", "Kubernetes Events posted, by reason.", ("reason",), registry=r
        )
        self.plans = PlanGauges(r)  # per vertical and per peak
        self.budgets = BudgetGauges(r)  # per TokenBudget

    def watch_streams(self, streams: WatchStreamCounts) -> None:
        """Export the watch streams' counts (read at scrape time)."""
        self.registry.register(_WatchStreamsCollector(streams))

    def serve(self, port: int, address: str = "0.0.0.0") -> None:
        start_http_server(port, addr=address, registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def record_queries(self, kind: str, records: Iterable[QueryRecord]) -> None:
        """Prometheus queries: latency by kind, failures by reason."""
        for record in records:
            self.query_duration.labels(kind).observe(record.seconds)
            if record.outcome != "ok":
                self.query_failures.labels(record.outcome).inc()
