"""Kopf's start-up gate, made linear in the number of watched objects.

Kopf holds every handler back until every index is filled. It does that with a `ToggleSet(all)`:
one toggle per object seen in the initial listings, and every object's worker waiting on the set.
Kopf 1.45's set re-evaluates `all(...)` over every toggle (O(n)) and wakes every waiter on every
single toggle change (O(n) wake-ups), so the initial listing costs O(n^2) to O(n^3): at 3,000
VoiceCapacities plus their 3,000 Deployments the operator did not make its first write within 60 s
(py-spy: 65 % of samples in `Condition.notify_all` under `ToggleSet.make_toggle`).

`CountingToggleSet` keeps the same contract with a count of toggles that are on, and wakes waiters
only when the aggregate state flips, which is the only thing any waiter can wait for: Kopf awaits
the set (`operator_indexed`, `operator_paused`), never a member toggle.

`install()` swaps the class Kopf instantiates (`kopf._cogs.aiokits.aiotoggles.ToggleSet`: built
as `ToggleSet(all)` for `operator_indexed` in kopf/_core/reactor/orchestration.py and as
`ToggleSet(any)` for `operator_paused` in kopf/_core/reactor/running.py), for the Kopf
versions this was checked against; on any other version it leaves Kopf alone and says so.

When to delete it: tests/unit/adapters/test_kopf_toggles.py's
`test_kopfs_own_set_still_wakes_every_waiter_on_every_change` measures Kopf's own set and fails
once a Kopf upgrade no longer wakes every waiter on every change; then this module, its
`install()` call in runner.py and its tests go.
"""

from __future__ import annotations

import importlib.metadata
import logging
from collections.abc import Callable, Iterable

import kopf
from kopf._cogs.aiokits import aiotoggles

log = logging.getLogger(__name__)

CHECKED_VERSIONS = ("1.45.",)  # aiotoggles and its two call sites were read for these
_ORIGINAL = aiotoggles.ToggleSet


class _Member(aiotoggles.Toggle):
    """A toggle of a CountingToggleSet: reports its flips to the set."""

    def __init__(self, state: bool, *, name: str | None, owner: CountingToggleSet) -> None:
        super().__init__(state, name=name, condition=owner._condition)
        self._owner = owner

    async def turn_to(self, __state: bool) -> None:
        state = bool(__state)
        async with self._condition:
            if state == self._state:
                return
            before = self._owner.is_on()
            self._state = state
            self._owner._on += 1 if state else -1
            self._owner._notify_if_flipped(before)


class CountingToggleSet(_ORIGINAL):
    """`ToggleSet(all)` / `ToggleSet(any)` with O(1) reads and wake-ups only on a flip."""

    def __init__(self, fn: Callable[[Iterable[bool]], bool]) -> None:
        super().__init__(fn)
        if fn not in (all, any):
            raise ValueError(f"CountingToggleSet supports all/any, not {fn!r}")
        self._on = 0  # members that are on

    def is_on(self) -> bool:
        if self._fn is all:
            return self._on == len(self._toggles)
        return self._on > 0

    def _notify_if_flipped(self, before: bool) -> None:
        if self.is_on() != before:
            self._condition.notify_all()

    async def make_toggle(self, __val: bool = False, *, name: str | None = None) -> _Member:
        toggle = _Member(bool(__val), name=name, owner=self)
        async with self._condition:
            before = self.is_on()
            self._toggles.add(toggle)
            self._on += toggle.is_on()
            self._notify_if_flipped(before)
        return toggle

    async def drop_toggle(self, toggle: aiotoggles.Toggle) -> None:
        await self.drop_toggles([toggle])

    async def drop_toggles(self, toggles: Iterable[aiotoggles.Toggle]) -> None:
        async with self._condition:
            before = self.is_on()
            for toggle in toggles:
                if toggle in self._toggles:
                    self._toggles.discard(toggle)
                    self._on -= toggle.is_on()
            self._notify_if_flipped(before)


def install() -> bool:
    """Make Kopf build CountingToggleSets; returns whether it did."""
    version = getattr(kopf, "__version__", "") or _distribution_version()
    if not version.startswith(CHECKED_VERSIONS):
        log.warning(
            "kopf %s is not a version the start-up gate fix was checked against; "
            "start-up with many thousands of objects may be slow",
            version,
        )
        return False
    aiotoggles.ToggleSet = CountingToggleSet  # type: ignore[misc]
    return True


def _distribution_version() -> str:
    return importlib.metadata.version("kopf")
