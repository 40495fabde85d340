"""Forecast refresh cost against a real Prometheus with backfilled history.

Backfills 15 weeks of synthetic sessions for V verticals (tests/support/history.py, 1-minute
ramps inside Monday windows, a sample every 2 minutes otherwise) with promtool, then refreshes
the forecasts of N VoiceCapacities spread over 5 window shapes, as the operator's HistoryCache
does, and prints the queries and their latency by kind, and one `voicecap replay` of a day.

    .venv/bin/python bench/forecast_queries.py [--verticals 50] [--objects 1000 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.history import Vertical, write_openmetrics  # noqa: E402
from support.objects import BASE_CAPACITY  # noqa: E402
from support.servers import Prometheus  # noqa: E402
from voicecap.adapters.history import PrometheusHistory  # noqa: E402
from voicecap.adapters.metrics import OperatorMetrics  # noqa: E402
from voicecap.api.models import VoiceCapacity  # noqa: E402
from voicecap.service.clock import Clock  # noqa: E402
from voicecap.service.history import HistoryCache  # noqa: E402

AT = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # Monday 08:00 New York
SHAPES = [
    ("0 9 * * MON", "America/New_York", "2h"),
    ("0 9 * * MON", "America/Chicago", "2h"),
    ("0 9 * * MON", "America/New_York", "3h"),
    ("0 8 * * TUE-FRI", "America/New_York", "90m"),
    ("0 18 * * MON-FRI", "Europe/London", "14h"),
]


def fleet(count: int, verticals: int) -> list[VoiceCapacity]:
    objects = []
    for index in range(count):
        schedule, zone, duration = SHAPES[index % len(SHAPES)]
        body = copy.deepcopy(BASE_CAPACITY)
        body["metadata"] = {"name": f"v{index}", "namespace": "voice"}
        body["spec"]["vertical"] = f"vertical-{index % verticals}"
        body["spec"].pop("model")
        body["spec"]["peaks"] = [
            {"name": "peak", "schedule": schedule, "duration": duration, "timeZone": zone}
        ]
        objects.append(VoiceCapacity.model_validate(body))
    return objects


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verticals", type=int, default=50)
    parser.add_argument("--objects", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="voicecap-bench-") as workdir:
        work = Path(workdir)
        history = [
            Vertical(
                "voice", f"vertical-{index}", "America/New_York",
                anchor=datetime(2026, 11, 23, 9, 0), minutes=120,  # noqa: DTZ001 (wall time)
                bases={k: 300.0 + index - 5 * k for k in range(16)}, missing=frozenset({3}),
            )
            for index in range(args.verticals)
        ]  # fmt: skip
        started = time.perf_counter()
        path = write_openmetrics(work / "history.om", history)
        samples = sum(1 for _ in path.open()) - 2
        prometheus = Prometheus(work, [], history=path)
        print(f"backfilled {samples:,} samples ({args.verticals} verticals, 15 weeks) with "
              f"promtool and started Prometheus in {time.perf_counter() - started:.1f} s")  # fmt: skip
        try:
            for count in args.objects:
                metrics = OperatorMetrics()
                source = PrometheusHistory(prometheus.url)
                cache = HistoryCache(source, Clock(AT, speed=0), metrics)
                objects = fleet(count, args.verticals)
                started = time.perf_counter()
                asyncio.run(cache.refresh(objects))
                seconds = time.perf_counter() - started
                views = time.perf_counter()
                ready = sum(
                    1 for o in objects if cache.view(o).forecasts["peak"].reason == "Forecast"
                )
                views = time.perf_counter() - views
                source.close()
                print(f"{count:>6} objects, {len(SHAPES)} shapes: refresh {seconds:.2f} s, "
                      f"{ready} forecasts, building every view {views:.2f} s")  # fmt: skip
                for kind in ("forecast", "burst"):
                    labels = {"kind": kind}
                    n = metrics.registry.get_sample_value(
                        "voicecap_prometheus_query_duration_seconds_count", labels
                    )
                    total = metrics.registry.get_sample_value(
                        "voicecap_prometheus_query_duration_seconds_sum", labels
                    )
                    print(f"         {kind:<8} queries: {n:.0f}, {total:.2f} s in all")
            vcaps = work / "vcaps.yaml"
            vcaps.write_text(
                "\n---\n".join(o.model_dump_json(by_alias=True) for o in fleet(10, args.verticals))
            )
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "voicecap.cli", "replay", str(vcaps),
                 "--prometheus-url", prometheus.url, "--from", "2026-11-16T00:00:00Z",
                 "--to", "2026-11-17T00:00:00Z", "-o", "json"],
                check=True, capture_output=True, timeout=600,
            )  # fmt: skip
            print(f"voicecap replay of 10 objects over one day at 1m steps: "
                  f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        finally:
            prometheus.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
