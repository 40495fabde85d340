"""adapters/prometheus.py: live sessions in a constant number of queries, and every shape of
answer told apart (KEDA's prometheus scaler keeps the same table): one number, none, several,
NaN, an outage, a bad query; against a scripted Prometheus on 127.0.0.1 (tests/integration reads
a real one)."""

from __future__ import annotations

import json
import math
import urllib.parse
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from support.servers import Request, scripted
from voicecap.adapters.prometheus import (
    DEFAULT_QUERY,
    FRESHNESS_QUERY,
    POD_QUERY,
    PrometheusSessions,
    QueryFailedError,
    SessionSource,
)
from voicecap.core.measured import queries

NOW = 1_795_000_000.0


def vector(*series: tuple[dict[str, str], str]) -> list[dict[str, object]]:
    return [{"metric": labels, "value": [NOW, value]} for labels, value in series]


def prometheus(
    results: dict[str, object],
) -> Callable[[Request], tuple[int, dict[str, str], bytes]]:
    """Answers each instant query with `results[query]` (a missing query: an empty vector)."""

    def answer(request: Request) -> tuple[int, dict[str, str], bytes]:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(request.path).query)["query"][0]
        result = results.get(query, [])
        kind = "scalar" if result and not isinstance(result[0], dict) else "vector"  # type: ignore[index]
        body = {"status": "success", "data": {"resultType": kind, "result": result}}
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    return answer


HEALTHCARE = SessionSource("voice/healthcare", "voice", "healthcare", "")
SALES = SessionSource("voice/sales", "voice", "sales", "")


def test_every_default_source_in_two_queries_whatever_their_number() -> None:
    results = {
        DEFAULT_QUERY: vector(({"namespace": "voice", "vertical": "healthcare"}, "512")),
        FRESHNESS_QUERY: vector(({"namespace": "voice", "vertical": "healthcare"}, str(NOW - 20))),
    }
    with scripted(prometheus(results)) as (url, asked):
        sessions = PrometheusSessions(url)
        seen = sessions.observe([HEALTHCARE, SALES])
        sessions.close()
    assert len(asked) == 2
    assert seen[HEALTHCARE.key].sessions == 512
    assert seen[HEALTHCARE.key].sampled_at == datetime.fromtimestamp(NOW - 20, tz=UTC)
    assert seen[SALES.key].failure == "NoData", "a vertical without series is unknown, not 0"


def test_latency_429s_and_refused_load_one_batched_query_each_whatever_the_sources() -> None:
    labels = {"namespace": "voice", "vertical": "healthcare"}
    watched = [
        replace(source, latency_quantile=0.95, rate_limited=True, refused=True)
        for source in (HEALTHCARE, SALES)
    ]
    results = {
        DEFAULT_QUERY: vector((labels, "300"), ({**labels, "vertical": "sales"}, "40")),
        queries.vertical_latency(0.95): vector((labels, "1.1")),
        queries.rate_limited(): vector((labels, "3")),
        queries.refused_load(): vector((labels, "NaN")),  # 0 refused / 0 calls ended
    }
    with scripted(prometheus(results)) as (url, asked):
        sessions = PrometheusSessions(url)
        seen = sessions.observe(watched)
        sessions.close()
    assert len(asked) == 5  # sessions, freshness, latency, 429s, refused load
    healthcare, sales = seen[HEALTHCARE.key], seen[SALES.key]
    assert (healthcare.sessions, healthcare.latency, healthcare.rate_limited) == (300, 1.1, 3)
    assert healthcare.refused_load is None, "NaN is unknown, never a number"
    assert (sales.sessions, sales.latency, sales.rate_limited) == (40, None, None)


def test_the_mean_call_is_one_batched_query_for_every_vertical_with_a_dial_pace() -> None:
    labels = {"namespace": "voice", "vertical": "healthcare"}
    results = {
        DEFAULT_QUERY: vector((labels, "300"), ({**labels, "vertical": "sales"}, "40")),
        queries.mean_call_seconds(timedelta(hours=1)): vector(
            (labels, "212.5"), ({**labels, "vertical": "sales"}, "NaN")
        ),
    }
    paced = [replace(source, outbound=True) for source in (HEALTHCARE, SALES)]
    with scripted(prometheus(results)) as (url, asked):
        sessions = PrometheusSessions(url)
        seen = sessions.observe(paced)
        unpaced = sessions.observe([HEALTHCARE])
        sessions.close()
    assert len(asked) == 3 + 2  # sessions, freshness, the mean call; then without a pace: 2
    assert seen[HEALTHCARE.key].mean_call_seconds == 212.5
    assert seen[SALES.key].mean_call_seconds is None  # no call ended in the hour
    assert unpaced[HEALTHCARE.key].mean_call_seconds is None


