"""The call-level benchmark: calls lost and pods paid, per trace and strategy (issue: right-size).

Every trace is a Monday of calls (bench/callsim/traces.py) run call by call with simpy through a
gateway that rejects a call when every ready slot is busy, under five strategies: voicecap (the
product's own plan() every 15 s over Kubernetes' HPA, from what it is told), voicecap-measured
(the same from what it measures: latency, tokens, the calls offered), the HPA alone, KEDA's cron
scaler plus the HPA, and an oracle with perfect foresight at the TRUE capacity. It prints the
rejected calls and the pod-hours against the oracle's and, where the truth differs from the
declaration (callsim/truth.py), the callers who hung up, the calls the provider refused (429) and
the call-minutes over the latency target; for today's semantics and, with --before REV, the same
yardstick run over an earlier commit (checked out in a temporary git worktree), side by side.

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
STRATEGIES = ("voicecap", "voicecap-measured", "hpa", "keda-cron", "keda-week", "oracle")
TARGET_REJECTED = 0.001  # the targets, where a peak is declared or forecastable
TARGET_POD_HOURS = 1.15
TARGET_OVER_HPA = 1.05
TARGET_MEASURED_POD_HOURS = 1.25  # measured inputs, against the oracle at the true capacity
TARGET_OVER_LATENCY = 0.005  # measured inputs: call-minutes over the latency target


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
    parser.add_argument(
        "--trend", choices=("Off", "Weekly"), help="set forecast.trend on every trace"
    )
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
    from callsim.calibration import previous_day  # noqa: PLC0415
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
        if args.trend is not None:
            spec.setdefault("forecast", {})["trend"] = args.trend
        refused = _refused(product, spec)
        if refused is not None and _without_auto_lead_time(spec):
            refused = _refused(product, spec)
        if refused is not None:  # a field this release does not have (--before)
            print(
                f"{trace.name}: skipped, this release refuses its spec: {refused}", file=sys.stderr
            )
            continue
        measured = dataclasses.replace(trace, spec=spec)
        forecaster = Forecaster(measured, product.Planner, args.seed)
        row: dict[str, Any] = {"about": trace.about, "judged": trace.judged}
        for strategy in STRATEGIES:
            if strategy == "voicecap-measured" and not product.MEASURES:
                continue  # a release before measured inputs (--before)
            calibration = (
                previous_day(measured, product.Planner, forecaster, args.seed)
                if strategy == "voicecap-measured"
                else None
            )
            outcome = sim.run(
                measured, strategy, product.Planner, forecaster, args.seed, calibration
            )
            row[strategy] = _cell(outcome)
        row["expectAlerts"] = sorted(trace.expect_alerts)
        results[trace.name] = row
    return results


def _cell(outcome: Any) -> dict[str, Any]:
    cell = {
        "offered": outcome.offered,
        "rejected": outcome.rejected,
        "podHours": round(outcome.pod_hours, 2),
        "floorChanges": outcome.floor_changes,
        "alerts": sorted(outcome.alerts),
    }
    if outcome.strategy == "oracle":
        cell["heldPodHours"] = round(outcome.held_pod_seconds / 3600, 2)
    voice = outcome.voice
    if voice is not None:  # the voice world (a Truth, or measured inputs)
        cell |= {
            "hungUp": voice.hung_up,
            "rateLimited": voice.rate_limited,
            "callMinutes": round(voice.call_seconds / 60, 1),
            "overTargetMinutes": round(voice.over_target_seconds / 60, 1),
        }
    return cell


def _refused(product: Any, spec: dict[str, Any]) -> str | None:
    try:
        product.Planner.capacity(spec)
    except ValueError as error:
        return str(error)
    return None


def _without_auto_lead_time(spec: dict[str, Any]) -> bool:
    """A release before `leadTime: auto` planned every peak 10m ahead (its default): run it so,
    rather than skip the trace. True if a lead time was replaced."""
    replaced = False
    for peak in spec.get("peaks", []):
        if peak.get("leadTime") == "auto":
            peak["leadTime"], replaced = "10m", True
    return replaced


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
            if args.trend is not None:
                command += ["--trend", args.trend]
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


def _figures(row: dict[str, Any], strategy: str) -> list[str]:
    """rejected, pod-h/oracle, hung up, 429, over target ('-' outside the voice world)."""
    if strategy not in row:
        return ["-"] * 5
    oracle = row["oracle"]["podHours"]
    cell = row[strategy]
    offered = cell["offered"] or 1
    ratio = cell["podHours"] / oracle if oracle else float("nan")
    figures = [f"{cell['rejected'] / offered:.2%}", f"{ratio:.2f}"]
    if "hungUp" not in cell:
        return [*figures, "-", "-", "-"]
    over = cell["overTargetMinutes"] / cell["callMinutes"] if cell["callMinutes"] else 0.0
    return [
        *figures,
        f"{cell['hungUp'] / offered:.2%}",
        str(cell["rateLimited"]),
        f"{over:.2%}",
    ]


FIGURES = ("rejected", "pod-h/oracle", "hung-up", "429", "over-target")


def table(after: dict[str, Any], before: dict[str, Any] | None, rev: str | None) -> str:
    """Per trace and strategy: rejected calls, pod-hours / oracle, callers who hung up, calls
    the provider refused and call-minutes over the latency target; before beside after."""
    head = ["trace", "strategy"]
    if before is not None:
        head += [f"{name} ({rev})" for name in FIGURES] + [f"{name} (now)" for name in FIGURES]
    else:
        head += list(FIGURES)
    lines = [head]
    notes = []
    for name, row in after.items():
        for strategy in STRATEGIES:
            cells = [name, strategy]
            if before is not None:
                cells += _figures(before[name], strategy) if name in before else ["-"] * 5
            cells += _figures(row, strategy)
            lines.append(cells)
        notes.append(_verdict(name, row, before.get(name) if before else None))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    text = "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in lines
    )
    return text + "\n\n" + "\n".join(notes)


def _measured_verdict(row: dict[str, Any], measured: dict[str, Any]) -> str:
    """The issue's targets for measured inputs: call-minutes over the latency target at most
    0.5 %, no 429, at most 1.25x the true oracle's pod-hours; no call lost the oracle keeps."""
    over = measured["overTargetMinutes"] / max(measured["callMinutes"], 1e-9)
    lost = measured["rejected"] + measured["hungUp"] + measured["rateLimited"]
    oracle = row["oracle"]
    met = (
        over <= TARGET_OVER_LATENCY
        and measured["rateLimited"] == 0
        and measured["podHours"] <= TARGET_MEASURED_POD_HOURS * oracle["podHours"]
        and lost <= oracle["rejected"] + TARGET_REJECTED * measured["offered"]
    )
    return "measured: targets met" if met else "measured: TARGETS MISSED"


def _beats(one: dict[str, Any], other: dict[str, Any]) -> bool:
    """`one` is no worse than `other` on rejected calls and pod-hours, and better on one."""
    calls, pods = one["rejected"] - other["rejected"], one["podHours"] - other["podHours"]
    return calls <= 0 and pods <= 0 and (calls < 0 or pods < 0)


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
        for peer in ("keda-cron", "keda-week"):  # no KEDA set-up beats it on both axes
            other = row.get(peer)
            if other is not None and _beats(other, voicecap):
                met = False
                parts.append(f"{peer} beats it")
        parts.append("targets met" if met else "TARGETS MISSED")
        held = row["oracle"].get("heldPodHours")
        if held:
            parts.append(f"(x{voicecap['podHours'] / held:.2f} the oracle held as its HPA)")
    measured = row.get("voicecap-measured")
    if measured is not None and "hungUp" in row["voicecap"]:
        parts.append(_measured_verdict(row, measured))
    if row["expectAlerts"]:
        missing = set(row["expectAlerts"]) - set(voicecap["alerts"])
        parts.append(
            "expected alerts fired" if not missing else f"MISSING ALERTS {sorted(missing)}"
        )
    return " ".join(parts)


if __name__ == "__main__":
    raise SystemExit(main())
