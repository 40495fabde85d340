"""The `voicecap` command line: offline commands (plan, rules, crds), the history commands
(forecast, replay) and `run`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import shtab

from voicecap.cli import offline
from voicecap.cli.args import EXIT_INVALID, UsageError, add_runbook_flag, duration, instant
from voicecap.cli.calendar import add_calendar
from voicecap.cli.history_commands import add_history_commands
from voicecap.cli.output import OUTPUTS
from voicecap.cli.run import add_run


def _version() -> str:
    try:
        return metadata.version("voicecap-operator")
    except metadata.PackageNotFoundError:  # run from a source tree that was not installed
        return "unknown"


FILES_HELP = "YAML or JSON files, directories (recursed for .yaml, .yml, .json) or - for stdin"


def main(argv: Sequence[str] | None = None) -> int:
    """The `voicecap` command: parse, run the command's handler, and turn a UsageError into one
    line on stderr and exit 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except UsageError as error:
        for line in str(error).splitlines():
            print(f"voicecap: {line}", file=sys.stderr)
        return EXIT_INVALID
    except BrokenPipeError:  # `voicecap plan ... | head`
        return 0


def build_parser() -> argparse.ArgumentParser:
    """Every command and flag: the one source `--help`, the chart's tests and docs read."""
    parser = argparse.ArgumentParser(
        prog="voicecap",
        description="Keep voice-AI agent fleets ahead of their concurrent-call peaks.",
    )
    parser.add_argument("--version", action="version", version=f"voicecap {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    plan = commands.add_parser(
        "plan",
        help="plan floors and ceilings for VoiceCapacity/TokenBudget YAML files, no cluster needed",
        description="Plan floors and ceilings for VoiceCapacity and TokenBudget objects in YAML "
        "files (multi-document files and kind: List work), without a cluster.",
    )
    plan.add_argument("files", nargs="+", metavar="FILE", help=FILES_HELP).complete = shtab.FILE  # type: ignore[attr-defined]
    plan.add_argument(
        "--at",
        type=instant,
        help="plan at this instant, ISO 8601 with an offset (2026-11-23T08:55:00-05:00); "
        "default: now",
    )
    plan.add_argument(
        "--sessions",
        action="append",
        default=[],
        metavar="VERTICAL=N",
        help="active sessions of a vertical (or NAMESPACE/VERTICAL=N); repeatable; "
        "verticals without a value plan as unknown",
    )
    plan.add_argument(
        "--ready",
        action="append",
        default=[],
        metavar="VERTICAL=N",
        help="ready pods of a vertical, for utilization and headroom; default: the floor",
    )
    plan.add_argument("--output", "-o", choices=OUTPUTS, default="table")
    plan.set_defaults(handler=offline.plan)

    rules = commands.add_parser(
        "rules",
        help="print the Prometheus rules the operator would apply for VoiceCapacity YAML files",
        description="Print the recording and alert rules the operator applies for each "
        "VoiceCapacity: by default one rule file (`voicecap rules vcaps.yaml > r.yaml && "
        "promtool check rules r.yaml`), or the PrometheusRule / ConfigMap objects themselves.",
    )
    rules.add_argument("files", nargs="*", metavar="FILE", help=FILES_HELP).complete = shtab.FILE  # type: ignore[attr-defined]
    rules.add_argument(
        "--operator",
        action="store_true",
        help="print the alerts on the operator's own metrics instead (TokenBudgetNearCap), the "
        "rule file the chart ships",
    )
    rules.add_argument(
        "--output",
        "-o",
        choices=("rulefile", "prometheusrule", "configmap"),
        default="rulefile",
        help="rulefile: a Prometheus rule file; prometheusrule/configmap: the objects the "
        "operator applies with and without prometheus-operator",
    )
    add_runbook_flag(rules)
    rules.set_defaults(handler=offline.rules)

    crds = commands.add_parser(
        "crds", help="print the CustomResourceDefinitions generated from the models"
    )
    crds.add_argument(
        "--output-dir", type=Path, help="write one file per CRD into this directory instead"
    )
    crds.set_defaults(handler=offline.crds)
    add_history_commands(commands, instant, duration)
    add_calendar(commands)
    add_run(commands)
    add_completion(commands, parser)
    return parser


def add_completion(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    parser: argparse.ArgumentParser,
) -> None:
    """`voicecap completion bash|zsh|tcsh`: a completion script generated from this parser by
    shtab (kept with argparse, so it never drifts from the commands and flags)."""
    completion = commands.add_parser(
        "completion",
        help="print a shell completion script: source <(voicecap completion bash)",
        description="Print a completion script for the shell, generated from the parser: "
        "`source <(voicecap completion bash)`, or write it to your shell's completion directory.",
    )
    completion.add_argument("shell", choices=shtab.SUPPORTED_SHELLS)
    completion.set_defaults(handler=lambda args: print(shtab.complete(parser, args.shell)) or 0)


__all__ = ["EXIT_INVALID", "UsageError", "main"]
