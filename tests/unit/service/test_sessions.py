"""SessionCache: one batched Prometheus observation per cycle, and batched misses in between."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime

import pytest

from support.objects import vertical_body
from voicecap.adapters.metrics import OperatorMetrics
from voicecap.adapters.prometheus import SessionSource
from voicecap.api.models import VoiceCapacity
from voicecap.core.planner.observation import Observation
from voicecap.service.clock import Clock
from voicecap.service.sessions import SessionCache, session_source


class CountingPrometheus:
    """Answers every source with its index as the session count, slowly, and counts calls."""

    def __init__(self, delay: float = 0.05) -> None:
        self.calls: list[list[str]] = []
        self.history: list = []
        self._delay = delay
        self._mutex = threading.Lock()

    def observe(self, sources):
        sources = list(sources)
        with self._mutex:
            self.calls.append([s.key for s in sources])
        time.sleep(self._delay)
        now = datetime.now(UTC)
        return {s.key: Observation(sessions=float(s.vertical), sampled_at=now) for s in sources}


def source(index: int) -> SessionSource:
    return SessionSource(key=f"ns/v{index}", namespace="ns", vertical=str(index))


def cache(prometheus: CountingPrometheus) -> SessionCache:
    return SessionCache(prometheus, Clock(None, 1.0), OperatorMetrics())  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_a_storm_of_misses_costs_a_few_queries_not_one_each() -> None:
    prometheus = CountingPrometheus()
    sessions = cache(prometheus)
    answers = await asyncio.gather(*(sessions.observation(source(i)) for i in range(500)))
    assert [a.sessions for a in answers] == [float(i) for i in range(500)]
    assert len(prometheus.calls) <= 3, f"{len(prometheus.calls)} observations for one storm"
    assert sorted(key for call in prometheus.calls for key in call) == sorted(
        source(i).key for i in range(500)
    ), "every source observed exactly once"


@pytest.mark.asyncio
async def test_a_refresh_answers_later_lookups_without_a_query() -> None:
    prometheus = CountingPrometheus(delay=0)
    sessions = cache(prometheus)
    await sessions.refresh([source(i) for i in range(10)])
    assert (await sessions.observation(source(7))).sessions == 7.0
    assert len(prometheus.calls) == 1
    missing = await sessions.observation(source(11))  # an object newer than the cycle
    assert missing.sessions == 11.0
    assert prometheus.calls[-1] == [source(11).key]


class FlakyPrometheus:
    """Answers 120 sessions, or fails as unreachable while `down`."""

    def __init__(self) -> None:
        self.down = False
        self.history: list = []

    def observe(self, sources):
        if self.down:
            return {
                s.key: Observation(failure="PrometheusUnreachable", detail="connection refused")
                for s in sources
            }
        now = datetime.now(UTC)
        return {s.key: Observation(sessions=120.0, sampled_at=now) for s in sources}


@pytest.mark.asyncio
async def test_failures_younger_than_the_grace_keep_the_last_answer(monkeypatch) -> None:
    prometheus = FlakyPrometheus()
    sessions = SessionCache(prometheus, Clock(None, 1.0), OperatorMetrics(), grace=30)  # type: ignore[arg-type]
    clock = [1000.0]
    monkeypatch.setattr("voicecap.service.sessions.time.monotonic", lambda: clock[0])
    sources = [source(1)]
    await sessions.refresh(sources)
    known = await sessions.observation(source(1))
    prometheus.down = True
    for seconds in (0, 15, 29.9):  # a blip: the last answer, with its own sample time
        clock[0] = 1000.0 + seconds
        await sessions.refresh(sources)
        assert await sessions.observation(source(1)) == known
    clock[0] = 1030.0  # an outage
    await sessions.refresh(sources)
    assert (await sessions.observation(source(1))).failure == "PrometheusUnreachable"
    prometheus.down = False
    await sessions.refresh(sources)
    prometheus.down = True
    clock[0] = 1100.0
    await sessions.refresh(sources)  # a new blip after a good answer is bridged again
    assert (await sessions.observation(source(1))).failure is None


@pytest.mark.asyncio
async def test_no_data_is_an_answer_not_a_blip() -> None:
    prometheus = FlakyPrometheus()
    sessions = cache(prometheus)  # type: ignore[arg-type]
    await sessions.refresh([source(1)])
    prometheus.observe = lambda sources: {s.key: Observation(failure="NoData") for s in sources}  # type: ignore[method-assign]
    await sessions.refresh([source(1)])
    assert (await sessions.observation(source(1))).failure == "NoData"


def test_a_source_asks_only_for_what_its_spec_declares() -> None:
    plain = session_source(capacity_object(vertical_body()))
    assert (plain.latency_quantile, plain.rate_limited, plain.refused) == (None, False, False)
    measured = session_source(
        capacity_object(
            vertical_body(
                latency={"target": "800ms", "quantile": 0.9},
                model={"tokensPerSessionMinute": 6000, "reservedTPM": 1_000_000, "budgetRef": "b",
                       "rateLimitedQuery": "sum(x_429_total)"},
                sessions={"perPod": 200, "blockingTarget": 0.01, "callDuration": "3m",
                          "rejectedQuery": "sum(sip_503_total)"},
            )
        )
    )  # fmt: skip
    assert (measured.latency_quantile, measured.rate_limited) == (0.9, True)
    assert measured.rate_limited_query == "sum(x_429_total)"
    assert (measured.refused, measured.rejected_query, measured.call_seconds) == (
        True,
        "sum(sip_503_total)",
        180.0,
    )


def capacity_object(body: dict) -> VoiceCapacity:
    return VoiceCapacity.model_validate(body)
