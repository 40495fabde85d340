"""What an admission decision of voicecap-kit costs in process, and how soon a changed
limits.json is obeyed: the numbers kit/README.md quotes.

    .venv/bin/python bench/kit_decisions.py [--decisions 200000] [--changes 20]

Decisions: try_admit then release, on a LimitsFile (stat at most every 0.25 s) with the metrics
observer, as a gateway runs it; p50, p99 and max in microseconds. Changes: a new version of the
file swapped in (as the kubelet swaps a ConfigMap) while a caller decides every millisecond;
seconds until a decision runs on the new version.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "kit" / "src"))

from voicecap_kit.admission import Admission
from voicecap_kit.limits import LimitsFile
from voicecap_kit.metrics import Identity, VoiceMetrics


def write(path: Path, version: int) -> None:
    entry = {"maxSessions": 1000, "reason": "Pods", "reserve": {"vip": 50}}
    fresh = path.with_suffix(".new")
    fresh.write_text(json.dumps({"version": version, "verticals": {"healthcare": entry}}))
    os.replace(fresh, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--decisions", type=int, default=200_000)
    parser.add_argument("--changes", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "limits.json"
        write(path, 1)
        metrics = VoiceMetrics(Identity("voice", "healthcare", "bench"))
        source = LimitsFile(path, "healthcare", on_read=metrics.limits_read)
        gate = Admission(source.current, observer=metrics.observe)
        costs = []
        for index in range(args.decisions):
            started = time.perf_counter_ns()
            decision = gate.try_admit("vip" if index % 10 == 0 else None)
            if decision.ticket is not None:
                decision.ticket.release()
            costs.append(time.perf_counter_ns() - started)
        costs.sort()
        p50, p99 = costs[len(costs) // 2], costs[int(len(costs) * 0.99)]
        print(
            f"decision (admit + release, metrics on): p50 {p50 / 1000:.1f} us, "
            f"p99 {p99 / 1000:.1f} us, max {costs[-1] / 1000:.1f} us over {args.decisions:,}"
        )
        delays = []
        for version in range(2, args.changes + 2):
            calm = time.monotonic() + random.uniform(0.3, 0.6)
            while time.monotonic() < calm:  # a caller deciding every millisecond meanwhile
                gate.limits()
                time.sleep(0.001)
            write(path, version)
            changed = time.monotonic()
            while (limits := gate.limits()) is None or limits.version != version:
                time.sleep(0.001)
            delays.append(time.monotonic() - changed)
        print(
            f"a changed limits.json obeyed after: median {statistics.median(delays):.3f} s, "
            f"max {max(delays):.3f} s over {args.changes} changes (LimitsFile interval 0.25 s)"
        )


if __name__ == "__main__":
    main()
