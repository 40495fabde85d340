"""cli/replay_chart.py: `voicecap replay --png`: one panel per vertical, its height following the
number of verticals."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path

from support.objects import capacity, vertical_body
from voicecap.api.models import VoiceCapacity
from voicecap.cli import replay_chart
from voicecap.core.replay.strategies import Point, replay

START = datetime(2026, 11, 23, 12, tzinfo=UTC)
END = START + timedelta(hours=2)


def replayed(vcap: VoiceCapacity) -> tuple[VoiceCapacity, dict]:  # type: ignore[type-arg]
    points = [Point(START + timedelta(minutes=i), 100.0 + 5 * i) for i in range(121)]
    return vcap, replay(vcap, points, step=timedelta(minutes=1), forecasts={})


def size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_one_panel_per_vertical(tmp_path: Path) -> None:
    one, two = tmp_path / "one.png", tmp_path / "two.png"
    replay_chart.write(one, [replayed(capacity())], START, END)
    sales = VoiceCapacity.model_validate(vertical_body("sales"))
    replay_chart.write(two, [replayed(capacity()), replayed(sales)], START, END)
    (w1, h1), (w2, h2) = size(one), size(two)
    assert w1 == w2 and h2 > 1.8 * h1
