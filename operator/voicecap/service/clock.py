"""The operator's clock: wall-clock time, or a compressed/shifted timeline for demos and tests.

Never used in core (core takes `now` as a parameter); only the service asks it what time it is.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class Clock:
    """What time the operator thinks it is: the wall clock, or a compressed timeline starting at
    `start` (demos and tests). Not for timeouts or backoff: those use real, monotonic time."""

    def __init__(
        self, start: datetime | None = None, speed: float = 1.0, origin: float | None = None
    ) -> None:
        self._start = start
        self._speed = speed
        self._origin = time.time() if origin is None else origin

    def now(self) -> datetime:
        """Now on this timeline (UTC)."""
        real = time.time()
        if self._start is None:
            return datetime.fromtimestamp(real, tz=UTC)
        return self._start + timedelta(seconds=(real - self._origin) * self._speed)

    def sampled(self, real_sampled_at: datetime | None) -> datetime | None:
        """A sample's time on this timeline, keeping its real age (staleness is a real delay)."""
        if real_sampled_at is None or self._start is None:
            return real_sampled_at
        age = time.time() - real_sampled_at.timestamp()
        return self.now() - timedelta(seconds=age)
