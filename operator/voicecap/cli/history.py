"""What the commands that read history from Prometheus share (`voicecap forecast`,
cli/forecast.py, and `voicecap replay`, cli/replay.py): the connection, how a failure and a
number read, and their flags."""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
from collections.abc import Iterator
from typing import TypeVar

from voicecap.adapters.calibration import PrometheusCalibration
from voicecap.adapters.history import PrometheusHistory
from voicecap.adapters.prometheus_access import redact
from voicecap.cli.args import UsageError
from voicecap.cli.prometheus_flags import prometheus_access
from voicecap.core.numbers import num


def connect(args: argparse.Namespace) -> PrometheusHistory:
    """The history client for --prometheus-*, or a UsageError naming what is wrong with them."""
    return connect_to(args, PrometheusHistory)


Client = TypeVar("Client", PrometheusHistory, PrometheusCalibration)


def connect_to(args: argparse.Namespace, kind: type[Client]) -> Client:
    """A client of `kind` for --prometheus-* and --timeout, or a UsageError naming what is wrong."""
    access = prometheus_access(args)
    if not access.url.startswith(("http://", "https://")):
        raise UsageError(
            f"--prometheus-url {redact(access.url)!r}: expected http://HOST:PORT or https://..."
        )
    try:
        return kind(access, timeout=args.timeout)
    except OSError as error:  # a CA bundle that is not one
        raise UsageError(f"Prometheus access: {error}") from error


# ---------------------------------------------------------------- helpers


@contextlib.contextmanager
def service_quiet() -> Iterator[None]:
    """The service's own warnings muted: a command says a failure once, in one line."""
    service_log = logging.getLogger("voicecap")
    level = service_log.level
    service_log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        service_log.setLevel(level)


def short(failure: str) -> str:
    """A failure's first line: the adapter already says an unreachable Prometheus in a few
    words (adapters/prometheus_access.py, `explain`)."""
    return failure.splitlines()[0][:300]


def finite(value: float | None) -> float | None:
    """The value, or None where it is not a finite number (JSON has no NaN)."""
    return value if value is not None and math.isfinite(value) else None


def text(value: object) -> str:
    """A table cell: '-' for nothing, numbers without trailing zeros."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return num(value)
    return str(value)
