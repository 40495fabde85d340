"""core/measured/knee.py: the calls per pod at which latency reaches the target, observed where
the samples reach it, extrapolated (bounded) where they only approach it, and no number where the
evidence is too thin."""

from __future__ import annotations

import pytest

from voicecap.core.measured.knee import (
    LoadBin,
    estimate_per_pod,
    isotonic,
    weighted_line,
)

TARGET = 0.8


def processor_sharing(load: float, capacity: float, base: float = 0.32) -> float:
    """Latency that reaches TARGET at `capacity` calls: base / (1 - (1 - base / TARGET) x load /
    capacity), a processor-sharing queue's shape."""
    rho = (1 - base / TARGET) * load / capacity
    return base / (1 - rho) if rho < 0.99 else 30.0


def bins(capacity: float, loads: range, samples: int = 40) -> list[LoadBin]:
    return [LoadBin(n, processor_sharing(n, capacity), samples) for n in loads]


def test_a_knee_inside_the_loads_seen_is_observed() -> None:
    estimate = estimate_per_pod(bins(140, range(20, 200, 10)), target=TARGET)
    assert estimate.method == "Observed"
    assert estimate.measured == pytest.approx(140, rel=0.05)
    assert (estimate.load_from, estimate.load_to, estimate.samples) == (20, 190, 18 * 40)
    assert "latency reaches 800ms at" in estimate.why


def test_a_knee_past_the_loads_seen_is_extrapolated_within_reach() -> None:
    estimate = estimate_per_pod(bins(200, range(20, 150, 10)), target=TARGET)
    assert estimate.method == "Extrapolated"
    assert estimate.measured == pytest.approx(200, rel=0.05)


def test_no_guess_far_past_the_loads_seen() -> None:
    estimate = estimate_per_pod(bins(400, range(20, 120, 10)), target=TARGET)
    assert estimate.measured is None
    assert "past 2x what was seen" in estimate.why


def test_noise_that_dips_does_not_make_an_early_knee() -> None:
    noisy = bins(140, range(20, 200, 10))
    noisy[4] = LoadBin(noisy[4].load, 0.95, 2)  # one thin bin over target at 60 calls
    estimate = estimate_per_pod(noisy, target=TARGET)
    assert estimate.measured == pytest.approx(140, rel=0.05)


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ([], "no latency samples"),
        (bins(140, range(20, 200, 10), samples=10), "too few"),
        (bins(140, range(100, 130, 10), samples=200), "too narrow"),
        ([LoadBin(n, 0.5, 40) for n in range(20, 200, 10)], "does not rise"),
        ([LoadBin(n, 1.2, 40) for n in range(20, 200, 10)], "above target at every load"),
    ],
)
def test_thin_or_flat_evidence_is_no_number(given: list[LoadBin], why: str) -> None:
    estimate = estimate_per_pod(given, target=TARGET)
    assert estimate.measured is None and estimate.method is None
    assert why in estimate.why


def test_a_crossing_seen_on_too_few_samples_is_no_number() -> None:
    thin_top = [*bins(140, range(20, 140, 10)), LoadBin(150, 0.9, 5)]
    estimate = estimate_per_pod(thin_top, target=TARGET)
    assert estimate.measured is None and "only 5 samples at or past" in estimate.why


def test_isotonic_pools_what_decreases() -> None:
    assert isotonic([1, 3, 2, 4], [1, 1, 1, 1]) == [1, 2.5, 2.5, 4]
    assert isotonic([5, 1], [1, 3]) == [2, 2]


def test_weighted_line() -> None:
    assert weighted_line([1, 2, 3], [2, 4, 6], [1, 1, 1]) == pytest.approx((0, 2))
    assert weighted_line([1, 1], [2, 3], [1, 1]) is None
