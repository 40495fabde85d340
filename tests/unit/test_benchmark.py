"""bench/calls.py runs, and holds what the right-sizing promised on its traces: no steady-state
floor change or alert, the alerts where the declared peak is a third of the calls, and the
surge served without a busy signal at under 1.25x the oracle's pod-hours; and what measured
inputs promised: with right inputs nothing changes, with wrong ones no call-minute over the
latency target, no 429 and no more than 1.25x the true oracle's pod-hours. Not a timing test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from support.objects import ROOT


def test_the_call_level_benchmark_keeps_its_promises(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    traces = ["surge", "flat", "under-declared", "holiday", "holiday-excluded"]
    traces += ["perpod-over", "tokens-under", "censored"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "calls.py"), "--traces", *traces, "--json", figures],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "surge: alerts none" in done.stdout and "targets met" in done.stdout
    after = json.loads(figures.read_text())["after"]
    for name, trace in after.items():
        if name != "tokens-under":  # where the provider's cap binds, even the oracle refuses
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

    # measured inputs: right ones change nothing...
    for name in ("surge", "flat", "holiday"):
        told, measured = after[name]["voicecap"], after[name]["voicecap-measured"]
        assert (measured["rejected"], measured["podHours"]) == (told["rejected"], told["podHours"])
    # ...wrong ones: declared loses calls or latency, measured does not
    over = after["perpod-over"]
    assert over["voicecap"]["overTargetMinutes"] > 0.05 * over["voicecap"]["callMinutes"]
    assert over["voicecap-measured"]["overTargetMinutes"] == 0
    assert over["voicecap-measured"]["podHours"] <= 1.25 * over["oracle"]["podHours"]
    tokens = after["tokens-under"]
    assert tokens["voicecap"]["rateLimited"] > 0 == tokens["voicecap-measured"]["rateLimited"]
    assert tokens["voicecap-measured"]["rejected"] <= tokens["oracle"]["rejected"]
    censored = after["censored"]
    assert censored["voicecap"]["rejected"] > 0 == censored["voicecap-measured"]["rejected"]
