"""Holiday calendars read from the cluster (service/config_maps.py: at most one GET per
referenced ConfigMap a minute, shared), merged into the peaks that name them by
core/peaks/calendar.py. A calendar never read opens windows as if there were none.
"""

from __future__ import annotations

from collections.abc import Set

from voicecap.api.models import VoiceCapacity
from voicecap.core.peaks.calendar import MISSING, Calendar, Resolved, parse_calendar, with_calendars
from voicecap.service.config_maps import READ_EVERY, ConfigMapReads, Where
from voicecap.service.ports import Kube


class CalendarCache:
    """Holiday calendars by the ConfigMap they are in, shared by every VoiceCapacity that names
    one. Not a watch: a calendar read is at most a minute old."""

    def __init__(self, kube: Kube, read_every: float = READ_EVERY) -> None:
        self._reads = ConfigMapReads(
            kube, parse_calendar, MISSING, what="calendar", read_every=read_every
        )
        self._named: dict[str, set[Where]] = {}  # VoiceCapacity key -> the calendars it names

    @property
    def read_every(self) -> float:
        """Seconds a calendar is trusted before it is read again."""
        return self._reads.read_every

    @read_every.setter
    def read_every(self, seconds: float) -> None:
        """Tests set 0 to read again at once."""
        self._reads.read_every = seconds

    async def resolve(self, capacity: VoiceCapacity) -> Resolved:
        """The capacity with its calendars' days merged into its peaks' exclude."""
        names = {peak.calendar_ref.name for peak in capacity.spec.peaks if peak.calendar_ref}
        self._named[capacity.key] = {(capacity.namespace, name) for name in names}
        calendars: dict[str, Calendar | None] = {
            name: await self._reads.read((capacity.namespace, name)) for name in names
        }
        return with_calendars(capacity, calendars)

    def forget_except(self, keys: Set[str]) -> None:
        """Forgets deleted objects, and the calendars nobody names any more."""
        for key in set(self._named) - keys:
            del self._named[key]
        self._reads.keep(set().union(*self._named.values()))
