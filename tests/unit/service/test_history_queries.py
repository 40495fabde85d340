"""service/history_queries.py: a shape's one query asks every slot of every week and the last
closed window, of the calls offered where the default metrics count refusals, and one more flags
each week (refusals counted, served at its limit); a failure is named (unreachable or a query error) and kept for the CLI."""

from __future__ import annotations

from support.objects import at, peak
from support.world import FixedHistory
from voicecap.adapters.metrics import OperatorMetrics
from voicecap.adapters.prometheus import QueryFailedError
from voicecap.core.peaks.shapes import CLOSED, Shape
from voicecap.service.history_queries import HistoryQueries

MONDAY = peak()
SHAPE = Shape("0 9 * * MON", "America/New_York", MONDAY.duration, 0.99, "")
TUESDAY = at("2026-11-10T12:00:00-05:00")


def test_one_query_for_the_weeks_and_the_last_closed_window() -> None:
    source = FixedHistory()
    source.weekly = {"healthcare": 300.0}
    result = HistoryQueries(source, OperatorMetrics()).shape(SHAPE, MONDAY, 3, TUESDAY)
    assert source.queries["quantiles"] == 1
    assert result.window_start == at("2026-11-16T09:00:00-05:00")
    assert result.closed_start == at("2026-11-09T09:00:00-05:00")
    labels = set(result.values[("voice", "healthcare")])
    assert CLOSED in labels and {"1.0", "2.0", "3.0"} <= labels and result.failure is None


def test_the_default_metrics_ask_for_calls_offered_and_flag_each_week() -> None:
    source = FixedHistory()
    source.weekly = {"healthcare": 300.0}
    source.flags = {"healthcare": {"censored": {"1": 0.97}}}
    result = HistoryQueries(source, OperatorMetrics()).shape(SHAPE, MONDAY, 3, TUESDAY)
    (asked,) = source.asked
    assert "voice_calls_rejected_total" in asked and "voice_call_duration_seconds" in asked
    assert source.queries["flags"] == 1
    assert result.flags == {("voice", "healthcare"): {"censored": {"1": 0.97}}}


def test_an_override_query_is_asked_as_it_is_and_not_flagged() -> None:
    source = FixedHistory()
    override = Shape("0 9 * * MON", "America/New_York", MONDAY.duration, 0.99, "sum(calls)")
    HistoryQueries(source, OperatorMetrics()).shape(override, MONDAY, 3, TUESDAY)
    assert source.asked == ["sum(calls)"] and "flags" not in source.queries


def test_failures_are_named_and_kept_for_the_cli() -> None:
    source = FixedHistory()
    queries = HistoryQueries(source, OperatorMetrics())
    source.failure = QueryFailedError("PrometheusUnreachable", "connection refused")
    assert queries.shape(SHAPE, MONDAY, 3, TUESDAY).failure == "PrometheusUnreachable"
    source.failure = QueryFailedError("QueryError", "parse error")
    assert queries.shape(SHAPE, MONDAY, 3, TUESDAY).failure == "QueryError"
    assert queries.burst("", TUESDAY).failed
    assert queries.failures == ["connection refused", "parse error", "parse error"]
