"""The Prometheus adapter against a real Prometheus (F1-F4): batching, result shapes, failures."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta

import pytest

from support.objects import capacity_body
from support.servers import (
    Prometheus,
    SessionExporter,
    answering,
    free_port,
    silent_listener,
    wait_until,
)
from voicecap.adapters.prometheus import DEFAULT_QUERY, PrometheusSessions, SessionSource
from voicecap.api.models import VoiceCapacity
from voicecap.core.planner.observation import Observation, judge_sessions
from voicecap.core.planner.plan import plan

pytestmark = pytest.mark.integration

HEALTHCARE = SessionSource("voice/healthcare", "voice", "healthcare")
SALES = SessionSource("voice/sales", "voice", "sales")
DENTISTRY = SessionSource("voice/dentistry", "voice", "dentistry")


def observe(
    url: str, *sources: SessionSource, timeout: float = 3.0
) -> tuple[dict[str, Observation], PrometheusSessions]:
    adapter = PrometheusSessions(url, timeout=timeout)
    try:
        return adapter.observe(sources), adapter
    finally:
        adapter.close()


def _judged(observation: Observation) -> tuple[float | None, str]:
    return judge_sessions(observation, max_staleness_seconds=300, now=datetime.now(UTC))


@pytest.fixture(autouse=True)
def _traffic(exporter: SessionExporter, prometheus: Prometheus) -> None:
    exporter.clear()
    exporter.set("voice", "healthcare", "healthcare-agent-a", 100)
    exporter.set("voice", "healthcare", "healthcare-agent-b", 50)
    exporter.set("voice", "sales", "sales-agent-a", 30)
    exporter.set("staging", "healthcare", "healthcare-agent-a", 7)
    wait_until(
        lambda: _judged(observe(prometheus.url, HEALTHCARE)[0][HEALTHCARE.key]) == (150.0, "Known"),
        timeout=20,
        what="Prometheus scraped the exporter",
    )


def test_default_queries_are_batched_per_cycle(prometheus: Prometheus) -> None:
    observations, adapter = observe(prometheus.url, HEALTHCARE, SALES, DENTISTRY)
    assert _judged(observations[HEALTHCARE.key]) == (
        150.0,
        "Known",
    )  # summed over pods, per namespace
    assert _judged(observations[SALES.key]) == (30.0, "Known")
    assert _judged(observations[DENTISTRY.key]) == (None, "NoData")  # empty is unknown, not zero
    assert adapter.history[0].query == DEFAULT_QUERY
    assert len(adapter.history) == 2
    many = [SessionSource(f"voice/v{index}", "voice", f"v{index}") for index in range(500)]
    _, adapter = observe(prometheus.url, HEALTHCARE, *many)
    assert len(adapter.history) == 2  # does not grow with the number of objects


def test_sample_time_comes_from_the_scrape(prometheus: Prometheus) -> None:
    observation = observe(prometheus.url, HEALTHCARE)[0][HEALTHCARE.key]
    assert observation.sampled_at is not None
    assert datetime.now(UTC) - observation.sampled_at < timedelta(seconds=10)


def test_overrides_are_grouped_by_query(prometheus: Prometheus) -> None:
    query = 'sum(voice_active_sessions{vertical="healthcare"})'
    a = SessionSource("voice/a", "voice", "a", query)
    b = SessionSource("voice/b", "voice", "b", query)
    observations, adapter = observe(prometheus.url, a, b)
    assert _judged(observations[a.key]) == _judged(observations[b.key]) == (157.0, "Known")
    assert len(adapter.history) == 1


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("scalar(sum(voice_active_sessions))", (187.0, "Known")),
        ('sum(voice_active_sessions{vertical="none"})', (None, "NoData")),
        ("voice_active_sessions", (None, "MultipleSeries")),
        ("sum(voice_active_sessions", (None, "QueryError")),
        ("-sum(voice_active_sessions)", (None, "InvalidValue")),
        ("sum(voice_active_sessions) / 0 - sum(voice_active_sessions) / 0", (None, "InvalidValue")),
    ],
)
def test_override_result_shapes(
    prometheus: Prometheus, query: str, expected: tuple[float | None, str]
) -> None:
    source = SessionSource("voice/x", "voice", "x", query)
    assert _judged(observe(prometheus.url, source)[0][source.key]) == expected


def test_nan_from_the_pods_is_invalid_and_keeps_the_floor(
    exporter: SessionExporter, prometheus: Prometheus
) -> None:
    exporter.set("voice", "sales", "sales-agent-a", math.nan)
    observation = wait_until(
        lambda: (
            (o := observe(prometheus.url, SALES)[0][SALES.key]).sessions is not None
            and math.isnan(o.sessions)
            and o
        ),
        timeout=20,
        what="NaN scraped",
    )
    vcap = VoiceCapacity.model_validate(capacity_body())
    now = datetime.now(UTC)
    before = plan(vcap, Observation(sessions=1400, sampled_at=now), now)
    after = plan(vcap, observation, now + timedelta(seconds=15), before.memory)
    assert after.sessions_state == "InvalidValue" and after.floor == before.floor == 10


def test_scrape_stopping_makes_sessions_unknown(
    exporter: SessionExporter, prometheus: Prometheus
) -> None:
    exporter.set("voice", "sales", "sales-agent-a", 30)
    exporter.clear()  # the pods' series vanish: Prometheus marks them stale at the next scrape
    wait_until(
        lambda: _judged(observe(prometheus.url, SALES)[0][SALES.key]) == (None, "NoData"),
        timeout=20,
        what="stale series dropped",
    )


def test_unreachable_prometheus(prometheus: Prometheus) -> None:
    started = time.monotonic()
    observations, adapter = observe(f"http://127.0.0.1:{free_port()}", HEALTHCARE, SALES)
    assert {o.failure for o in observations.values()} == {"PrometheusUnreachable"}
    assert time.monotonic() - started < 3.5
    assert adapter.history[0].outcome == "PrometheusUnreachable"


def test_hanging_prometheus_times_out(prometheus: Prometheus) -> None:
    with silent_listener() as url:
        started = time.monotonic()
        observations, _ = observe(url, HEALTHCARE, timeout=0.5)
        elapsed = time.monotonic() - started
    assert observations[HEALTHCARE.key].failure == "PrometheusUnreachable"
    assert elapsed < 2.0


@pytest.mark.parametrize(
    ("status", "state"),
    [(503, "PrometheusUnreachable"), (500, "PrometheusUnreachable"), (400, "QueryError")],
)
def test_http_errors(prometheus: Prometheus, status: int, state: str) -> None:
    with answering(status, b"nope") as url:
        observations, _ = observe(url, HEALTHCARE)
    assert observations[HEALTHCARE.key].failure == state


def test_a_body_that_is_not_prometheus_json(prometheus: Prometheus) -> None:
    with answering(200, b"<html>proxy login</html>") as url:
        observations, _ = observe(url, HEALTHCARE)
    assert observations[HEALTHCARE.key].failure == "QueryError"
