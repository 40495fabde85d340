"""api/zones.py: one source of IANA zones (the pinned tzdata package) for the CRD's enum, the
models and the clock math."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from voicecap.api.zones import known, time_zones, tzdata_version, zone


def test_zones_come_from_the_pinned_package_with_their_links() -> None:
    names = time_zones()
    assert names == tuple(sorted(names))
    assert {"America/New_York", "Europe/London", "UTC", "US/Eastern"} <= set(names)
    assert tzdata_version()[:2] == "20"


def test_a_zone_keeps_its_daylight_saving_rules() -> None:
    new_york = zone("America/New_York")
    assert datetime(2026, 7, 1, 12, tzinfo=UTC).astimezone(new_york).hour == 8  # EDT
    assert datetime(2026, 12, 1, 12, tzinfo=UTC).astimezone(new_york).hour == 7  # EST


def test_an_unknown_zone_is_refused() -> None:
    assert not known("America/Nowhere")
    with pytest.raises(KeyError):
        zone("America/Nowhere")
    with pytest.raises(KeyError):
        zone("../../etc/passwd")
