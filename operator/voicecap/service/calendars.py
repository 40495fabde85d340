"""Holiday calendars read from the cluster: one GET per referenced ConfigMap a minute, shared by
every VoiceCapacity that names it (core/peaks/calendar.py merges the days into their peaks).

Calendars are read on demand rather than watched: the operator watches only the ConfigMaps it
owns (a label selector), and users' calendars carry no label of ours. A failed read keeps the
last known calendar; a calendar never read opens windows as if there were none.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Set

from voicecap.adapters.kube import KubeError, Ref
from voicecap.api.models import VoiceCapacity
from voicecap.core.peaks.calendar import MISSING, Calendar, Resolved, parse_calendar, with_calendars
from voicecap.service.ports import Kube

log = logging.getLogger("voicecap")
READ_EVERY = 60.0  # seconds a calendar is trusted before it is read again
Where = tuple[str, str]  # (namespace, ConfigMap name)


class CalendarCache:
    """Holiday calendars by the ConfigMap they are in, shared by every VoiceCapacity that names
    one. Not a watch: a calendar read is at most a minute old."""

    def __init__(self, kube: Kube, read_every: float = READ_EVERY) -> None:
        self._kube = kube
        self.read_every = read_every  # seconds a calendar is trusted before it is read again
        self._known: dict[Where, tuple[float, Calendar]] = {}
        self._named: dict[str, set[Where]] = {}  # VoiceCapacity key -> the calendars it names

    async def resolve(self, capacity: VoiceCapacity) -> Resolved:
        """The capacity with its calendars' days merged into its peaks' exclude."""
        names = {peak.calendar_ref.name for peak in capacity.spec.peaks if peak.calendar_ref}
        self._named[capacity.key] = {(capacity.namespace, name) for name in names}
        calendars = {name: await self._calendar((capacity.namespace, name)) for name in names}
        return with_calendars(capacity, calendars)

    def forget_except(self, keys: Set[str]) -> None:
        """Forgets deleted objects, and the calendars nobody names any more."""
        for key in set(self._named) - keys:
            del self._named[key]
        named = set().union(*self._named.values())
        for where in set(self._known) - named:
            del self._known[where]

    async def _calendar(self, where: Where) -> Calendar | None:
        now = time.monotonic()
        known = self._known.get(where)
        if known is not None and now - known[0] < self.read_every:
            return known[1]
        try:
            body = await self._kube.get(Ref("v1", "configmaps", *where))
        except KubeError as error:  # the next reconcile tries again; until then, the last one
            log.warning("calendar ConfigMap %s/%s: %s", *where, error)
            return known[1] if known is not None else None
        calendar = parse_calendar((body or {}).get("data")) if body is not None else MISSING
        self._known[where] = (now, calendar)
        return calendar
