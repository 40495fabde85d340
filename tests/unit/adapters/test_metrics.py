"""adapters/metrics.py: the operator's own health on /metrics: query latency and failures by
reason, the watch streams' counts read at scrape time, and the exposition itself."""

from __future__ import annotations

from dataclasses import dataclass, field

from voicecap.adapters.metrics import OperatorMetrics
from voicecap.adapters.prometheus import QueryRecord


@dataclass
class Streams:
    restarts: int = 0
    pruned: int = 0
    stale_streams: list[str] = field(default_factory=list)

    def stale(self) -> list[str]:
        return self.stale_streams


def test_queries_are_timed_by_kind_and_failures_counted_by_reason() -> None:
    metrics = OperatorMetrics()
    metrics.record_queries(
        "forecast",
        [
            QueryRecord("q", 0.2, "ok"),
            QueryRecord("q", 3.0, "PrometheusUnreachable"),
        ],
    )
    registry = metrics.registry
    assert (
        registry.get_sample_value(
            "voicecap_prometheus_query_duration_seconds_count", {"kind": "forecast"}
        )
        == 2
    )
    assert (
        registry.get_sample_value(
            "voicecap_prometheus_query_failures_total", {"reason": "PrometheusUnreachable"}
        )
        == 1
    )


def test_watch_streams_are_read_when_scraped() -> None:
    metrics = OperatorMetrics()
    streams = Streams()
    metrics.watch_streams(streams)
    streams.restarts, streams.stale_streams = 2, ["voicecapacities"]
    text = metrics.render().decode()
    assert "voicecap_watch_restarts_total 2.0" in text
    assert "voicecap_watch_streams_stale 1.0" in text


def test_two_operators_in_one_process_do_not_share_series() -> None:
    first, second = OperatorMetrics(), OperatorMetrics()
    first.writer.set(1)
    assert second.registry.get_sample_value("voicecap_writer") == 0
