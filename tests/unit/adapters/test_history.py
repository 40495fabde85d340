"""adapters/history.py: each history question in one query: window quantiles (posted as a form,
labelled by span), the burst factor's two numbers, raw series in chunks of 10,000 points, the
slowest scale-ups; against a scripted Prometheus (tests/integration asks a real one)."""

from __future__ import annotations

import json
import urllib.parse
from datetime import UTC, datetime, timedelta

import pytest

from support.servers import Request, scripted
from voicecap.adapters.history import PrometheusHistory
from voicecap.adapters.prometheus import QueryFailedError
from voicecap.core.peaks.shapes import SINGLE, Span

AT = datetime(2026, 11, 23, 14, tzinfo=UTC)
SPANS = [Span("1.0", AT - timedelta(weeks=1), AT - timedelta(weeks=1, minutes=-15))]


def ok(result: object, kind: str = "vector") -> tuple[int, dict[str, str], bytes]:
    body = {"status": "success", "data": {"resultType": kind, "result": result}}
    return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()


def form(request: Request) -> str:
    return urllib.parse.parse_qs(request.body.decode())["query"][0]


def test_window_quantiles_are_one_posted_query_labelled_by_span() -> None:
    result = [
        {"metric": {"namespace": "voice", "vertical": "healthcare", "voicecap_window": "1.0"},
         "value": [AT.timestamp(), "410"]},
    ]  # fmt: skip
    with scripted(lambda request: ok(result)) as (url, asked):
        found = PrometheusHistory(url).quantiles("sum(x)", 0.99, SPANS, batched=True)
    assert found == {("voice", "healthcare"): {"1.0": 410.0}}
    (request,) = asked
    assert request.method == "POST" and request.path == "/api/v1/query"
    query = form(request)
    assert query.startswith("label_replace(quantile_over_time(0.99, (sum(x))[900s:60s] @ ")
    assert '"voicecap_window", "1.0"' in query


def test_week_flags_are_one_posted_query_by_week_and_stat() -> None:
    result = [
        {"metric": {"namespace": "voice", "vertical": "healthcare", "voicecap_window": "1",
                    "voicecap_stat": "offered"}, "value": [AT.timestamp(), "0.4"]},
        {"metric": {"namespace": "voice", "vertical": "healthcare", "voicecap_window": "2",
                    "voicecap_stat": "censored"}, "value": [AT.timestamp(), "0.97"]},
    ]  # fmt: skip
    with scripted(lambda request: ok(result)) as (url, asked):
        found = PrometheusHistory(url).week_flags("rate(r[5m])", "s / l", 0.99, SPANS)
    assert found == {("voice", "healthcare"): {"offered": {"1": 0.4}, "censored": {"2": 0.97}}}
    (request,) = asked
    query = form(request)
    assert query.count("max_over_time((rate(r[5m]))[") == len(SPANS)
    assert query.count("quantile_over_time(0.99, (s / l)[") == len(SPANS)
    assert '"voicecap_stat", "censored"' in query


def test_no_weeks_is_no_question() -> None:
    with scripted(lambda request: ok([])) as (url, asked):
        assert PrometheusHistory(url).week_flags("r", "s", 0.99, []) == {}
    assert asked == []


def test_an_override_that_answers_a_scalar_is_asked_again_as_a_vector() -> None:
    def answer(request: Request) -> tuple[int, dict[str, str], bytes]:
        if "vector(" not in form(request):
            error = {
                "status": "error",
                "error": "ranges only allowed for vector selectors, got scalar",
            }
            return 400, {}, json.dumps(error).encode()
        return ok([{"metric": {"voicecap_window": "1.0"}, "value": [0, "7"]}])

    with scripted(answer) as (url, asked):
        found = PrometheusHistory(url).quantiles("42", 0.99, SPANS, batched=False)
    assert found == {SINGLE: {"1.0": 7.0}} and len(asked) == 2


def test_burst_is_the_largest_and_the_median_of_28_days() -> None:
    result = [
        {"metric": {"namespace": "voice", "vertical": "sales", "voicecap_stat": "max"}, "value": [0, "900"]},
        {"metric": {"namespace": "voice", "vertical": "sales", "voicecap_stat": "median"}, "value": [0, "180"]},
    ]  # fmt: skip
    with scripted(lambda request: ok(result)) as (url, asked):
        found = PrometheusHistory(url).burst("sum(x)", AT, batched=True)
    assert found == {("voice", "sales"): (900.0, 180.0)}
    assert "[2419200s:300s]" in form(asked[0])  # 28 days in 5-minute steps


def test_series_come_in_chunks_of_ten_thousand_points() -> None:
    def answer(request: Request) -> tuple[int, dict[str, str], bytes]:
        params = urllib.parse.parse_qs(urllib.parse.urlsplit(request.path).query)
        start = float(params["start"][0])
        return ok([{"metric": {}, "values": [[start, "3"]]}], "matrix")

    with scripted(answer) as (url, asked):
        found = PrometheusHistory(url).series(
            "sum(x)", AT, AT + timedelta(minutes=15_000), step_seconds=60, batched=False
        )
    assert len(asked) == 2  # 15,001 points
    assert [moment for moment, _ in found[SINGLE]] == [AT, AT + timedelta(minutes=10_000)]


def test_an_override_with_several_series_is_refused() -> None:
    matrix = [
        {"metric": {"pod": "a"}, "values": [[0, "1"]]},
        {"metric": {"pod": "b"}, "values": [[0, "1"]]},
    ]
    with (
        scripted(lambda request: ok(matrix, "matrix")) as (url, _),
        pytest.raises(QueryFailedError, match="more than one series"),
    ):
        PrometheusHistory(url).series("x", AT, AT + timedelta(minutes=5), batched=False)


def test_the_slowest_scale_up_per_vertical() -> None:
    result = [{"metric": {"namespace": "voice", "vertical": "sales"}, "value": [0, "780"]}]
    with scripted(lambda request: ok(result)) as (url, asked):
        found = PrometheusHistory(url).slowest_scale_ups(AT)
    assert found == {("voice", "sales"): 780.0}
    assert "voicecap_scale_up_seconds[2419200s]" in urllib.parse.unquote(asked[0].path)
