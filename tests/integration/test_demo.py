"""`make demo` as a user runs it (20 s instead of 60): it must pre-scale, draw, and leave nothing
running."""

from __future__ import annotations

import csv
import re
import struct
import subprocess
import sys
from pathlib import Path

from support.kube import ROOT
from support.servers import alive


def test_the_demo_prescales_draws_a_chart_and_stops_everything(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "demo", "--seconds", "20", "--plain", "--output", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    pids = [int(pid) for pid in re.findall(r"pid (\d+)", out)]
    assert len(pids) == 2  # Prometheus and the operator
    assert not [pid for pid in pids if alive(pid)]
    assert "STILL RUNNING" not in out

    # the live table, the pre-scale notice, the summary
    assert "VERTICAL     LOCAL       CALLS  UTIL  PODS FLOOR  CEIL MODE      NEXT PEAK" in out
    assert re.search(
        r"healthcare: PRE-SCALED for monday-morning \d+ min before it opens at 09:00", out
    )
    # real-estate declares no expectedSessions: its baseline is the forecast from the backfill
    assert re.search(
        r"real-estate: PRE-SCALED for monday-morning \d+ min before it opens at 09:00: "
        r"floor \d+ -> \d+ \(forecast peak \d+ calls, the median of 1[23] past weeks' p99, "
        r"slot by slot\)",
        out,
    )
    # every example vertical has a peak in the run, and each is raised inside its lead time
    assert "pre-scaled peaks: 4" in out
    assert "after it opened" not in out
    assert re.search(r"operator: \d+ fleet cycles, \d+ ms each on average", out)
    assert re.search(r"^healthcare\s+(Sun|Mon) \d\d:\d\d\s+\d+\s+\d+%\s+\d+", out, re.MULTILINE)

    png = (tmp_path / "voicecap-demo.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width > 1000 and height > 1000

    with (tmp_path / "voicecap-demo.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {row["vertical"] for row in rows} == {
        "healthcare",
        "sales",
        "real-estate",
        "after-hours",
    }
    healthcare = [row for row in rows if row["vertical"] == "healthcare"]
    # a quiet night, then the Monday surge: calls rise at least tenfold over the run
    assert max(float(row["calls"]) for row in healthcare) > 10 * min(
        float(row["calls"]) for row in healthcare
    )
    # the operator raised replicas for the surge: 2 at night, more in the peak, under the TPM
    # ceiling (8); the floor pre-scales for 1.5 x the 600 declared calls at 200 per pod (5), in
    # history's shape, and the HPA carries the calls above it
    assert min(int(row["replicas"]) for row in healthcare) == 2
    assert 5 <= max(int(row["replicas"]) for row in healthcare) <= 8
    in_peak = [row for row in healthcare if row["peak"] == "monday-morning"]
    assert in_peak and max(int(row["floor"]) for row in in_peak) >= 5
    assert all(4 <= int(row["floor"]) <= 8 for row in in_peak)
    assert all(float(row["calls"]) <= 200 * int(row["replicas"]) for row in in_peak)
