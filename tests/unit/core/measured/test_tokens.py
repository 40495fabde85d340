"""core/measured/tokens.py: tokens per call-minute from the tokens used and the call-minutes
served, and no number from a handful of calls."""

from __future__ import annotations

import pytest

from voicecap.core.measured.tokens import estimate_tokens


def test_tokens_over_call_minutes() -> None:
    estimate = estimate_tokens(9_000_000.0, 1000.0)
    assert estimate.measured == 9000
    assert estimate.why == "9000000 tokens over 1000 call-minutes = 9000 per call-minute"


@pytest.mark.parametrize(
    ("tokens", "minutes", "why"),
    [
        (None, 1000.0, "no token use"),
        (5_000.0, None, "no token use"),
        (60_000.0, 10.0, "10 call-minutes: too few (at least 600)"),
    ],
)
def test_too_little_use_is_no_number(tokens: float | None, minutes: float | None, why: str) -> None:
    estimate = estimate_tokens(tokens, minutes)
    assert estimate.measured is None and why in estimate.why
