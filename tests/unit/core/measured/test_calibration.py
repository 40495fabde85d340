"""core/measured/calibration.py: declared against measured (within 10 % Matches, 20 % of an extrapolated knee), and the number
a plan counts with: Measured within half and twice the declared value, declared while nothing is
measured."""

from __future__ import annotations

import pytest

from voicecap.core.measured.calibration import counted, per_pod_verdict, verdict
from voicecap.core.measured.knee import PerPodEstimate


@pytest.mark.parametrize(
    ("declared", "measured", "expected"),
    [
        (200, 140.0, "Overstated"),
        (200, 185.0, "Matches"),
        (200, 220.0, "Matches"),
        (200, 230.0, "Understated"),
        (200, None, "InsufficientData"),
    ],
)
def test_the_verdict(declared: int, measured: float | None, expected: str) -> None:
    assert verdict(declared, measured) == expected


def test_declared_is_counted_as_always_with_nothing_to_say() -> None:
    assert counted("perPod", 200, 140.0, "Declared", round_up=False) == (
        counted("perPod", 200, None, "Declared", round_up=False)
    )
    plain = counted("perPod", 200, 140.0, "Declared", round_up=False)
    assert (plain.value, plain.source, plain.reason) == (200, "Declared", None)


def test_measured_is_counted_rounded_and_within_bounds() -> None:
    capacity = counted("perPod", 200, 140.7, "Measured", round_up=False)
    assert (capacity.value, capacity.source) == (140, "Measured")
    assert capacity.reason == "perPod 140 as measured (140.7; declared 200)"
    cost = counted("tokensPerSessionMinute", 6000, 8999.2, "Measured", round_up=True)
    assert cost.value == 9000
    far = counted("perPod", 200, 35.0, "Measured", round_up=False)
    assert far.value == 100 and "held within 100-400 of the declared 200" in (far.reason or "")


def test_measured_without_a_measurement_counts_the_declared_value_and_says_so() -> None:
    waiting = counted("perPod", 200, None, "Measured", round_up=False)
    assert (waiting.value, waiting.source) == (200, "Declared")
    assert waiting.reason == "perPod 200 as declared: nothing measured yet"


@pytest.mark.parametrize("measured", [182.0, 200.0, 219.0])
def test_a_measurement_that_matches_keeps_the_declared_value(measured: float) -> None:
    """An estimate's noise within 10 % must not move the plan: right inputs change nothing."""
    kept = counted("perPod", 200, measured, "Measured", round_up=False)
    assert (kept.value, kept.source) == (200, "Declared")
    assert (kept.reason or "").startswith("perPod 200 as declared: the measured")
    moved = counted("perPod", 200, 175.0, "Measured", round_up=False)
    assert (moved.value, moved.source) == (175, "Measured")


def test_an_extrapolated_knee_matches_within_20_percent_an_observed_one_within_10() -> None:
    def knee(measured: float, method: str) -> PerPodEstimate:
        return PerPodEstimate(measured, method, 400, 2.0, 60.0, "")  # type: ignore[arg-type]

    assert per_pod_verdict(100, knee(113.0, "Extrapolated")) == "Matches"
    assert per_pod_verdict(100, knee(113.0, "Observed")) == "Understated"
    assert per_pod_verdict(67, knee(100.4, "Extrapolated")) == "Understated"
    assert per_pod_verdict(100, None) == "InsufficientData"
    kept = counted("perPod", 100, 113.0, "Measured", round_up=False, tolerance=0.2)
    assert (kept.value, kept.source) == (100, "Declared")
