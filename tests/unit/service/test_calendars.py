"""service/calendars.py: holiday calendars read on demand, one GET per ConfigMap a minute shared
by every VoiceCapacity that names it, the last one kept through a failed read, and forgotten when
nobody names it."""

from __future__ import annotations

import pytest

from support.objects import capacity, peak
from support.world import MemoryKube, MemoryWorld
from voicecap.adapters.kube import Ref, TransientError
from voicecap.api.models import VoiceCapacity
from voicecap.service.calendars import CalendarCache

CALENDAR = ("voice", "ConfigMap", "us-holidays")


def naming(name: str, calendar: str = "us-holidays") -> VoiceCapacity:
    named = peak(calendarRef={"name": calendar}).model_dump(by_alias=True, mode="json")
    vcap = capacity(peaks=[named])
    return vcap.model_copy(update={"metadata": vcap.metadata.model_copy(update={"name": name})})


@pytest.fixture
def kube() -> MemoryKube:
    world = MemoryWorld()
    world.children[CALENDAR] = {
        "metadata": {"name": "us-holidays", "namespace": "voice"},
        "data": {"2026": "2026-11-26\n2026-12-24/2026-12-26 # Christmas\n"},
    }
    return MemoryKube(world)


@pytest.mark.asyncio
async def test_the_days_are_merged_into_the_peak_and_reported(kube: MemoryKube) -> None:
    resolved = await CalendarCache(kube).resolve(naming("healthcare"))
    assert resolved.report.days == {"us-holidays": 4}
    assert len(resolved.capacity.spec.peaks[0].exclude) == 2


@pytest.mark.asyncio
async def test_one_read_a_minute_shared_by_every_vertical(kube: MemoryKube) -> None:
    cache = CalendarCache(kube)
    for name in ("healthcare", "sales", "healthcare"):
        await cache.resolve(naming(name))
    assert kube.answered == 1


@pytest.mark.asyncio
async def test_a_failed_read_keeps_the_last_calendar(kube: MemoryKube) -> None:
    cache = CalendarCache(kube, read_every=0)
    await cache.resolve(naming("healthcare"))

    def down(verb: str, ref: Ref) -> TransientError | None:
        return TransientError("503")

    kube.fault = down
    resolved = await cache.resolve(naming("healthcare"))
    assert resolved.report.days == {"us-holidays": 4}


@pytest.mark.asyncio
async def test_a_missing_calendar_names_the_field(kube: MemoryKube) -> None:
    resolved = await CalendarCache(kube).resolve(naming("healthcare", "eu-holidays"))
    assert resolved.report.reason == "CalendarNotFound"
    assert resolved.report.problems[0].startswith("spec.peaks[0].calendarRef.name")


@pytest.mark.asyncio
async def test_calendars_nobody_names_are_forgotten(kube: MemoryKube) -> None:
    cache = CalendarCache(kube)
    await cache.resolve(naming("healthcare"))
    await cache.resolve(naming("sales"))
    cache.forget_except({"voice/sales"})
    await cache.resolve(naming("sales"))
    assert kube.answered == 1, "still named by sales: kept"
    cache.forget_except(set())
    await cache.resolve(naming("sales"))
    assert kube.answered == 2, "nobody named it: read again"
