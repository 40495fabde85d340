"""Measured inputs against a real Prometheus: a day and a half of per-pod latency histograms,
sessions, tokens and refusals backfilled with promtool; the operator's batched queries read them
back, `voicecap calibrate` turns them into the measured per-pod capacity and tokens per
call-minute, each against the numbers this history was generated from."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.measured_history import MeasuredVertical, write_openmetrics
from support.objects import capacity_body
from support.servers import Prometheus, SessionExporter, wait_until
from voicecap.adapters.calibration import PrometheusCalibration
from voicecap.adapters.prometheus import PrometheusSessions, SessionSource
from voicecap.core.measured import queries
from voicecap.core.planner.observation import Observation

pytestmark = pytest.mark.integration

END = datetime(2026, 11, 20, 12, tzinfo=UTC)
# Pods that reach the 800ms target at 120 calls (60 % of the declared 200), and one that reaches
# it at 200 (as declared); tokens 9000 a call-minute against the declared 6000.
OVERSTATED = MeasuredVertical("voice", "healthcare", capacity=120.0)
MATCHING = MeasuredVertical("voice", "sales", capacity=200.0, tokens_per_call_minute=6000.0)


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("measured")
    history = write_openmetrics(folder / "history.om", [OVERSTATED, MATCHING], END, days=1.5)
    server = Prometheus(folder, [], history=history)
    yield server
    server.stop()


def vertical(name: str) -> dict[str, Any]:
    body = capacity_body(latency={"target": "800ms"})
    body["metadata"]["name"] = name
    body["spec"]["targetRef"]["name"] = f"{name}-agent"
    return body


def test_latency_by_load_comes_back_binned_per_vertical(measured: Prometheus) -> None:
    bins = PrometheusCalibration(measured.url).latency_bins(0.95, timedelta(days=3), END)
    assert set(bins) == {("voice", "healthcare"), ("voice", "sales")}
    healthcare = sorted(bins[("voice", "healthcare")], key=lambda b: b.load)
    assert 20 <= len(healthcare) <= 60  # a few dozen numbers, however many samples
    assert healthcare[0].load < 40 and healthcare[-1].load > 140
    assert sum(b.samples for b in healthcare) > 288
    assert healthcare[0].latency < 0.5
    assert healthcare[-1].latency > 0.8


def test_calibrate_measures_per_pod_capacity_and_tokens(
    measured: Prometheus, tmp_path: Path
) -> None:
    path = tmp_path / "vcaps.yaml"
    path.write_text(yaml.safe_dump_all([vertical("healthcare"), vertical("sales")]))
    done = subprocess.run(
        [sys.executable, "-m", "voicecap.cli", "calibrate", str(path), "--prometheus-url",
         measured.url, "--at", END.isoformat(), "-o", "json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = {row["vertical"]: row for row in json.loads(done.stdout)}
    healthcare = rows["healthcare"]["perPod"]
    assert (healthcare["reason"], healthcare["method"]) == ("Overstated", "Observed")
    assert healthcare["measured"] == pytest.approx(120, rel=0.1)
    assert rows["sales"]["perPod"]["reason"] == "Matches"
    tokens = rows["healthcare"]["tokensPerSessionMinute"]
    assert tokens["measured"] == pytest.approx(9000, rel=0.05)
    assert tokens["reason"] == "Understated"
    assert "set sessions.perPod to 1" in rows["healthcare"]["suggestion"]


def test_the_live_series_of_the_session_exporter_read_back_through_a_real_prometheus(
    tmp_path: Path,
) -> None:
    """What the operator asks each cycle, of what the tests' session exporter serves: the
    vertical's latency quantile, the provider's 429s, the load refused calls would have held."""
    exporter = SessionExporter()
    server = Prometheus(tmp_path, [f"127.0.0.1:{exporter.port}"])
    try:
        for pod in ("a", "b"):
            exporter.set("voice", "care", pod, 50)
            exporter.set_latency("voice", "care", pod, 0.45)
        exporter.add("voice_call_duration_seconds_count", "voice", "care", 0)
        exporter.add("voice_call_duration_seconds_sum", "voice", "care", 0)
        exporter.add("voice_calls_rejected_total", "voice", "care", 0)
        exporter.add("voice_model_rate_limited_total", "voice", "care", 0)
        client = PrometheusSessions(server.url)
        wait_until(  # the counters scraped at zero first, so that the additions are increases
            lambda: client._query(f"count_over_time({queries.RATE_LIMITED}[1m]) >= 2"),
            timeout=30,
            what="two scrapes of the counters at zero",
        )
        exporter.add("voice_model_rate_limited_total", "voice", "care", 4)
        exporter.add("voice_calls_rejected_total", "voice", "care", 30)
        exporter.add("voice_call_duration_seconds_count", "voice", "care", 10)
        exporter.add("voice_call_duration_seconds_sum", "voice", "care", 1800)
        source = SessionSource(
            "voice/care", "voice", "care", latency_quantile=0.95, rate_limited=True, refused=True
        )

        def observed() -> Observation | None:
            seen = client.observe([source])[source.key]
            ready = seen.latency is not None and seen.rate_limited and seen.refused_load
            return seen if ready else None

        seen = wait_until(observed, timeout=30, what="the exporter's series scraped and read")
        client.close()
    finally:
        server.stop()
        exporter.stop()
    assert seen.sessions == 100
    assert seen.latency is not None and 0.4 < seen.latency <= 0.5  # inside the 400-500ms bucket
    assert seen.rate_limited is not None and seen.rate_limited > 0
    assert seen.refused_load is not None and seen.refused_load > 0  # refused x 180s a call
