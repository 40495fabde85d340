"""Faults of the real control plane at fleet scale, each injected and counted.

    .venv/bin/python bench/faults.py [--objects 500] [--only NAME ...]   (make bench-faults)

The fleet and the faults are tests/support/fault_fleet.py (tests/e2e/test_faults.py runs two of
them at 20 objects in `make test`). Prints one table row per fault; docs/reliability.md has the
table of a run.
"""

from __future__ import annotations

import argparse
import faulthandler
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support import fault_fleet  # noqa: E402
from support.fault_fleet import INTERVAL, Fleet, Row  # noqa: E402

FAULTS = (
    "blip-before", "blip", "adapter", "prometheus", "apiserver", "etcd", "throttle", "gone",
    "sigkill",
)  # fmt: skip


def faults(fleet: Fleet, only: set[str]) -> Iterator[Row]:
    """Each fault's row as soon as it is measured."""

    def want(name: str) -> bool:
        return not only or name in only

    if want("blip-before"):
        # "before" the graces: every failed query and every failed HPA sync counts
        fleet.start_operator("--hpa-metric-grace=1s", "--prometheus-failure-grace=1s")
        yield fault_fleet.metric_source_paused(
            fleet, "prometheus", 10, name="Prometheus paused 10 s (graces 1 s: before)"
        )
        fleet.start_operator()
    if want("blip"):
        yield fault_fleet.metric_source_paused(fleet, "prometheus", 10)
    if want("adapter"):
        yield fault_fleet.stopped(fleet, "prometheus-adapter", 120)
    if want("prometheus"):
        yield fault_fleet.stopped(fleet, "prometheus", 180)
    if want("apiserver"):
        yield fault_fleet.stopped(
            fleet, "kube-apiserver", 60, name="kube-apiserver restart (60 s down)"
        )
    if want("etcd"):
        yield fault_fleet.stopped(fleet, "etcd", 30, name="etcd restart (30 s down, data kept)")
    if want("throttle"):
        yield fault_fleet.throttling(fleet, 90)
    if want("gone"):
        yield fault_fleet.watch_gone(fleet, 10)
    if want("sigkill"):
        yield fault_fleet.operator_killed(fleet, 10)


def print_header(size: int) -> None:
    print(f"\n{size} VoiceCapacities, --interval {INTERVAL}, HPA sync 15s; 20 changes per fault")
    print("| fault | floor decreases while blind | HPAs without their metric "
          "| operator writes (per object) | 429s | changes lost | s to recover "
          "| lists / watch restarts / pruned | note |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|", flush=True)


def print_row(size: int, row: Row) -> None:
    recovered = f"{row.recovered:.1f}" if row.recovered is not None else "timeout"
    top = ", ".join(f"{k} {v}" for k, v in row.by_resource.most_common(4))
    print(f"| {row.fault} | {row.decreases} | {row.unread} | {row.writes} "
          f"({row.writes / size:.2f}; {row.objects} objects; {top}) | {row.throttled} "
          f"| {row.lost} | {recovered} | {row.lists} / {row.restarts} / {row.pruned} "
          f"| {row.note} |", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=500, help="VoiceCapacities (default 500)")
    parser.add_argument(
        "--only", action="append", default=[],
        choices=FAULTS,
        help="run only this fault (repeatable; default: all, in this order)",
    )  # fmt: skip
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop everything by PID on kill
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1` prints where it waits
    with TemporaryDirectory(prefix="voicecap-faults-") as workdir:
        fleet = Fleet(Path(workdir), args.objects)
        try:
            fleet.populate()
            fleet.start_operator()
            print(f"converged in {fleet.converge():.0f}s", flush=True)
            print_header(args.objects)
            for row in faults(fleet, set(args.only)):
                print_row(args.objects, row)
        finally:
            fleet.close()


if __name__ == "__main__":
    main()
