"""The voice world of a trace with a Truth (callsim/truth.py): what happens to an admitted call,
and what a measuring operator can see of it.

- The gateway spreads calls evenly over the ready pods (least-loaded first), so every pod carries
  busy / ready calls, at most the calls the gateway puts on a pod (the rest are on pods draining
  after a scale-down, at that load too), and answers at latency(load, the true capacity now).
- An arriving call the gateway admits is still lost when the first answer would take longer than
  HANG_UP_SECONDS (the caller hangs up) or when the calls in progress would use more tokens a
  minute than the provider's cap (it answers 429 and the call fails).
- Call-seconds and the call-seconds spent over the latency target are integrated between events.
- What Prometheus would show: the vertical's p95 METRIC_LAG_SECONDS ago, and the 429s of the
  last 5 minutes.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from callsim.truth import HANG_UP_SECONDS, TARGET_SECONDS, Truth, latency

RATE_LIMIT_WINDOW_SECONDS = 300.0


@dataclass
class Voice:
    truth: Truth
    start: datetime
    zone: str
    lag: float  # seconds Prometheus is behind
    hung_up: int = 0
    rate_limited: int = 0
    call_seconds: float = 0.0
    over_target_seconds: float = 0.0
    _last: tuple[float, float] = (0.0, 0.0)  # (moment, busy calls) since the last event
    _latencies: deque[tuple[float, float]] = field(default_factory=lambda: deque([(0.0, 0.0)]))
    _refusals: deque[float] = field(default_factory=deque)

    def capacity(self, now: float) -> float:
        """The true calls per pod at `now` (seconds into the trace)."""
        wall = (self.start + timedelta(seconds=now)).astimezone(ZoneInfo(self.zone))
        return self.truth.capacity_at(wall.hour + wall.minute / 60)

    def latency(self, now: float, busy: int, pods: int, most: float) -> float:
        """The p95 of `busy` calls spread over `pods`, at most `most` calls on a pod."""
        if not busy:
            return 0.0
        load = min(busy / pods, most) if pods > 0 else most
        return latency(load, self.capacity(now))

    def account(self, now: float, busy: int, pods: int, most: float) -> None:
        """The calls up to `now` at the last state; `busy` calls on `pods` pods from now on."""
        since, was_busy = self._last
        if now > since and was_busy:
            seconds = (now - since) * was_busy
            self.call_seconds += seconds
            if round(self._latencies[-1][1], 9) > TARGET_SECONDS:  # a full pod is at target
                self.over_target_seconds += seconds
        self._last = (now, busy)
        self._latencies.append((now, self.latency(now, busy, pods, most)))

    def lost(self, now: float, busy: int, pods: int, most: float) -> bool:
        """Whether an admitted call is lost at once: a hang-up, or a 429 from the provider."""
        if round(self.latency(now, busy + 1, pods, most), 9) > HANG_UP_SECONDS:
            self.hung_up += 1
            return True
        cap = self.truth.tpm_cap
        if cap is not None and (busy + 1) * self.truth.tokens_per_minute > cap:
            self.rate_limited += 1
            self._refusals.append(now)
            return True
        return False

    def seen_latency(self, now: float) -> float | None:
        """The vertical's p95 as Prometheus shows it (None while no call was answered)."""
        moment = now - self.lag
        while len(self._latencies) > 1 and self._latencies[1][0] <= moment:
            self._latencies.popleft()
        value = self._latencies[0][1]
        return value or None

    def seen_rate_limited(self, now: float) -> float:
        """The provider's 429s in the last 5 minutes, as its counter's increase shows them."""
        while self._refusals and self._refusals[0] <= now - RATE_LIMIT_WINDOW_SECONDS:
            self._refusals.popleft()
        return float(len(self._refusals))
