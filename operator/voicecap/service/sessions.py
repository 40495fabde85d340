"""Session observations for the whole fleet: one batched Prometheus query per cycle.

Objects newer than the last cycle (start-up, a create) are batched too: misses that arrive while
a query is in flight are answered together by the next one.

An unreachable Prometheus for less than `grace` (30 s) is a blip, not an outage: failed queries
keep each object's last good observation (its samples keep their age, so maxStaleness still
applies) until the failures are `grace` old; then the sessions are unknown. Without the bridge,
a query that landed in a few seconds of downtime flipped MetricsAvailable on every object and
back a cycle later: two status patches, two Events and two floor changes per VoiceCapacity (3,080
writes at 500 objects for a 10 s pause, bench/faults.py). Failures are counted on /metrics
either way.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from voicecap.adapters.metrics import OperatorMetrics
from voicecap.adapters.prometheus import SessionSource
from voicecap.api.models import VoiceCapacity
from voicecap.core.planner.observation import Observation
from voicecap.service.clock import Clock
from voicecap.service.ports import SessionMetrics


def session_source(capacity: VoiceCapacity) -> SessionSource:
    """What the per-cycle queries of this VoiceCapacity are: its sessions (key, namespace,
    vertical, override), and the latency, the provider's refusals and the calls refused (for a
    blocking target's offered load) where it declares them."""
    spec = capacity.spec
    duration = spec.sessions.call_duration
    return SessionSource(
        key=capacity.key,
        namespace=capacity.namespace,
        vertical=capacity.vertical,
        query=spec.sessions.query or "",
        latency_quantile=spec.latency.quantile if spec.latency else None,
        latency_query=spec.latency.query if spec.latency else "",
        rate_limited=spec.model is not None,
        rate_limited_query=spec.model.rate_limited_query if spec.model else "",
        refused=spec.sessions.blocking_target is not None,
        rejected_query=spec.sessions.rejected_query,
        call_seconds=duration.total_seconds() if duration is not None else None,
        outbound=spec.admission.outbound.enabled,
    )


class SessionCache:
    """Session observations for the fleet, refreshed once per cycle with batched queries."""

    def __init__(
        self,
        prometheus: SessionMetrics,
        clock: Clock,
        metrics: OperatorMetrics,
        *,
        grace: float = 30.0,
    ) -> None:
        self._prometheus = prometheus
        self._clock = clock
        self._metrics = metrics
        self._observations: dict[str, Observation] = {}
        self._pending: dict[str, SessionSource] = {}
        self._grace = grace  # seconds of failed queries bridged by the last answer
        self._failing_since: dict[str, float] = {}  # key -> monotonic time of its first failure
        self._lock = asyncio.Lock()

    async def refresh(self, sources: list[SessionSource]) -> None:
        """One batched query for the whole fleet, at the start of a cycle."""
        async with self._lock:
            observed = await asyncio.to_thread(self._observe, sources)
            self._observations = self._bridge(observed)

    def _bridge(self, observed: dict[str, Observation]) -> dict[str, Observation]:
        """Each key's observation, failures younger than the grace bridged by the last answer."""
        now = time.monotonic()
        failing: dict[str, float] = {}
        for key, observation in observed.items():
            if observation.failure != "PrometheusUnreachable":
                continue
            since = failing[key] = self._failing_since.get(key, now)
            last = self._observations.get(key)
            if last is not None and last.failure is None and now - since < self._grace:
                observed[key] = last
        self._failing_since = failing
        return observed

    async def observation(self, source: SessionSource) -> Observation:
        """The cycle's observation; a miss (an object newer than the last cycle) is batched:
        misses that arrive while a query is in flight are answered together by the next one, so
        thousands of objects at start-up cost a few fleet queries, not one each."""
        cached = self._observations.get(source.key)
        if cached is not None:
            return cached
        self._pending[source.key] = source
        async with self._lock:
            if source.key in self._pending and source.key not in self._observations:
                batch, self._pending = self._pending, {}
                observed = await asyncio.to_thread(self._observe, list(batch.values()))
                self._observations.update(observed)
            self._pending.pop(source.key, None)
        return self._observations.get(source.key, Observation(failure="NoData"))

    async def pod_sessions(self) -> dict[tuple[str, str], float]:
        """Live calls per (namespace, pod): one query; raises QueryFailedError."""
        async with self._lock:
            try:
                return await asyncio.to_thread(self._prometheus.pod_sessions)
            finally:
                self._record("pods")

    def _record(self, kind: str) -> None:
        self._metrics.record_queries(kind, self._prometheus.history)
        self._prometheus.history.clear()

    def _observe(self, sources: list[SessionSource]) -> dict[str, Observation]:
        observed = self._prometheus.observe(sources)
        for record in self._prometheus.history:
            kind = "default" if "voice_active_sessions" in record.query else "override"
            self._metrics.query_duration.labels(kind).observe(record.seconds)
            if record.outcome != "ok":
                self._metrics.query_failures.labels(record.outcome).inc()
        return {
            key: replace(value, sampled_at=self._clock.sampled(value.sampled_at))
            for key, value in observed.items()
        }
