"""core/numbers.py: how numbers read in reasons and tables."""

from __future__ import annotations

from fractions import Fraction

import pytest

from voicecap.core.numbers import num


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (512, "512"),
        (512.0, "512"),
        (0.7, "0.7"),
        (Fraction(700, 5), "140"),
        (Fraction(1, 3), "0.3333"),
        (123456.7, "1.235e+05"),
        (0.0, "0"),
    ],
)
def test_integers_without_a_point_and_the_rest_to_four_digits(value: float, text: str) -> None:
    assert num(value) == text
