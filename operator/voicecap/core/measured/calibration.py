"""Declared against measured: the verdict (Matches within 10 %, Overstated, Understated,
InsufficientData) and the number a plan counts with (perPodFrom / tokensFrom: Declared or
Measured; Measured stays within half and twice the declared value, falls back to it while
nothing is measured, and keeps it while the measurement matches it: an estimate's noise does
not move the plan)."""

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
# An extrapolated knee is less certain (its trend is followed up to 2x past the loads seen):
# within 20 % of the declaration it matches. Measured on the benchmark's after-holiday trace: a
# quiet week's samples (at most 60 calls a pod) extrapolate pods full at 100 to 113.
EXTRAPOLATED_TOLERANCE = 0.2
BOUND = 2.0  # Measured plans within [declared / 2, declared x 2]


@dataclass(frozen=True)
class Calibration:
    """What the last calibration refresh measured for one VoiceCapacity (None: not asked)."""

    per_pod: PerPodEstimate | None = None
    tokens: TokenEstimate | None = None
    computed_at: datetime | None = field(default=None, compare=False)


def verdict(declared: float, measured: float | None, tolerance: float = TOLERANCE) -> Verdict:
    """Overstated when the declared value is more than `tolerance` (10 %) above the measured
    one, Understated when more than that below, Matches otherwise; InsufficientData without a
    measurement."""
    if measured is None:
        return "InsufficientData"
    if declared > measured * (1 + tolerance):
        return "Overstated"
    if declared < measured * (1 - tolerance):
        return "Understated"
    return "Matches"


def tolerance_of(estimate: PerPodEstimate | None) -> float:
    """How far from the declaration a per-pod estimate still matches it."""
    extrapolated = estimate is not None and estimate.method == "Extrapolated"
    return EXTRAPOLATED_TOLERANCE if extrapolated else TOLERANCE


def per_pod_verdict(declared: int, estimate: PerPodEstimate | None) -> Verdict:
    """sessions.perPod against a per-pod estimate, at the estimate's tolerance."""
    measured = estimate.measured if estimate is not None else None
    return verdict(declared, measured, tolerance_of(estimate))


@dataclass(frozen=True)
class Counted:
    """The number a plan counts with, and why."""

    value: int
    source: Source
    reason: str | None  # None: declared, as always (nothing to say)


def counted(
    name: str,
    declared: int,
    measured: float | None,
    source: Source,
    *,
    round_up: bool,
    tolerance: float = TOLERANCE,
) -> Counted:
    """`declared` unless `source` is Measured and a measurement exists; then the measurement
    (rounded down for a capacity, up for a cost), within [declared / 2, declared x 2]."""
    if source == "Declared":
        return Counted(declared, "Declared", None)
    if measured is None:
        return Counted(declared, "Declared", f"{name} {declared} as declared: nothing measured yet")
    if verdict(declared, measured, tolerance) == "Matches":
        return Counted(
            declared,
            "Declared",
            f"{name} {declared} as declared: the measured {num(round(measured, 1))} matches it",
        )
    rounded = math.ceil(measured) if round_up else math.floor(measured)
    low, high = max(1, math.ceil(declared / BOUND)), math.floor(declared * BOUND)
    value = min(max(rounded, low), high)
    bounded = "" if value == rounded else f", held within {low}-{high} of the declared {declared}"
    return Counted(
        value,
        "Measured",
        f"{name} {value} as measured ({num(round(measured, 1))}{bounded}; declared {declared})",
    )
