"""The vertical's limits, as the operator publishes them in limits.json (docs/api.md "Admission").

    {"version": 12, "verticals": {"healthcare": {"maxSessions": 1600, "reason": "Pods",
      "overflow": "Queue", "reserve": {"vip": 50}, "outbound": {"callsPerSecond": 6.458},
      "pods": 8}}}

A ConfigMap mounted as a volume is a symlink the kubelet swaps (..data), about a minute after the
ConfigMap changes (never with subPath). LimitsFile stats the file at most every `interval` seconds
when asked, and re-reads it when its identity, size or mtime moved: a decision costs a dict lookup,
and a changed file is applied within `interval` of the next decision.

A missing, unreadable or corrupt file keeps the last good limits, says so (log, `last_error`, the
kit's metrics); before any good read there are no limits, and the admission rejects: a gateway
never admits without a limit because a file is unreadable.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

log = logging.getLogger("voicecap_kit")
Overflow = Literal["Reject", "Queue"]


class LimitsError(ValueError):
    """limits.json cannot be used: the message says why."""


@dataclass(frozen=True)
class VerticalLimits:
    """One vertical's entry, and the document's version."""

    max_sessions: int
    reason: str = "Pods"
    reserve: Mapping[str, int] = field(default_factory=dict)  # tier -> calls only it may use
    overflow: Overflow = "Reject"
    calls_per_second: float | None = None  # the outbound dial pace
    version: int = 0
    tenants: Mapping[str, int] = field(default_factory=dict)  # tenant -> concurrent calls
    pods: int | None = None  # the ready pods the limit was computed over (workers sharing it)

    @property
    def general(self) -> int:
        """The calls any caller may take: the limit less every reserved pool."""
        return max(self.max_sessions - sum(self.reserve.values()), 0)

    def share(self, workers: int) -> VerticalLimits:
        """This process's part of the vertical's limits when `workers` processes admit calls
        independently (LiveKit agent workers): each number divided and rounded down, so the
        workers together never exceed the vertical's limit."""
        if workers <= 1:
            return self
        return VerticalLimits(
            self.max_sessions // workers,
            self.reason,
            {tier: calls // workers for tier, calls in self.reserve.items()},
            self.overflow,
            None if self.calls_per_second is None else self.calls_per_second / workers,
            self.version,
            {tenant: cap // workers for tenant, cap in self.tenants.items()},
            self.pods,
        )

    def worker_share(self, workers: int | None = None) -> VerticalLimits:
        """A worker's share: `workers` when the caller counts them, else the ready pods the
        operator published (`pods`), else the whole limit (a single gateway process)."""
        count = workers if workers is not None else self.pods
        return self.share(count if count is not None else 1)


def parse_limits(text: str, vertical: str) -> VerticalLimits:
    """The vertical's limits in a limits.json document; LimitsError names what is wrong."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise LimitsError(f"limits.json is not JSON: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("verticals"), dict):
        raise LimitsError("limits.json has no verticals object")
    entry = document["verticals"].get(vertical)
    if not isinstance(entry, dict):
        raise LimitsError(f"limits.json has no entry for vertical {vertical!r}")
    return VerticalLimits(
        max_sessions=_count(entry, "maxSessions"),
        reason=str(entry.get("reason", "")),
        reserve=_caps(entry.get("reserve", {}), "reserve"),
        overflow=_overflow(entry.get("overflow", "Reject")),
        calls_per_second=_pace(entry.get("outbound")),
        version=_version(document.get("version", 0)),
        tenants=_caps(entry.get("tenants", {}), "tenants"),
        pods=_count(entry, "pods") if "pods" in entry else None,
    )


def _count(entry: Mapping[str, Any], key: str) -> int:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise LimitsError(f"{key} must be a non-negative integer, not {value!r}")
    return value


def _caps(value: Any, what: str) -> dict[str, int]:
    if not isinstance(value, dict):
        raise LimitsError(f"{what} must be an object of name: calls, not {value!r}")
    return {str(name): _count(value, name) for name in value}


def _overflow(value: Any) -> Overflow:
    if value == "Reject":
        return "Reject"
    if value == "Queue":
        return "Queue"
    raise LimitsError(f"overflow must be Reject or Queue, not {value!r}")


def _pace(value: Any) -> float | None:
    if value is None:
        return None
    pace = value.get("callsPerSecond") if isinstance(value, dict) else None
    if isinstance(pace, bool) or not isinstance(pace, int | float) or pace < 0:
        raise LimitsError(f"outbound.callsPerSecond must be a number >= 0, not {pace!r}")
    return float(pace)


def _version(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise LimitsError(f"version must be an integer, not {value!r}")
    return value


Listener = Callable[[VerticalLimits | None, str | None], None]  # (limits, error) after a read


class LimitsFile:
    """A vertical's limits from a mounted limits.json, re-read when the file changes."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        vertical: str,
        *,
        interval: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
        on_read: Listener | None = None,
    ) -> None:
        self.path = Path(path)
        self.vertical = vertical
        self.interval = interval  # seconds between two looks at the file
        self.last_error: str | None = None
        self._clock = clock
        self._on_read = on_read
        self._limits: VerticalLimits | None = None
        self._seen: tuple[int, int, int, int] | None = None  # (device, inode, size, mtime_ns)
        self._checked = -float("inf")
        self._lock = threading.Lock()

    def current(self) -> VerticalLimits | None:
        """The limits to decide with now (None: never read a good file). Never raises."""
        now = self._clock()
        if now - self._checked < self.interval:
            return self._limits
        with self._lock:
            if now - self._checked >= self.interval:
                self._checked = now
                self._refresh()
        return self._limits

    def _refresh(self) -> None:
        try:
            stat = self.path.stat()  # follows the kubelet's ..data symlink
        except OSError as error:
            self._failed(f"{self.path}: {error.strerror or error}")
            return
        seen = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if seen == self._seen and self.last_error is None:
            return
        try:
            limits = parse_limits(self.path.read_text(encoding="utf-8"), self.vertical)
        except (OSError, UnicodeDecodeError, LimitsError) as error:
            self._seen = seen
            self._failed(f"{self.path}: {error}")
            return
        self._seen, self._limits, self.last_error = seen, limits, None
        log.info(
            "limits version %d for %s: maxSessions %d (%s)",
            limits.version, self.vertical, limits.max_sessions, limits.reason,
        )  # fmt: skip
        if self._on_read is not None:
            self._on_read(limits, None)

    def _failed(self, why: str) -> None:
        if why != self.last_error:
            kept = "keeping the last good limits" if self._limits else "rejecting every call"
            log.warning("limits unusable, %s: %s", kept, why)
        self.last_error = why
        if self._on_read is not None:
            self._on_read(self._limits, why)