def test_custom_counters_are_asked_once_each_and_a_failure_leaves_them_unknown() -> None:
    custom = replace(HEALTHCARE, rate_limited=True, rate_limited_query="sum(openai_429_total)")
    refusing = replace(SALES, refused=True, rejected_query="sum(sip_503_total)", call_seconds=180.0)
    labels = {"namespace": "voice", "vertical": "sales"}
    results = {
        DEFAULT_QUERY: vector(({**labels, "vertical": "healthcare"}, "1"), (labels, "2")),
        queries.rate_limited("sum(openai_429_total)"): [NOW, "7"],
        queries.refused_load("sum(sip_503_total)", 180.0): vector((labels, "25")),
    }
    with scripted(prometheus(results)) as (url, asked):
        sessions = PrometheusSessions(url)
        seen = sessions.observe([custom, refusing])
        sessions.close()
    assert len(asked) == 4
    assert seen[HEALTHCARE.key].rate_limited == 7 and seen[SALES.key].refused_load == 25


@pytest.mark.parametrize(
    ("result", "sessions", "failure"),
    [
        ([NOW, "42"], 42.0, None),  # a scalar
        (vector(({}, "42")), 42.0, None),  # a one-series vector
        ([], None, "NoData"),
        (vector(({"pod": "a"}, "1"), ({"pod": "b"}, "2")), None, "MultipleSeries"),
    ],
)
def test_an_override_must_answer_one_number(
    result: object, sessions: float | None, failure: str | None
) -> None:
    query = 'sum(voice_calls{team="care"})'
    with scripted(prometheus({query: result})) as (url, _):
        observed = PrometheusSessions(url).observe([SessionSource("voice/x", "voice", "x", query)])
    assert (observed["voice/x"].sessions, observed["voice/x"].failure) == (sessions, failure)


def test_nan_is_passed_on_for_the_core_to_refuse() -> None:
    results = {DEFAULT_QUERY: vector(({"namespace": "voice", "vertical": "healthcare"}, "NaN"))}
    with scripted(prometheus(results)) as (url, _):
        seen = PrometheusSessions(url).observe([HEALTHCARE])
    value = seen[HEALTHCARE.key].sessions
    assert value is not None and math.isnan(value)


@pytest.mark.parametrize(
    ("status", "state"),
    [(503, "PrometheusUnreachable"), (400, "QueryError"), (403, "QueryError")],
)
def test_an_outage_and_a_bad_query_are_told_apart(status: int, state: str) -> None:
    answer = (status, {}, b'{"status": "error", "error": "parse error at char 5"}')
    with scripted(lambda request: answer) as (url, _):
        sessions = PrometheusSessions(url)
        seen = sessions.observe([HEALTHCARE])
    assert seen[HEALTHCARE.key].failure == state
    assert [record.outcome for record in sessions.history] == [state]


def test_a_refused_connection_is_unreachable_and_pod_sessions_raise() -> None:
    sessions = PrometheusSessions("http://127.0.0.1:9")
    assert sessions.observe([HEALTHCARE])[HEALTHCARE.key].failure == "PrometheusUnreachable"
    with pytest.raises(QueryFailedError) as raised:
        sessions.pod_sessions()
    assert raised.value.state == "PrometheusUnreachable"


def test_live_calls_per_pod_skip_what_is_not_a_count() -> None:
    results = {
        POD_QUERY: vector(
            ({"namespace": "voice", "pod": "a"}, "12"),
            ({"namespace": "voice", "pod": "b"}, "NaN"),
            ({"namespace": "voice", "pod": "c"}, "-1"),
        )
    }
    with scripted(prometheus(results)) as (url, _):
        assert PrometheusSessions(url).pod_sessions() == {("voice", "a"): 12.0}
