"""`voicecap replay` over the demo's last recorded Monday, as docs/forecasting.md shows it: the
demo's 13 weeks of history (demo/history.py) backfilled into a real Prometheus, then the replay
of examples/ from 07:00 to 14:00 New York, per vertical and strategy. With --before REV the same
replay runs with REV's product (a git worktree), side by side.

    .venv/bin/python bench/replay_demo.py [--before REV] [--step 1m] [--pod-startup 2m]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from demo.__main__ import START  # noqa: E402
from demo.history import write_history  # noqa: E402
from demo.traffic import verticals  # noqa: E402
from support.servers import Prometheus  # noqa: E402

MONDAY = ("2026-11-16T12:00:00Z", "2026-11-16T19:00:00Z")  # 07:00-14:00 New York


def replay(tree: Path, url: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    """The replay's JSON rows, with `tree`'s product."""
    command = [
        sys.executable, "-m", "voicecap.cli", "replay", *map(str, sorted((tree / "examples").glob("*.yaml"))),
        "--prometheus-url", url, "--from", MONDAY[0], "--to", MONDAY[1],
        "--step", args.step, "--pod-startup", args.pod_startup, "-o", "json",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(tree / "operator")}
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"replay with {tree} failed:\n{done.stderr[-3000:]}")
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return rows


def figures(rows: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[float, float, float]]:
    """(vertical, strategy) -> (blocked call-minutes, pod-hours, x the oracle)."""
    found = {}
    for row in rows:
        for name, strategy in row["strategies"].items():
            found[(row["vertical"], name)] = (
                strategy["blockedCallMinutes"],
                strategy["podHours"],
                strategy["podHoursToOracle"],
            )
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", metavar="REV", help="also replay with this commit's product")
    parser.add_argument("--step", default="1m")
    parser.add_argument("--pod-startup", default="2m")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="voicecap-replay-") as folder:
        work = Path(folder)
        history = write_history(work / "history.om", verticals(), until=START)
        prometheus = Prometheus(work, [], history=history)
        try:
            after = figures(replay(ROOT, prometheus.url, args))
            before = None
            if args.before:
                tree = work / "before"
                subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), args.before],
                               check=True, capture_output=True, timeout=60)  # fmt: skip
                try:
                    before = figures(replay(tree, prometheus.url, args))
                finally:
                    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                                   check=False, capture_output=True, timeout=60)  # fmt: skip
        finally:
            prometheus.stop()
    head = "vertical      strategy     "
    head += f"{'blocked/pod-h/x (' + args.before + ')':>34}  " if before else ""
    print(head + f"{'blocked call-min':>16} {'pod-hours':>9} {'x oracle':>8}")
    for (vertical, strategy), (blocked, hours, ratio) in after.items():
        line = f"{vertical:<13} {strategy:<12} "
        if before is not None:
            was = before.get((vertical, strategy))
            line += f"{'-' if was is None else f'{was[0]:g} / {was[1]:g} / {was[2]:g}':>34}  "
        print(line + f"{blocked:>16g} {hours:>9g} {ratio:>8g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
