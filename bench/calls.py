"""The call-level benchmark: calls lost and pods paid, per trace and strategy (issue: right-size).

Every trace is a Monday of calls (bench/callsim/traces.py) run call by call with simpy through a
gateway that rejects a call when every ready slot is busy, under four strategies: voicecap (the
product's own plan() every 15 s over Kubernetes' HPA), the HPA alone, KEDA's cron scaler plus
the HPA, and an oracle with perfect foresight. It prints the rejected calls and the pod-hours
against the oracle's, for today's semantics and, with --before REV, the same yardstick run over
an earlier commit (checked out in a temporary git worktree), side by side.

    python bench/calls.py                        # every trace, after only
    python bench/calls.py --before 35d875e       # before and after, side by side
    python bench/calls.py --traces surge flat --weeks-quantile 1.0
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STRATEGIES = ("voicecap", "hpa", "keda-cron", "oracle")
TARGET_REJECTED = 0.001  # the targets, where a peak is declared or forecastable
TARGET_POD_HOURS = 1.25
TARGET_OVER_HPA = 1.05


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--traces", nargs="*", help="trace names (default: all)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--before", metavar="REV", help="also run the semantics of this commit")
    parser.add_argument(
        "--weeks-quantile", type=float, help="set forecast.weeksQuantile on every trace"
    )
    parser.add_argument("--blocking", type=float, help="set sessions.blockingTarget on every trace")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--emit", action="store_true", help=argparse.SUPPRESS
    )  # one side, JSON to stdout
    parser.add_argument("--tree", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.emit:
        print(json.dumps(measure(args)))
        return 0
    started = time.monotonic()
    after = measure(args)
    before = _run_before(args) if args.before else None
    print(table(after, before, args.before))
    print(f"\n({time.monotonic() - started:.0f} s; seed {args.seed})")
    if args.json:
        args.json.write_text(json.dumps({"after": after, "before": before}, indent=2))
    return 0


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Every chosen trace under every strategy, with the product importable as `voicecap`."""
    if args.tree.resolve() != ROOT:  # --before: only that tree's voicecap (a namespace package
        # would otherwise merge this checkout's modules in, through the editable install)
        ours = (ROOT / "operator").resolve()
        sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != ours]
        sys.path.insert(0, str(args.tree / "operator"))
    sys.path.insert(0, str(HERE))
    from callsim import product, sim  # noqa: PLC0415

    if not Path(product.PLAN_MODULE.__file__ or "").is_relative_to(args.tree.resolve()):
        raise SystemExit(f"{product.PLAN_MODULE.__name__} is not from {args.tree}")
    from callsim.history import Forecaster  # noqa: PLC0415
    from callsim.traces import traces  # noqa: PLC0415

    results: dict[str, Any] = {}
    for trace in traces(args.tree):
        if args.traces and trace.name not in args.traces:
            continue
        spec = json.loads(json.dumps(trace.spec))
        if args.weeks_quantile is not None:
            spec.setdefault("forecast", {})["weeksQuantile"] = args.weeks_quantile
        if args.blocking is not None:
            spec["sessions"]["blockingTarget"] = args.blocking
        measured = dataclasses.replace(trace, spec=spec)
        try:
            product.Planner.capacity(spec)
        except ValueError as error:  # a field this release does not have (--before)
            print(f"{trace.name}: skipped, this release refuses its spec: {error}", file=sys.stderr)
            continue
        forecaster = Forecaster(measured, product.Planner, args.seed)
        row: dict[str, Any] = {"about": trace.about, "judged": trace.judged}
        for strategy in STRATEGIES:
            outcome = sim.run(measured, strategy, product.Planner, forecaster, args.seed)
            row[strategy] = {
                "offered": outcome.offered,
                "rejected": outcome.rejected,
                "podHours": round(outcome.pod_hours, 2),
                "floorChanges": outcome.floor_changes,
                "alerts": sorted(outcome.alerts),
            }
        row["expectAlerts"] = sorted(trace.expect_alerts)
        results[trace.name] = row
    return results


