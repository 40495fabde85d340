"""cli/replay.py: `voicecap replay`: its checks before it asks Prometheus anything, and a
recorded day replayed beside the alternatives (against a double here; tests/integration replays
from a real Prometheus)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from support.cli import run, write_manifests
from support.objects import EXAMPLES, capacity_body
from support.world import FixedHistory


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--cost-per-pod-hour", "-1"], "--cost-per-pod-hour must be 0 or more, not -1"),
        (["--cost-per-pod-hour", "nan"], "--cost-per-pod-hour must be 0 or more, not nan"),
    ],
)
def test_replay_refuses_a_negative_price_before_asking_prometheus(
    capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    code, out, err = run(
        capsys, "replay", str(EXAMPLES[0]), "--prometheus-url", "http://127.0.0.1:9",
        "--from", "2026-11-16T12:00:00Z", "--to", "2026-11-16T19:00:00Z", *extra,
    )  # fmt: skip
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [f"voicecap: {message}"]


class Recorded(FixedHistory):
    """Prometheus as `voicecap replay` reads it: a recorded day, and weekly values."""

    def __init__(self, calls: Callable[[datetime], float]) -> None:
        super().__init__()
        self.calls = calls
        self.weekly = {"healthcare": 600.0}

    def series(
        self, query: str, start: datetime, end: datetime, *, step_seconds: int, batched: bool
    ) -> dict[tuple[str, str], list[tuple[datetime, float]]]:
        count = int((end - start).total_seconds() // step_seconds) + 1
        moments = [start + timedelta(seconds=i * step_seconds) for i in range(count)]
        return {("voice", "healthcare"): [(m, self.calls(m)) for m in moments]}

    def close(self) -> None:
        pass


def surge(moment: datetime) -> float:
    """100 calls, and 800 from 09:00 to 11:00 New York (14:00-16:00 UTC)."""
    return 800.0 if 14 <= moment.hour < 16 else 100.0


def test_a_recorded_monday_replayed_beside_the_alternatives(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("voicecap.cli.replay.connect", lambda args: Recorded(surge))
    files = write_manifests(tmp_path, "vcap.yaml", capacity_body())
    code, out, err = run(
        capsys, "replay", str(files), "--prometheus-url", "http://127.0.0.1:9",
        "--from", "2026-11-23T12:00:00Z", "--to", "2026-11-23T18:00:00Z", "-o", "json",
        "--png", str(tmp_path / "replay.png"),
    )  # fmt: skip
    assert code == 0, err
    (result,) = json.loads(out)
    strategies = result["strategies"]
    assert set(strategies) == {"voicecap", "reactive", "keda-cron", "keda-week", "oracle", "fixed"}
    assert strategies["oracle"]["blockedCallMinutes"] == 0
    # the double records the same day every week: last week's 09:00 is read from 08:30
    assert strategies["keda-week"]["blockedCallMinutes"] == 0
    assert strategies["reactive"]["blockedCallMinutes"] > 0
    assert (
        strategies["voicecap"]["blockedCallMinutes"] <= strategies["reactive"]["blockedCallMinutes"]
    )
    assert (tmp_path / "replay.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
