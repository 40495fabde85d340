"""What is true of a vertical, apart from what its VoiceCapacity declares (issue: measured inputs).

- Each pod has a true capacity: the calls at which its p95 time to first audio reaches the 800ms
  target. Latency follows a processor-sharing queue, base / (1 - rho) with rho = (1 - base /
  target) x load / capacity: 320ms with one call, 800ms at capacity, past 1.5s (callers hang up)
  at 1.25x it. Past its true capacity a pod does not refuse calls: it answers slowly.
- A prompt change may lower the true capacity at an hour of the measured day.
- Each call-minute uses a true number of model tokens; the provider answers 429 (the call fails
  mid-way) when the calls in progress would use more than its cap a minute.

A trace without a Truth runs the benchmark's older yardstick (the declaration is the truth, the
gateway admits ready pods x perPod, nobody measures latency), so its figures do not move.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

BASE_SECONDS = 0.32  # time to first audio with one call on the pod
TARGET_SECONDS = 0.8  # the p95 target a pod is full at
HANG_UP_SECONDS = 1.5  # callers hang up when the first answer takes longer


@dataclass(frozen=True)
class Truth:
    per_pod: float  # calls at which a pod's p95 latency reaches TARGET_SECONDS
    tokens_per_minute: float  # tokens one call-minute really uses
    tpm_cap: float | None = None  # the provider's tokens-per-minute cap for this vertical
    drop_to: float | None = None  # the true capacity after a prompt change...
    drop_hour: float | None = None  # ...from this local hour of the measured day
    # History served at most this many calls (the old ceiling); refused calls counted or not.
    history_ceiling: float | None = None
    refusals_counted: bool = True

    def capacity_at(self, local_hour: float | None) -> float:
        """The true calls per pod at this local hour of the measured day (None: before it)."""
        dropped = (
            self.drop_to is not None
            and self.drop_hour is not None
            and local_hour is not None
            and local_hour >= self.drop_hour
        )
        return self.drop_to if dropped and self.drop_to is not None else self.per_pod

    @staticmethod
    def declared(spec: Any) -> Truth:
        """The declaration taken as the truth (a trace without one, run with measured inputs)."""
        model = spec.model
        return Truth(
            per_pod=float(spec.sessions.per_pod),
            tokens_per_minute=float(model.tokens_per_session_minute) if model else 0.0,
        )


def latency(load: float, capacity: float) -> float:
    """The p95 time to first audio of a pod carrying `load` calls (see the module docstring)."""
    if load <= 0:
        return BASE_SECONDS
    rho = (1 - BASE_SECONDS / TARGET_SECONDS) * load / capacity
    return BASE_SECONDS / (1 - rho) if rho < 0.95 else BASE_SECONDS / 0.05


def load_at(latency_seconds: float, capacity: float) -> float:
    """The calls per pod at which latency() gives `latency_seconds` (its inverse)."""
    rho = 1 - BASE_SECONDS / latency_seconds
    return math.floor(rho / (1 - BASE_SECONDS / TARGET_SECONDS) * capacity)
