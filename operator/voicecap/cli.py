"""The `voicecap` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import yaml

from voicecap.adapters import manifests
from voicecap.api.crd import all_crds
from voicecap.api.models import VoiceCapacity
from voicecap.core.fleet import plan_fleet
from voicecap.core.plan import Observation
from voicecap.report import plan_to_json, plans_table

EXIT_INVALID = 2
Number = TypeVar("Number", int, float)


class UsageError(Exception):
    """A problem with the command line or its input files: exit 2, no traceback."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except UsageError as error:
        for line in str(error).splitlines():
            print(f"voicecap: {line}", file=sys.stderr)
        return EXIT_INVALID
    except BrokenPipeError:  # `voicecap plan ... | head`
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voicecap",
        description="Keep voice-AI agent fleets ahead of their concurrent-call peaks.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    plan = commands.add_parser(
        "plan",
        help="plan floors and ceilings for VoiceCapacity/TokenBudget YAML files, no cluster needed",
        description="Plan floors and ceilings for VoiceCapacity and TokenBudget objects in YAML "
        "files (multi-document files and kind: List work), without a cluster.",
    )
    plan.add_argument("files", nargs="+", metavar="FILE")
    plan.add_argument(
        "--at",
        type=_instant,
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
    plan.add_argument("--output", "-o", choices=("table", "json"), default="table")
    plan.set_defaults(handler=_plan)

    crds = commands.add_parser(
        "crds", help="print the CustomResourceDefinitions generated from the models"
    )
    crds.add_argument(
        "--output-dir", type=Path, help="write one file per CRD into this directory instead"
    )
    crds.set_defaults(handler=_crds)
    return parser


def _instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from error
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no UTC offset; write it as 2026-11-23T08:55:00-05:00 or ...Z"
        )
    return moment.astimezone(UTC)


def _plan(args: argparse.Namespace) -> int:
    loaded = manifests.load(args.files)
    if loaded.problems:
        raise UsageError("\n".join(str(problem) for problem in loaded.problems))
    if not loaded.capacities:
        raise UsageError("no VoiceCapacity objects in " + ", ".join(args.files))
    now = args.at or datetime.now(UTC)
    sessions = _per_vertical(args.sessions, "--sessions", loaded.capacities, float)
    ready = _per_vertical(args.ready, "--ready", loaded.capacities, int)
    observations = {
        capacity.key: Observation(
            sessions=sessions.get(capacity.key),
            sampled_at=now if capacity.key in sessions else None,
            ready_replicas=ready.get(capacity.key),
        )
        for capacity in loaded.capacities
    }
    plans = plan_fleet(loaded.capacities, loaded.budgets, observations, now)
    if args.output == "json":
        print(json.dumps([plan_to_json(plan) for plan in plans], indent=2))
    else:
        print(plans_table(plans))
    return 0


def _per_vertical(
    assignments: list[str],
    option: str,
    capacities: list[VoiceCapacity],
    convert: type[Number],
) -> dict[str, Number]:
    """`VERTICAL=N` or `NAMESPACE/VERTICAL=N` -> {namespace/name: N}; unknown ones are errors."""
    values: dict[str, Number] = {}
    problems = []
    for assignment in assignments:
        target, _, number = assignment.partition("=")
        try:
            value = convert(number)
        except ValueError:
            problems.append(f"{option} {assignment!r}: expected VERTICAL=N with a number N")
            continue
        if value < 0:
            problems.append(f"{option} {assignment!r}: must not be negative")
            continue
        matches = [
            capacity
            for capacity in capacities
            if target in (capacity.vertical, f"{capacity.namespace}/{capacity.vertical}")
        ]
        if not matches:
            known = ", ".join(sorted({c.vertical for c in capacities}))
            problems.append(
                f"{option} {assignment!r}: no VoiceCapacity has vertical {target!r} ({known})"
            )
        for capacity in matches:
            values[capacity.key] = value
    if problems:
        raise UsageError("\n".join(problems))
    return values


def _crds(args: argparse.Namespace) -> int:
    documents = all_crds()
    if args.output_dir is None:
        print(render_yaml(*documents.values()), end="")
        return 0
    args.output_dir.mkdir(parents=True, exist_ok=True)
    for file_name, crd in documents.items():
        (args.output_dir / file_name).write_text(render_yaml(crd), encoding="utf-8")
    return 0


def render_yaml(*documents: object) -> str:
    header = "# Generated by `voicecap crds` from operator/voicecap/api/models.py. Do not edit.\n"
    return header + yaml.safe_dump_all(documents, sort_keys=False, width=100)


if __name__ == "__main__":
    sys.exit(main())
