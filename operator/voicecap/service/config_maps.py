"""ConfigMaps users write and VoiceCapacities name (holiday calendars, tenant caps): read on
demand, one GET per referenced ConfigMap at most every READ_EVERY seconds, shared by every
VoiceCapacity that names it.

Read rather than watched: the operator watches only the ConfigMaps it owns (a label selector),
and users' ConfigMaps carry no label of ours. A failed read keeps the last known value; one
never read is None (the caller says "unread").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

from voicecap.adapters.kube import KubeError, Ref
from voicecap.service.ports import Kube

log = logging.getLogger("voicecap")
READ_EVERY = 60.0  # seconds a ConfigMap's content is trusted before it is read again
Where = tuple[str, str]  # (namespace, ConfigMap name)
T = TypeVar("T")


class ConfigMapReads(Generic[T]):
    """Parsed ConfigMaps by where they are; `parse(None)` is what a missing one means."""

    def __init__(
        self,
        kube: Kube,
        parse: Callable[[Mapping[str, str] | None], T],
        missing: T,
        *,
        what: str,
        read_every: float = READ_EVERY,
    ) -> None:
        self._kube = kube
        self._parse = parse
        self._missing = missing
        self._what = what  # for the log: "calendar", "tenant caps"
        self.read_every = read_every
        self._known: dict[Where, tuple[float, T]] = {}

    async def read(self, where: Where) -> T | None:
        """The parsed content (the missing value when the ConfigMap does not exist; None when it
        was never read and cannot be now)."""
        now = time.monotonic()
        known = self._known.get(where)
        if known is not None and now - known[0] < self.read_every:
            return known[1]
        try:
            body = await self._kube.get(Ref("v1", "configmaps", *where))
        except KubeError as error:  # the next reconcile tries again; until then, the last one
            log.warning("%s ConfigMap %s/%s: %s", self._what, *where, error)
            return known[1] if known is not None else None
        value = self._parse((body or {}).get("data")) if body is not None else self._missing
        self._known[where] = (now, value)
        return value

    def keep(self, named: set[Where]) -> None:
        """Forgets what nobody names any more."""
        for where in set(self._known) - named:
            del self._known[where]
