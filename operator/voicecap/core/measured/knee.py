"""Per-pod capacity measured from latency: the calls on a pod at which its time to first audio
(a quantile of it) reaches the target.

The samples arrive binned by load (calls on a pod, bins about 5 % wide) with, per bin, the median
of the pods' latency quantile and the number of 5-minute samples behind it; service/calibration.py
asks Prometheus for them in one query for the whole fleet.

    Observed      latency reaches the target inside the loads seen: the load where a weighted
                  isotonic (never decreasing) fit of latency over load crosses the target,
                  interpolated between the two bins around the crossing. No latency model is
                  assumed: only that more calls on a pod never make it faster.
    Extrapolated  it never does, but it rises with load: 1 / latency against load is fitted as a
                  line (a processor-sharing queue's response time grows as 1 / (1 - load /
                  capacity)) over the upper half of the loads seen, and the crossing is accepted
                  at most EXTRAPOLATION_LIMIT past the highest load seen.
    none          too few samples, too narrow a load range, or no crossing within reach: the
                  estimate says which (InsufficientData), and no number is guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from voicecap.core.numbers import num

MIN_SAMPLES = 288  # a day of 5-minute samples
MIN_SPAN = 1.5  # the loads seen must span at least 1.5x (highest / lowest)
MIN_CROSSING_SAMPLES = 12  # an hour of samples at or past the crossing
EXTRAPOLATION_LIMIT = 2.0  # an extrapolated knee at most 2x the highest load seen

Method = Literal["Observed", "Extrapolated"]


@dataclass(frozen=True)
class LoadBin:
    """Calls on a pod (the bin's middle), the median latency quantile there, and its samples."""

    load: float
    latency: float  # seconds
    samples: int


@dataclass(frozen=True)
class PerPodEstimate:
    """The calls per pod at which latency reaches the target, with its evidence."""

    measured: float | None  # None: not measurable from these samples (`why` says why)
    method: Method | None
    samples: int
    load_from: float | None  # the loads the samples cover
    load_to: float | None
    why: str  # the evidence, or why there is no estimate


def estimate_per_pod(bins: Sequence[LoadBin], *, target: float) -> PerPodEstimate:
    """The knee of latency over load (see the module docstring for the method)."""
    usable = sorted(
        (b for b in bins if b.samples > 0 and b.load > 0 and b.latency > 0),
        key=lambda b: b.load,
    )
    samples = sum(b.samples for b in usable)
    if not usable:
        return PerPodEstimate(None, None, 0, None, None, "no latency samples")
    low, high = usable[0].load, usable[-1].load
    seen = f"{samples} samples at {num(round(low, 1))}-{num(round(high, 1))} calls per pod"
    if samples < MIN_SAMPLES:
        return _none(usable, samples, f"{seen}: too few (at least {MIN_SAMPLES})")
    fitted = isotonic([b.latency for b in usable], [b.samples for b in usable])
    crossing = next((i for i, value in enumerate(fitted) if value >= target), None)
    if crossing is not None:
        return _observed(usable, fitted, crossing, seen=seen, target=target)
    if high < MIN_SPAN * low:
        return _none(usable, samples, f"{seen}: too narrow a range to see a trend")
    return _extrapolated(usable, samples, seen, target)


def _observed(
    usable: list[LoadBin], fitted: list[float], crossing: int, *, seen: str, target: float
) -> PerPodEstimate:
    samples = sum(b.samples for b in usable)
    past = sum(b.samples for b in usable[crossing:])
    if crossing == 0:
        return _none(
            usable, samples, f"{seen}: latency is above target at every load seen: the knee "
            f"is below {num(round(usable[0].load, 1))} calls",
        )  # fmt: skip
    if past < MIN_CROSSING_SAMPLES:
        return _none(
            usable, samples, f"{seen}: only {past} samples at or past the target "
            f"(at least {MIN_CROSSING_SAMPLES})",
        )  # fmt: skip
    below, above = usable[crossing - 1], usable[crossing]
    rise = fitted[crossing] - fitted[crossing - 1]
    share = (target - fitted[crossing - 1]) / rise if rise > 0 else 1.0
    knee = below.load + share * (above.load - below.load)
    return PerPodEstimate(
        knee,
        "Observed",
        samples,
        usable[0].load,
        usable[-1].load,
        f"{seen}: latency reaches {num(round(target * 1000))}ms at {num(round(knee, 1))} calls",
    )


def _extrapolated(usable: list[LoadBin], samples: int, seen: str, target: float) -> PerPodEstimate:
    """1 / latency = a + b x load over the upper half of the loads seen (b < 0 when latency
    rises); it reaches 1 / target at (1 / target - a) / b."""
    middle = (usable[0].load + usable[-1].load) / 2
    upper = [b for b in usable if b.load >= middle]
    line = weighted_line(
        [b.load for b in upper], [1 / b.latency for b in upper], [b.samples for b in upper]
    )
    high = usable[-1].load
    if line is None or line[1] >= 0:
        return _none(usable, samples, f"{seen}: latency stays under target and does not rise")
    intercept, slope = line
    knee = (1 / target - intercept) / slope
    if knee > EXTRAPOLATION_LIMIT * high:
        return _none(
            usable, samples, f"{seen}: latency stays under target; its trend would reach it "
            f"at {num(round(knee, 1))} calls, past {num(EXTRAPOLATION_LIMIT)}x what was seen",
        )  # fmt: skip
    knee = max(knee, high)
    return PerPodEstimate(
        knee,
        "Extrapolated",
        samples,
        usable[0].load,
        high,
        f"{seen}: latency stays under target; 1/latency falls linearly with load and reaches "
        f"{num(round(target * 1000))}ms at {num(round(knee, 1))} calls",
    )


def _none(usable: list[LoadBin], samples: int, why: str) -> PerPodEstimate:
    return PerPodEstimate(None, None, samples, usable[0].load, usable[-1].load, why)


def isotonic(values: Sequence[float], weights: Sequence[float]) -> list[float]:
    """The weighted least-squares non-decreasing fit (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [mean, weight, count]
    for value, weight in zip(values, weights, strict=True):
        blocks.append([value, float(weight), 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean, weight_, count = blocks.pop()
            previous = blocks[-1]
            total = previous[1] + weight_
            previous[0] = (previous[0] * previous[1] + mean * weight_) / total
            previous[1] = total
            previous[2] += count
    return [mean for mean, _, count in blocks for _ in range(int(count))]


def weighted_line(
    xs: Sequence[float], ys: Sequence[float], weights: Sequence[float]
) -> tuple[float, float] | None:
    """(intercept, slope) of the weighted least-squares line; None without two distinct xs."""
    total = sum(weights)
    if total <= 0 or len(set(xs)) < 2:
        return None
    mean_x = sum(w * x for x, w in zip(xs, weights, strict=True)) / total
    mean_y = sum(w * y for y, w in zip(ys, weights, strict=True)) / total
    spread = sum(w * (x - mean_x) ** 2 for x, w in zip(xs, weights, strict=True))
    if spread <= 0:
        return None
    slope = (
        sum(w * (x - mean_x) * (y - mean_y) for x, y, w in zip(xs, ys, weights, strict=True))
        / spread
    )
    return mean_y - slope * mean_x, slope
