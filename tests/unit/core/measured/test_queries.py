"""core/measured/queries.py: every query is one PromQL expression, batched by (namespace,
vertical) where it is the default, with windows of 5m or more."""

from __future__ import annotations

import math
from datetime import timedelta

import promql_parser
import pytest

from voicecap.core.measured import queries

SESSIONS = "sum by (namespace, vertical) (voice_active_sessions)"
ALL = [
    queries.vertical_latency(0.95),
    queries.vertical_latency(0.95, "my_pod_p95"),
    queries.rate_limited(),
    queries.rate_limited("sum(openai_429_total)"),
    queries.latency_by_load(0.95, timedelta(days=3), timedelta(minutes=5)),
    queries.tokens_used(timedelta(days=3)),
    queries.call_minutes(timedelta(days=3)),
    queries.mean_call_seconds(timedelta(hours=1)),
    queries.offered(SESSIONS, batched=True, declared_call_seconds=240.0),
    queries.offered(SESSIONS, batched=True, declared_call_seconds=None),
    queries.served_share_of_limit(SESSIONS),
]


@pytest.mark.parametrize("query", ALL)
def test_each_is_one_promql_expression(query: str) -> None:
    promql_parser.parse(query)
    assert "[1m]" not in query and "[2m]" not in query  # rate windows of 5m or more


def test_defaults_are_batched_by_vertical() -> None:
    assert "by (namespace, vertical" in queries.vertical_latency(0.95)
    assert queries.rate_limited() == (
        "sum by (namespace, vertical) (increase(voice_model_rate_limited_total[5m]))"
    )
    assert queries.offered("sum(x)", batched=False, declared_call_seconds=240.0) == "(sum(x))"


def test_load_bins_are_about_five_percent_wide() -> None:
    assert queries.bin_load("92") / queries.bin_load("91") == pytest.approx(math.exp(0.05))
