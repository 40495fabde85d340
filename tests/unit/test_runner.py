"""runner.py: who this replica is (its identity, its peering priority) before Kopf starts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest


def test_identity_without_a_passwd_entry_uses_the_uid(monkeypatch: pytest.MonkeyPatch) -> None:
    """An image's `USER 65532` has no passwd entry and no $USER: getpass.getuser() raises."""
    import os  # noqa: PLC0415
    import pwd  # noqa: PLC0415

    from voicecap import runner  # noqa: PLC0415

    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.delenv(name, raising=False)

    def no_entry(uid: int) -> pwd.struct_passwd:
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    monkeypatch.setenv("POD_NAME", "voicecap-operator-abc")
    assert runner.identity() == f"{os.getuid()}@voicecap-operator-abc/{os.getpid()}"


def test_auto_priority_prefers_the_replica_that_started_first() -> None:
    from voicecap import runner  # noqa: PLC0415
    from voicecap.service.peering import writer_allowed  # noqa: PLC0415

    first = runner.auto_priority(1_764_000_000_000, "65532@voicecap-operator-a/1")
    second = runner.auto_priority(1_764_000_000_001, "65532@voicecap-operator-b/1")
    assert first > second
    same_ms = {runner.auto_priority(1_764_000_000_000, f"65532@pod-{i}/1") for i in range(3)}
    assert len(same_ms) == 3  # Kopf pauses every peer of equal priority: never equal
    now = datetime(2026, 12, 4, 12, tzinfo=UTC)
    peers = {
        "a": {"priority": first, "lifetime": 30, "lastseen": "2026-12-04T11:59:50+00:00"},
        "b": {"priority": second, "lifetime": 30, "lastseen": "2026-12-04T11:59:55+00:00"},
    }
    assert writer_allowed(peers, "a", first, now)
    assert not writer_allowed(peers, "b", second, now)
    later = now + timedelta(seconds=21)  # a's entry expired: b takes over
    assert writer_allowed(peers, "b", second, later)
