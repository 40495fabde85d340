"""Tokens per call-minute measured from real use: the model tokens a vertical used over a window
divided by the call-minutes it served in it (both from Prometheus, service/calibration.py)."""

from __future__ import annotations

from dataclasses import dataclass

from voicecap.core.numbers import num

MIN_CALL_MINUTES = 600.0  # ten call-hours: a handful of calls says little about the mean


@dataclass(frozen=True)
class TokenEstimate:
    """Tokens per call-minute, with the call-minutes behind it."""

    measured: float | None  # None: not enough use seen (`why` says why)
    call_minutes: float
    why: str


def estimate_tokens(tokens: float | None, call_minutes: float | None) -> TokenEstimate:
    """tokens / call-minutes over the same window; unknown with too little use."""
    minutes = call_minutes or 0.0
    if tokens is None or call_minutes is None:
        return TokenEstimate(None, minutes, "no token use or no calls recorded")
    if minutes < MIN_CALL_MINUTES:
        return TokenEstimate(
            None,
            minutes,
            f"{num(round(minutes))} call-minutes: too few (at least {num(MIN_CALL_MINUTES)})",
        )
    measured = tokens / minutes
    return TokenEstimate(
        measured,
        minutes,
        f"{num(round(tokens))} tokens over {num(round(minutes))} call-minutes = "
        f"{num(round(measured))} per call-minute",
    )
