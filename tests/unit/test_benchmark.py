"""bench/calls.py runs, and holds what the right-sizing promised on its traces: no steady-state
floor change or alert, the alerts where the declared peak is a third of the calls, and the
surge served without a busy signal at under 1.25x the oracle's pod-hours. Not a timing test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from support.objects import ROOT


def test_the_call_level_benchmark_keeps_its_promises(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    traces = ["surge", "flat", "under-declared", "holiday", "holiday-excluded"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "calls.py"), "--traces", *traces, "--json", figures],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "surge: alerts none" in done.stdout and "targets met" in done.stdout
    after = json.loads(figures.read_text())["after"]
    for trace in after.values():
        assert trace["oracle"]["rejected"] == 0  # perfect foresight loses nothing
    surge = after["surge"]
    assert surge["voicecap"]["rejected"] == 0 < surge["hpa"]["rejected"]
    assert surge["voicecap"]["podHours"] <= 1.25 * surge["oracle"]["podHours"]
    flat = after["flat"]["voicecap"]
    assert (flat["floorChanges"], flat["alerts"]) == (0, [])
    assert after["under-declared"]["voicecap"]["alerts"] == ["BurstAboveFactor", "NearCeiling"]
    # a holiday Monday: pre-scaled for a surge that does not come, unless it is excluded (KEDA's
    # cron has no excluded days)
    holiday, excluded = after["holiday"], after["holiday-excluded"]
    assert holiday["voicecap"]["podHours"] > 2 * holiday["oracle"]["podHours"]
    assert excluded["voicecap"]["podHours"] == excluded["oracle"]["podHours"]
    assert excluded["voicecap"]["floorChanges"] == 0
    assert excluded["keda-cron"]["podHours"] == holiday["keda-cron"]["podHours"]
