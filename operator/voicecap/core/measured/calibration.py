"""Declared against measured: the verdict (Matches within 10 %, Overstated, Understated,
InsufficientData) and the number a plan counts with (perPodFrom / tokensFrom: Declared or
Measured; Measured stays within half and twice the declared value, and falls back to it while
nothing is measured)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from voicecap.core.measured.knee import PerPodEstimate
from voicecap.core.measured.tokens import TokenEstimate
from voicecap.core.numbers import num

Verdict = Literal["Matches", "Overstated", "Understated", "InsufficientData"]
Source = Literal["Declared", "Measured"]
TOLERANCE = 0.1  # within 10 % of each other: Matches
BOUND = 2.0  # Measured plans within [declared / 2, declared x 2]


@dataclass(frozen=True)
class Calibration:
    """What the last calibration refresh measured for one VoiceCapacity (None: not asked)."""

    per_pod: PerPodEstimate | None = None
    tokens: TokenEstimate | None = None
    computed_at: datetime | None = field(default=None, compare=False)


def verdict(declared: float, measured: float | None) -> Verdict:
    """Overstated when the declared value is more than 10 % above the measured one, Understated
    when more than 10 % below, Matches otherwise; InsufficientData without a measurement."""
    if measured is None:
        return "InsufficientData"
    if declared > measured * (1 + TOLERANCE):
        return "Overstated"
    if declared < measured * (1 - TOLERANCE):
        return "Understated"
    return "Matches"


@dataclass(frozen=True)
class Counted:
    """The number a plan counts with, and why."""

    value: int
    source: Source
    reason: str | None  # None: declared, as always (nothing to say)


def counted(
    name: str, declared: int, measured: float | None, source: Source, *, round_up: bool
) -> Counted:
    """`declared` unless `source` is Measured and a measurement exists; then the measurement
    (rounded down for a capacity, up for a cost), within [declared / 2, declared x 2]."""
    if source == "Declared":
        return Counted(declared, "Declared", None)
    if measured is None:
        return Counted(declared, "Declared", f"{name} {declared} as declared: nothing measured yet")
    rounded = math.ceil(measured) if round_up else math.floor(measured)
    low, high = max(1, math.ceil(declared / BOUND)), math.floor(declared * BOUND)
    value = min(max(rounded, low), high)
    bounded = "" if value == rounded else f", held within {low}-{high} of the declared {declared}"
    return Counted(
        value,
        "Measured",
        f"{name} {value} as measured ({num(round(measured, 1))}{bounded}; declared {declared})",
    )
