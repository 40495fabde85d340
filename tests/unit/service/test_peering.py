"""service/peering.py: which replica may write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from voicecap.service.peering import writer_allowed

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)  # a Saturday: no peak


def peer(priority: int, seconds_ago: float, lifetime: int = 60) -> dict[str, object]:
    seen = (NOW - timedelta(seconds=seconds_ago)).isoformat()
    return {"priority": priority, "lastseen": seen, "lifetime": lifetime}


@pytest.mark.parametrize(
    ("peers", "allowed"),
    [
        ({}, True),
        ({"me": peer(10, 0)}, True),
        ({"me": peer(10, 0), "low": peer(5, 0)}, True),
        ({"me": peer(10, 0), "high": peer(20, 0)}, False),
        ({"me": peer(10, 0), "twin": peer(10, 0)}, False),  # Kopf pauses both on a tie
        ({"me": peer(10, 0), "dead": peer(20, 61)}, True),
    ],
)
def test_only_the_highest_live_priority_writes(peers: dict[str, object], allowed: bool) -> None:
    assert writer_allowed(peers, "me", 10, NOW) is allowed
