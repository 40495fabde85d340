"""Per-object retry after Kubernetes API trouble, with one probe for the whole fleet.

An object whose reconcile met a transient error (429, 5xx, no connection) waits out an
exponential, jittered backoff (capped) before the fleet cycle tries it again. After an outage
of minutes many objects sit at the cap; they should not wait out up to five more minutes once
the API is back. So while objects wait, each cycle lets the one due soonest through as a probe,
and as soon as the API server answers any call again (`KubeApi.answered` moves), every waiting
object is due at once. This is the one retry loop: the Kopf handlers do not retry on their own.
"""

from __future__ import annotations

import random
import time
from collections.abc import Set
from dataclasses import dataclass


@dataclass
class _Waiting:
    attempts: int = 0
    not_before: float = 0.0


class RetryBook:
    """Who waits after API trouble, and until when. Not for other failures: an invalid spec or
    a refused write is reported in status, not retried with backoff."""

    def __init__(self, *, base: float = 1.0, cap: float = 300.0) -> None:
        self._base = base
        self._cap = cap
        self._waiting: dict[str, _Waiting] = {}
        self._answered_at_failure = 0

    def failed(self, key: str, retry_after: float | None, *, answered: int) -> float:
        """Record a transient failure; returns the delay before the next attempt."""
        state = self._waiting.setdefault(key, _Waiting())
        state.attempts += 1
        ours = min(self._cap, self._base * 2 ** (state.attempts - 1))
        delay: float = max(ours * random.uniform(0.5, 1.0), retry_after or 0.0)  # jitter
        state.not_before = time.monotonic() + delay
        self._answered_at_failure = answered
        return delay

    def succeeded(self, key: str) -> None:
        """The object reconciled: it no longer waits."""
        self._waiting.pop(key, None)

    def recovered(self, answered: int) -> bool:
        """Has the API server answered a call since the last failure? Then nobody waits."""
        if not self._waiting or answered <= self._answered_at_failure:
            return False
        for state in self._waiting.values():
            state.not_before = 0.0  # attempts stay: a relapse backs off from where it was
        return True

    def due(self, key: str, now: float | None = None) -> bool:
        """Whether the object may be reconciled now (it is not waiting, or its wait is over)."""
        state = self._waiting.get(key)
        return state is None or state.not_before <= (time.monotonic() if now is None else now)

    def probe(self, now: float | None = None) -> str | None:
        """The waiting object to try this cycle although it is not due, when none is due."""
        moment = time.monotonic() if now is None else now
        if not self._waiting or any(s.not_before <= moment for s in self._waiting.values()):
            return None
        return min(self._waiting, key=lambda key: self._waiting[key].not_before)

    def waiting(self) -> int:
        """How many objects wait."""
        return len(self._waiting)

    def forget_except(self, keys: Set[str]) -> None:
        """Forgets deleted objects (service/ports.Forgetting)."""
        for key in set(self._waiting) - keys:
            del self._waiting[key]
