"""How numbers read in reasons, messages and tables."""

from __future__ import annotations

from fractions import Fraction


def num(value: float | Fraction) -> str:
    """An integer without a point, anything else to four significant digits."""
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:.4g}"
