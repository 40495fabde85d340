"""settings.py: what `voicecap run` was told, and the peering it implies."""

from __future__ import annotations

import dataclasses

import pytest

from voicecap.adapters.prometheus_access import PrometheusAccess
from voicecap.settings import Settings

ACCESS = PrometheusAccess(url="http://prometheus:9090")


@pytest.mark.parametrize(
    ("standalone", "peering", "expected"),
    [(False, None, "default"), (False, "voice", "voice"), (True, "voice", None)],
)
def test_the_peering_object_the_cycle_checks(
    standalone: bool, peering: str | None, expected: str | None
) -> None:
    settings = Settings(ACCESS, standalone=standalone, peering=peering)
    assert settings.peering_name == expected
    assert settings.prometheus_url == "http://prometheus:9090"


def test_settings_are_frozen_with_the_flags_defaults() -> None:
    settings = Settings(ACCESS)
    assert (settings.interval, settings.query_timeout, settings.namespaces) == (15.0, 3.0, ())
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.interval = 1.0  # type: ignore[misc]
