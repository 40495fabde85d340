"""limits.py: limits.json parsed strictly, the file re-read when it changes, the last good
limits kept (and said) when it breaks, nothing admitted before a good read."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from voicecap_kit.limits import LimitsError, LimitsFile, VerticalLimits, parse_limits

DOCUMENT = {
    "version": 4,
    "verticals": {
        "healthcare": {
            "maxSessions": 1600,
            "reason": "TPM",
            "overflow": "Queue",
            "reserve": {"vip": 50, "emergency": 20},
            "outbound": {"callsPerSecond": 6.25},
            "tenants": {"acme": 50, "initech": 200},
        },
        "sales": {"maxSessions": 500, "reason": "Pods"},
    },
}


def test_an_entry_with_every_tier() -> None:
    limits = parse_limits(json.dumps(DOCUMENT), "healthcare")
    assert limits == VerticalLimits(
        1600, "TPM", {"vip": 50, "emergency": 20}, "Queue", 6.25, 4, {"acme": 50, "initech": 200}
    )
    assert limits.general == 1530
    plain = parse_limits(json.dumps(DOCUMENT), "sales")  # a release before tiers wrote this
    assert (plain.overflow, plain.reserve, plain.calls_per_second, plain.version) == (
        "Reject", {}, None, 4,
    )  # fmt: skip


def test_a_workers_share_never_adds_up_to_more_than_the_vertical() -> None:
    limits = parse_limits(json.dumps(DOCUMENT), "healthcare")
    share = limits.share(3)
    assert (share.max_sessions, dict(share.reserve)) == (533, {"vip": 16, "emergency": 6})
    assert dict(share.tenants) == {"acme": 16, "initech": 66}
    assert 3 * share.max_sessions <= limits.max_sessions
    assert limits.share(1) is limits and limits.share(0) is limits


def test_a_worker_takes_the_published_pods_as_its_divisor_unless_told() -> None:
    limits = VerticalLimits(1600, "Pods", pods=8)
    assert limits.worker_share().max_sessions == 200  # 1600 // the 8 ready pods published
    assert limits.worker_share(5).max_sessions == 320  # an explicit count wins
    assert VerticalLimits(1600).worker_share().max_sessions == 1600  # one gateway: all of it
    text = '{"verticals": {"healthcare": {"maxSessions": 9, "pods": 3}}}'
    assert parse_limits(text, "healthcare").worker_share().max_sessions == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not JSON"),
        ("[]", "no verticals"),
        ('{"verticals": {}}', "no entry for vertical 'healthcare'"),
        ('{"verticals": {"healthcare": {"maxSessions": -1}}}', "maxSessions must be"),
        ('{"verticals": {"healthcare": {"maxSessions": "800"}}}', "maxSessions must be"),
        ('{"verticals": {"healthcare": {"maxSessions": true}}}', "maxSessions must be"),
        ('{"verticals": {"healthcare": {"maxSessions": 8, "overflow": "Drop"}}}', "overflow"),
        ('{"verticals": {"healthcare": {"maxSessions": 8, "pods": -2}}}', "pods must be"),
        ('{"verticals": {"healthcare": {"maxSessions": 8, "reserve": {"vip": 1.5}}}}', "vip"),
        ('{"verticals": {"healthcare": {"maxSessions": 8, "outbound": {}}}}', "callsPerSecond"),
        ('{"verticals": {"healthcare": {"maxSessions": 8, "tenants": {"acme": "5"}}}}', "acme"),
        ('{"version": "2", "verticals": {"healthcare": {"maxSessions": 8}}}', "version"),
    ],
)
def test_bad_documents_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(LimitsError, match=message):
        parse_limits(text, "healthcare")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def write(path: Path, document: object, version: int) -> None:
    """As the kubelet does: a new file swapped in (a new inode), then its mtime moves."""
    fresh = path.with_suffix(".new")
    fresh.write_text(json.dumps(document) if not isinstance(document, str) else document)
    os.replace(fresh, path)
    os.utime(path, ns=(version * 10**9, version * 10**9))


def test_the_file_is_reread_when_it_changes_and_the_last_good_limits_are_kept(
    tmp_path: Path,
) -> None:
    path = tmp_path / "limits.json"
    clock, reads = Clock(), []
    source = LimitsFile(path, "healthcare", interval=0.25, clock=clock,
                        on_read=lambda limits, error: reads.append((limits, error)))  # fmt: skip
    assert source.current() is None and "No such file" in (source.last_error or "")

    write(path, DOCUMENT, 1)
    assert source.current() is None  # looked 0 s ago: not yet
    clock.now = 0.25
    assert source.current() is not None and source.current().max_sessions == 1600  # type: ignore[union-attr]

    lowered = json.loads(json.dumps(DOCUMENT))
    lowered["verticals"]["healthcare"]["maxSessions"] = 1200
    lowered["version"] = 5
    write(path, lowered, 2)
    clock.now = 0.5
    limits = source.current()
    assert limits is not None and (limits.max_sessions, limits.version) == (1200, 5)

    write(path, "{ corrupt", 3)
    clock.now = 0.75
    kept = source.current()
    assert kept is not None and kept.max_sessions == 1200  # the last good limits
    assert "not JSON" in (source.last_error or "")
    assert reads[-1][1] is not None and reads[-1][0] == kept  # the listener is told both

    path.unlink()
    clock.now = 1.0
    assert source.current() == kept and "No such file" in (source.last_error or "")
    write(path, lowered, 4)
    clock.now = 1.25
    assert source.current() == kept and source.last_error is None
