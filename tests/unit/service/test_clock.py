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


def test_clock_origin_puts_two_processes_on_one_timeline() -> None:
    import time  # noqa: PLC0415
    from datetime import UTC, datetime, timedelta  # noqa: PLC0415

    from voicecap.service.clock import Clock  # noqa: PLC0415

    start = datetime(2026, 11, 23, 4, tzinfo=UTC)
    origin = time.time() - 10  # the timeline began 10 real seconds ago, at 60x
    now = Clock(start, 60, origin).now()
    assert start + timedelta(seconds=599) <= now <= start + timedelta(seconds=660)