def _run_before(args: argparse.Namespace) -> dict[str, Any]:
    """The same benchmark over REV's product, in a worktree and a process of its own."""
    with tempfile.TemporaryDirectory(prefix="voicecap-before-") as folder:
        tree = Path(folder) / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), args.before],
                       check=True, capture_output=True, timeout=60)  # fmt: skip
        try:
            command = [sys.executable, str(HERE / "calls.py"), "--emit", "--tree", str(tree),
                       "--seed", str(args.seed)]  # fmt: skip
            if args.traces:
                command += ["--traces", *args.traces]
            if args.weeks_quantile is not None:
                command += ["--weeks-quantile", str(args.weeks_quantile)]
            env = {**os.environ, "PYTHONPATH": str(tree / "operator")}
            done = subprocess.run(
                command, env=env, capture_output=True, text=True, timeout=3600, check=False
            )
            if done.returncode != 0:
                raise SystemExit(f"--before {args.before} failed:\n{done.stderr[-3000:]}")
            return json.loads(done.stdout)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                           check=False, capture_output=True, timeout=60)  # fmt: skip


def _figures(row: dict[str, Any], strategy: str) -> tuple[str, str]:
    oracle = row["oracle"]["podHours"]
    cell = row[strategy]
    rejected = cell["rejected"] / cell["offered"] if cell["offered"] else 0.0
    ratio = cell["podHours"] / oracle if oracle else float("nan")
    return f"{rejected:.2%}", f"{ratio:.2f}"


def table(after: dict[str, Any], before: dict[str, Any] | None, rev: str | None) -> str:
    """Rejected calls and pod-hours / oracle, per trace and strategy; before beside after."""
    head = ["trace", "strategy"]
    if before is not None:
        head += [f"rejected ({rev})", "pod-h/oracle", "rejected (now)", "pod-h/oracle"]
    else:
        head += ["rejected", "pod-h/oracle"]
    lines = [head]
    notes = []
    for name, row in after.items():
        for strategy in STRATEGIES:
            cells = [name, strategy]
            if before is not None:
                cells += _figures(before[name], strategy) if name in before else ["-", "-"]
            cells += _figures(row, strategy)
            lines.append(cells)
        notes.append(_verdict(name, row, before.get(name) if before else None))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    text = "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in lines
    )
    return text + "\n\n" + "\n".join(notes)


def _verdict(name: str, row: dict[str, Any], before: dict[str, Any] | None) -> str:
    """Alerts and floor changes of voicecap, and the issue's targets where they apply."""
    voicecap, oracle, hpa = row["voicecap"], row["oracle"]["podHours"], row["hpa"]
    rejected = voicecap["rejected"] / max(voicecap["offered"], 1)
    parts = [f"{name}: alerts {', '.join(voicecap['alerts']) or 'none'}"]
    if before is not None:
        parts.append(f"(before: {', '.join(before['voicecap']['alerts']) or 'none'})")
    parts.append(f"floor changes {voicecap['floorChanges']}")
    if before is not None:
        parts.append(f"(before: {before['voicecap']['floorChanges']})")
    if row["judged"]:
        met = rejected <= TARGET_REJECTED and voicecap["podHours"] <= TARGET_POD_HOURS * oracle
        if hpa["rejected"] == 0:
            met = met and voicecap["podHours"] <= TARGET_OVER_HPA * hpa["podHours"]
        parts.append("targets met" if met else "TARGETS MISSED")
    if row["expectAlerts"]:
        missing = set(row["expectAlerts"]) - set(voicecap["alerts"])
        parts.append(
            "expected alerts fired" if not missing else f"MISSING ALERTS {sorted(missing)}"
        )
    return " ".join(parts)


if __name__ == "__main__":
    raise SystemExit(main())
