"""Suite-wide: a SIGTERM (CI's timeout, `kill PID`) ends the run like Ctrl-C does, so every
fixture's teardown still stops the servers and the control plane it started, by PID."""

from __future__ import annotations

import signal
import sys
from types import FrameType


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    sys.exit(128 + signum)  # SystemExit unwinds through every `finally` and fixture teardown


def pytest_configure() -> None:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
