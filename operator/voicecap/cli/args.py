"""Argument types and the usage error shared by every `voicecap` command."""

from __future__ import annotations

import argparse
import math
from datetime import UTC, datetime

from voicecap.api.types import parse_duration
from voicecap.core.alerts.rules import RUNBOOKS

EXIT_INVALID = 2


class UsageError(Exception):
    """A problem with the command line or its input files: exit 2, no traceback."""


def instant(text: str) -> datetime:
    """An argparse type: an ISO 8601 time with a UTC offset, as UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from error
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no UTC offset; write it as 2026-11-23T08:55:00-05:00 or ...Z"
        )
    return moment.astimezone(UTC)


def duration(text: str) -> float:
    """An argparse type: seconds (`0.25`) or a Go-style duration (`15s`, `1m`), above zero."""
    try:
        seconds = float(text)  # bare seconds, for sub-second demo intervals
    except ValueError:
        try:
            seconds = parse_duration(text).total_seconds()
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from error
    if not math.isfinite(seconds) or seconds <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite time longer than zero")
    return seconds


def add_runbook_flag(parser: argparse.ArgumentParser) -> None:
    """--runbook-base-url: where every alert's runbook_url points (the section is #alertname)."""
    parser.add_argument(
        "--runbook-base-url",
        default=RUNBOOKS,
        metavar="URL",
        help="the runbooks page the alerts' runbook_url points at, + #alertname "
        f"(default {RUNBOOKS})",
    )
