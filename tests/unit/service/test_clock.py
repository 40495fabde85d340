"""service/clock.py: the operator's timeline, wall-clock or compressed, and samples on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from voicecap.service.clock import Clock


def test_a_shifted_clock_keeps_the_real_age_of_samples() -> None:
    start = datetime(2026, 11, 23, 13, 48, tzinfo=UTC)
    clock = Clock(start, speed=60)
    assert abs((clock.now() - start).total_seconds()) < 60
    sampled = clock.sampled(datetime.now(UTC) - timedelta(seconds=5))
    assert sampled is not None
    assert 4 <= (clock.now() - sampled).total_seconds() <= 6
    assert Clock().sampled(None) is None
