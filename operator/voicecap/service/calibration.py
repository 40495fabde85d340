"""Measured inputs for the whole fleet, refreshed in the background like the forecasts: hourly,
one query per distinct latency quantile (and custom latency query) for every VoiceCapacity with
spec.latency, and two for token use (tokens, call-minutes) for every one with spec.model, so the
queries per refresh do not grow with the objects. A failed refresh keeps what was measured and is
tried again a minute later. core/measured turns the answers into estimates.

The window ends on the hour (the refresh period): every refresh within an hour, a restarted
operator's first one included, reads the same samples and gives the same numbers, so status
changes once an hour at most and a restart writes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Set
from datetime import datetime, timedelta

from voicecap.adapters.metrics import OperatorMetrics
from voicecap.adapters.prometheus import QueryFailedError
from voicecap.api.models import VoiceCapacity
from voicecap.core.measured.calibration import Calibration
from voicecap.core.measured.knee import LoadBin, PerPodEstimate, estimate_per_pod
from voicecap.core.measured.tokens import TokenEstimate, estimate_tokens
from voicecap.core.peaks.shapes import SINGLE, SeriesKey
from voicecap.service.clock import Clock
from voicecap.service.ports import Calibrations

log = logging.getLogger("voicecap")
WINDOW = timedelta(days=3)  # the samples a calibration reads
REFRESH = timedelta(hours=1)
RETRY_AFTER = timedelta(minutes=1)
LatencyKey = tuple[float, str]  # (quantile, custom query)


class CalibrationCache:
    """What was measured for each VoiceCapacity (core Calibration), refreshed in the background.
    Not for the live latency and refusals: those are per cycle (service/sessions.py)."""

    def __init__(
        self,
        prometheus: Calibrations,
        clock: Clock,
        metrics: OperatorMetrics,
        *,
        window: timedelta = WINDOW,
        refresh: timedelta = REFRESH,
    ) -> None:
        self._prometheus = prometheus
        self._clock = clock
        self._metrics = metrics
        self._window = window
        self._refresh = refresh
        self._bins: dict[LatencyKey, dict[SeriesKey, list[LoadBin]]] = {}
        self._tokens: dict[tuple[str, str], dict[SeriesKey, tuple[float | None, float | None]]]
        self._tokens = {}
        self._computed: datetime | None = None
        self._next: datetime | None = None  # when the next refresh is due
        # The questions the last refresh asked, answered or not: a new one is asked at once,
        # one that failed waits for RETRY_AFTER like the rest (no query every cycle in an outage).
        self._asked: Questions = (set(), set())
        self._views: dict[str, tuple[VoiceCapacity, Calibration]] = {}
        self._task: asyncio.Task[None] | None = None
        self.failures: list[str] = []  # what failed, for `voicecap calibrate`

    def view(self, capacity: VoiceCapacity) -> Calibration:
        """What was measured for this VoiceCapacity (empty before the first refresh)."""
        cached = self._views.get(capacity.key)
        if cached is not None and cached[0] is capacity:
            return cached[1]
        calibration = self._build(capacity)
        self._views[capacity.key] = (capacity, calibration)
        return calibration

    def forget_except(self, keys: Set[str]) -> None:
        """Forgets deleted objects' views (service/ports.Forgetting)."""
        for key in set(self._views) - keys:
            del self._views[key]

    def start_refresh(self, capacities: list[VoiceCapacity]) -> None:
        """Refresh in the background when due, or at once when an object asks a question the
        last refresh did not (a new VoiceCapacity, a new quantile); the cycle goes on with what
        is known."""
        now = self._clock.now()
        latency, tokens = _questions(capacities)
        new = not (latency <= self._asked[0] and tokens <= self._asked[1])
        if self._next is not None and now < self._next and not new:
            return
        if self._task is not None and not self._task.done():
            return
        self._task = asyncio.get_running_loop().create_task(self.refresh(capacities))

    def stop(self) -> None:
        """Cancel a refresh in flight (the operator is stopping)."""
        if self._task is not None:
            self._task.cancel()

    async def wait(self) -> None:
        """Wait for the refresh in flight to land (tests, and `voicecap calibrate`)."""
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task

    async def refresh(self, capacities: Iterable[VoiceCapacity]) -> None:
        """Ask every due question now; a failure keeps what was measured and retries soon."""
        now = self._clock.now()
        until = _aligned(now, self._refresh)
        try:
            await asyncio.to_thread(self._ask, list(capacities), until)
        except QueryFailedError as failure:
            log.warning("calibration refresh failed: %s", failure)
            self.failures.append(str(failure))
            self._next = now + RETRY_AFTER
            return
        finally:
            self._metrics.record_queries("calibration", self._prometheus.history)
            self._prometheus.history.clear()
        self._computed, self._next = until, until + self._refresh
        self._views.clear()

    def _ask(self, capacities: list[VoiceCapacity], now: datetime) -> None:
        latency_keys, token_keys = self._asked = _questions(capacities)
        bins = {
            key: self._prometheus.latency_bins(key[0], self._window, now, query=key[1])
            for key in latency_keys
        }
        tokens = {
            key: self._prometheus.token_use(self._window, now, usage=key[0], sessions=key[1])
            for key in token_keys
        }
        self._bins, self._tokens = bins, tokens

    def _build(self, capacity: VoiceCapacity) -> Calibration:
        if self._computed is None:
            return Calibration()
        spec = capacity.spec
        per_pod: PerPodEstimate | None = None
        if spec.latency is not None:
            answer = self._bins.get((spec.latency.quantile, spec.latency.query), {})
            key = SINGLE if spec.latency.query and _unlabelled(answer) else _series(capacity)
            per_pod = estimate_per_pod(
                answer.get(key, []), target=spec.latency.target.total_seconds()
            )
        tokens: TokenEstimate | None = None
        if spec.model is not None:
            used = self._tokens.get((spec.model.usage_query, spec.sessions.query), {})
            found = used.get(SINGLE if spec.model.usage_query else _series(capacity), (None, None))
            tokens = estimate_tokens(*found)
        return Calibration(per_pod, tokens, self._computed)


Questions = tuple[set[LatencyKey], set[tuple[str, str]]]  # (latency, token use)


def _questions(capacities: Iterable[VoiceCapacity]) -> Questions:
    """The distinct questions the fleet asks: (quantile, latency query) and (usage query, session
    query)."""
    latency = {
        (capacity.spec.latency.quantile, capacity.spec.latency.query)
        for capacity in capacities
        if capacity.spec.latency is not None
    }
    tokens = {
        (capacity.spec.model.usage_query, capacity.spec.sessions.query)
        for capacity in capacities
        if capacity.spec.model is not None
    }
    return latency, tokens


def _series(capacity: VoiceCapacity) -> SeriesKey:
    return (capacity.namespace, capacity.vertical)


def _unlabelled(answer: dict[SeriesKey, list[LoadBin]]) -> bool:
    return set(answer) == {SINGLE}


def _aligned(now: datetime, period: timedelta) -> datetime:
    """`now` rounded down to a whole `period` since the epoch (the hour, by default)."""
    step = period.total_seconds()
    return datetime.fromtimestamp(now.timestamp() // step * step, tz=now.tzinfo)
