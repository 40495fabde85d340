"""IANA time zones from the pinned `tzdata` package: one source for the CRD's enum, the models'
check and the clock math, so `kubectl apply`, `voicecap plan` and the operator agree on every
name (the host's /usr/share/zoneinfo may be older or absent; the image ships this package)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from zoneinfo import ZoneInfo

import tzdata


def tzdata_version() -> str:
    return str(tzdata.IANA_VERSION)


@lru_cache(maxsize=1)
def time_zones() -> tuple[str, ...]:
    """Every zone name the package ships (canonical zones and their links), sorted."""
    names = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()
    return tuple(sorted(set(names)))


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The zone `name`, read from the package (KeyError when it has no such zone)."""
    if not known(name):
        raise KeyError(name)
    path = resources.files("tzdata.zoneinfo").joinpath(*name.split("/"))
    with path.open("rb") as data:
        return ZoneInfo.from_file(data, key=name)


def known(name: str) -> bool:
    """Whether the package ships zone `name`."""
    return name in _known()


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    return frozenset(time_zones())
