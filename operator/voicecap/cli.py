"""The `voicecap` command line."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import yaml

from voicecap.adapters import children, manifests
from voicecap.api.crd import all_crds
from voicecap.api.models import VoiceCapacity
from voicecap.api.types import parse_duration
from voicecap.core.fleet import plan_fleet
from voicecap.core.plan import Observation
from voicecap.core.rules import rule_file
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

    rules = commands.add_parser(
        "rules",
        help="print the Prometheus rules the operator would apply for VoiceCapacity YAML files",
        description="Print the recording and alert rules the operator applies for each "
        "VoiceCapacity: by default one rule file (`voicecap rules vcaps.yaml > r.yaml && "
        "promtool check rules r.yaml`), or the PrometheusRule / ConfigMap objects themselves.",
    )
    rules.add_argument("files", nargs="+", metavar="FILE")
    rules.add_argument(
        "--output",
        "-o",
        choices=("rulefile", "prometheusrule", "configmap"),
        default="rulefile",
        help="rulefile: a Prometheus rule file; prometheusrule/configmap: the objects the "
        "operator applies with and without prometheus-operator",
    )
    rules.set_defaults(handler=_rules)

    crds = commands.add_parser(
        "crds", help="print the CustomResourceDefinitions generated from the models"
    )
    crds.add_argument(
        "--output-dir", type=Path, help="write one file per CRD into this directory instead"
    )
    crds.set_defaults(handler=_crds)
    _add_run(commands)
    return parser


def _add_run(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = commands.add_parser(
        "run",
        help="run the operator (kubeconfig from KUBECONFIG, or in-cluster)",
        description="Run the operator: reconcile every VoiceCapacity into its HPA from live "
        "Prometheus session metrics. Credentials come from KUBECONFIG (or ~/.kube/config), "
        "or from the pod's service account in a cluster.",
    )
    run.add_argument(
        "--prometheus-url",
        default=os.environ.get("VOICECAP_PROMETHEUS_URL"),
        help="Prometheus that scrapes voice_active_sessions (env VOICECAP_PROMETHEUS_URL)",
    )
    where = run.add_mutually_exclusive_group()
    where.add_argument(
        "--namespace",
        "-n",
        action="append",
        default=[],
        metavar="NS",
        help="watch only this namespace; repeatable",
    )
    where.add_argument(
        "--all-namespaces", "-A", action="store_true", help="watch every namespace (the default)"
    )
    run.add_argument(
        "--interval",
        type=_duration,
        default=15.0,
        help="re-evaluate every VoiceCapacity this often: 15s, 1m, or seconds (0.25); default 15s",
    )
    run.add_argument(
        "--metrics-port", type=int, default=8080, help="port of /metrics (default 8080; 0: off)"
    )
    run.add_argument(
        "--health-port", type=int, default=8081, help="port of /healthz (default 8081; 0: off)"
    )
    run.add_argument("--bind-address", default="0.0.0.0", help="address for /metrics and /healthz")
    run.add_argument(
        "--peering",
        metavar="NAME",
        help="Kopf peering object that elects one writer among replicas; when given, the "
        "operator waits until the peering CRD exists (default: use peering 'default' if its "
        "CRD is installed, else run standalone)",
    )
    run.add_argument("--priority", type=int, default=0, help="peering priority (default 0)")
    run.add_argument("--standalone", action="store_true", help="ignore peering")
    run.add_argument(
        "--no-prometheus-rules",
        dest="prometheus_rules",
        action="store_false",
        help="never watch or write PrometheusRules; rules go to ConfigMaps even where "
        "prometheus-operator is installed (when RBAC does not grant prometheusrules)",
    )
    run.add_argument(
        "--no-keda",
        dest="keda",
        action="store_false",
        help="never watch KEDA ScaledObjects for conflicts (when RBAC does not grant them)",
    )
    run.add_argument(
        "--log-format", choices=("plain", "full", "json"), default="full", help="log format"
    )
    run.add_argument("--verbose", "-v", action="store_true", help="debug logs")
    run.add_argument(
        "--clock-start",
        type=_instant,
        help="demos and tests: start the operator's clock at this instant instead of now",
    )
    run.add_argument(
        "--clock-speed",
        type=float,
        default=1.0,
        help="demos and tests: run the operator's clock this many times faster",
    )
    run.add_argument(
        "--clock-origin",
        type=float,
        metavar="UNIX_SECONDS",
        help="demos and tests: the real time at which the clock reads --clock-start, so other "
        "processes can share the timeline (default: when the operator starts)",
    )
    run.set_defaults(handler=_run)


def _duration(text: str) -> float:
    try:
        seconds = float(text)  # bare seconds, for sub-second demo intervals
    except ValueError:
        try:
            seconds = parse_duration(text).total_seconds()
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from error
    if not math.isfinite(seconds) or seconds <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite time longer than zero")
    return seconds


def _run(args: argparse.Namespace) -> int:
    if not args.prometheus_url:
        raise UsageError(
            "no Prometheus to read sessions from: pass --prometheus-url or set "
            "VOICECAP_PROMETHEUS_URL"
        )
    if args.clock_speed <= 0:
        raise UsageError("--clock-speed must be above zero")
    from voicecap import runner  # noqa: PLC0415  (kopf and API clients load only for `run`)

    return runner.run(
        runner.RunOptions(
            prometheus_url=args.prometheus_url,
            namespaces=tuple(args.namespace),
            interval=args.interval,
            metrics_port=args.metrics_port or None,
            health_port=args.health_port or None,
            bind_address=args.bind_address,
            peering=args.peering,
            standalone=args.standalone,
            priority=args.priority,
            prometheus_rules=args.prometheus_rules,
            keda=args.keda,
            log_format=args.log_format,
            verbose=args.verbose,
            clock_start=args.clock_start,
            clock_speed=args.clock_speed,
            clock_origin=args.clock_origin,
        )
    )


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


def _load(files: list[str]) -> manifests.Manifests:
    """The objects in `files`, or a UsageError listing every problem (or saying there are none)."""
    loaded = manifests.load(files)
    if loaded.problems:
        raise UsageError("\n".join(str(problem) for problem in loaded.problems))
    if not loaded.capacities:
        raise UsageError("no VoiceCapacity objects in " + ", ".join(files))
    return loaded


def _plan(args: argparse.Namespace) -> int:
    loaded = _load(args.files)
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


def _rules(args: argparse.Namespace) -> int:
    loaded = _load(args.files)
    if args.output == "rulefile":
        print(children.rules_yaml(rule_file(loaded.capacities)), end="")
        return 0
    kind: children.RulesKind = "PrometheusRule" if args.output == "prometheusrule" else "ConfigMap"
    objects = [children.render_rules(capacity, kind) for capacity in loaded.capacities]
    print(children.manifests_yaml(objects), end="")
    return 0


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
