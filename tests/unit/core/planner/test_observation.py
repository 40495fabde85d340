"""core/planner/observation.py: the named policy that says when a session count is known:
only a finite, non-negative, fresh number; anything else is unknown, never zero."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from voicecap.core.planner.observation import Memory, Observation, judge_sessions

NOW = datetime(2026, 11, 23, 14, tzinfo=UTC)


@pytest.mark.parametrize(
    ("observation", "expected"),
    [
        (Observation(sessions=12.0, sampled_at=NOW), (12.0, "Known")),
        (Observation(sessions=0.0, sampled_at=NOW), (0.0, "Known")),
        (Observation(), (None, "NoData")),
        (Observation(sessions=math.nan), (None, "InvalidValue")),
        (Observation(sessions=math.inf), (None, "InvalidValue")),
        (Observation(sessions=-1.0), (None, "InvalidValue")),
        (Observation(sessions=12.0, sampled_at=NOW - timedelta(minutes=6)), (None, "Stale")),
        (Observation(sessions=12.0, failure="MultipleSeries"), (None, "MultipleSeries")),
        (Observation(failure="PrometheusUnreachable"), (None, "PrometheusUnreachable")),
    ],
)
def test_only_a_finite_fresh_non_negative_number_is_known(
    observation: Observation, expected: tuple[float | None, str]
) -> None:
    assert judge_sessions(observation, max_staleness_seconds=300, now=NOW) == expected


def test_a_sample_exactly_at_max_staleness_is_still_known() -> None:
    at_limit = Observation(sessions=5.0, sampled_at=NOW - timedelta(seconds=300))
    assert judge_sessions(at_limit, max_staleness_seconds=300, now=NOW) == (5.0, "Known")


def test_when_sessions_were_sampled_does_not_make_two_memories_differ() -> None:
    assert Memory(sessions=3, sessions_at=NOW) == Memory(sessions=3, sessions_at=NOW - timedelta(1))
