"""core/measured/calibration.py: declared against measured (within 10 % Matches), and the number
a plan counts with: Measured within half and twice the declared value, declared while nothing is
measured."""

from __future__ import annotations

import pytest

from voicecap.core.measured.calibration import counted, verdict


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
