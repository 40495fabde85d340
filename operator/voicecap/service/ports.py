"""What the service needs of the outside world, as Protocols: the Kubernetes API, live session
metrics, session history and calibration. The adapters implement them (adapters/kube.py,
prometheus.py, history.py, calibration.py); tests pass doubles that satisfy the same types
(tests/support/world.py), as service/world.py does for the watch caches. And what every cache
keyed by VoiceCapacity does when objects are deleted (Forgetting)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence, Set
from datetime import datetime, timedelta
from typing import Any, Protocol

from voicecap.adapters.kube import Ref
from voicecap.adapters.prometheus import QueryRecord, SessionSource
from voicecap.core.measured.knee import LoadBin
from voicecap.core.peaks.shapes import SeriesKey, Span
from voicecap.core.planner.observation import Observation


class Kube(Protocol):
    """The Kubernetes API, as the service writes and reads what the watch caches do not hold.
    Every call raises the project's errors (adapters/kube.py), never the client's."""

    answered: int  # calls the API server answered (the retry book's sign that it is back)

    async def get(self, ref: Ref) -> dict[str, Any] | None:
        """The object at `ref`, or None when it does not exist."""
        ...

    async def select(self, ref: Ref, *, label_selector: str) -> list[dict[str, Any]]:
        """The objects of `ref`'s collection that match a label selector."""
        ...

    async def create(self, ref: Ref, body: dict[str, Any]) -> dict[str, Any]:
        """Create `body` in `ref`'s collection; ConflictError when it exists."""
        ...

    async def patch(self, ref: Ref, patch: dict[str, Any]) -> dict[str, Any]:
        """A JSON merge patch of the object at `ref`."""
        ...

    async def patch_status(self, ref: Ref, status: dict[str, Any]) -> dict[str, Any]:
        """A JSON merge patch of the status subresource of the object at `ref`."""
        ...

    async def delete(self, ref: Ref) -> None:
        """Delete the object at `ref` (already gone is fine)."""
        ...


class SessionMetrics(Protocol):
    """Live calls per vertical (one batched query a cycle) and per pod (busy pods last)."""

    history: list[QueryRecord]  # the queries since the last look, for the metrics

    def observe(self, sources: Iterable[SessionSource]) -> dict[str, Observation]:
        """One observation per source: default queries batched, overrides shared."""
        ...

    def pod_sessions(self) -> dict[tuple[str, str], float]:
        """Live calls per (namespace, pod); raises QueryFailedError."""
        ...


class History(Protocol):
    """Session history: quantiles inside windows, and the burst factor's two numbers."""

    history: list[QueryRecord]

    def quantiles(
        self, sessions: str, quantile: float, spans: Sequence[Span], *, batched: bool
    ) -> dict[SeriesKey, dict[str, float]]:
        """The `quantile` of `sessions` inside each span, by series and span label."""
        ...

    def burst(
        self, sessions: str, at: datetime, *, batched: bool
    ) -> dict[SeriesKey, tuple[float | None, float | None]]:
        """The 28 days' largest and median of `sessions` before `at`, by series."""
        ...

    def week_flags(
        self, refused: str, share: str, quantile: float, spans: Sequence[Span]
    ) -> dict[SeriesKey, dict[str, dict[str, float]]]:
        """Per series and week: the most calls refused a second, the quantile of served/limit."""
        ...


class Calibrations(Protocol):
    """What the background calibration asks: latency by load, and token use."""

    history: list[QueryRecord]

    def latency_bins(
        self, quantile: float, window: timedelta, at: datetime, *, query: str = ""
    ) -> dict[SeriesKey, list[LoadBin]]:
        """Per vertical: the median latency quantile at each load bin, and its samples."""
        ...

    def token_use(
        self, window: timedelta, at: datetime, *, usage: str = "", sessions: str = ""
    ) -> dict[SeriesKey, tuple[float | None, float | None]]:
        """Per vertical: (tokens used, call-minutes served) over `window` before `at`."""
        ...


class Forgetting(Protocol):
    """A cache that holds something per VoiceCapacity (by namespace/name key). The fleet cycle
    calls every one that service/assembly.py registers with the keys that still exist, so a
    deleted object leaves nothing behind."""

    def forget_except(self, keys: Set[str]) -> None:
        """Drop whatever is held for VoiceCapacities whose key is not in `keys`."""
        ...
