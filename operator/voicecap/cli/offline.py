"""The commands that need no cluster: plan, rules, crds."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TypeVar

import yaml

from voicecap.adapters import children, manifests
from voicecap.api.crd import all_crds
from voicecap.api.models import VoiceCapacity
from voicecap.cli.args import UsageError
from voicecap.cli.output import STRUCTURED, structured
from voicecap.cli.report import plan_to_json, plans_table
from voicecap.core.alerts.operator_rules import operator_rule_file
from voicecap.core.alerts.rules import rule_file
from voicecap.core.budgets.fleet import plan_fleet
from voicecap.core.planner.observation import Observation

Number = TypeVar("Number", int, float)


def _load(files: list[str]) -> manifests.Manifests:
    """The objects in `files`, or a UsageError listing every problem (or saying there are none)."""
    loaded = manifests.load(files)
    if loaded.problems:
        raise UsageError("\n".join(str(problem) for problem in loaded.problems))
    if not loaded.capacities:
        raise UsageError("no VoiceCapacity objects in " + ", ".join(files))
    return loaded


def load_capacities(files: list[str]) -> list[VoiceCapacity]:
    """The VoiceCapacities in `files`, with the holiday calendars in them merged into their
    peaks (the forecast and the replay skip excluded days as the operator does)."""
    return [item.capacity for item in _load(files).resolved()]


def plan(args: argparse.Namespace) -> int:
    """`voicecap plan`: the plans of the objects in FILE, no cluster needed."""
    loaded = _load(args.files)
    now = args.at or datetime.now(UTC)
    sessions = _per_vertical(args.sessions, "--sessions", loaded.capacities, float)
    ready = _per_vertical(args.ready, "--ready", loaded.capacities, int)
    resolved = loaded.resolved()  # holiday calendars in the files, merged into the peaks
    observations = {
        item.capacity.key: Observation(
            sessions=sessions.get(item.capacity.key),
            sampled_at=now if item.capacity.key in sessions else None,
            ready_replicas=ready.get(item.capacity.key),
            calendars=item.report,
            tenant_caps=loaded.tenant_caps_of(item.capacity),
            pod_requests=loaded.pod_requests(item.capacity),
        )
        for item in resolved
    }
    capacities = [item.capacity for item in resolved]
    plans = plan_fleet(capacities, loaded.budgets, observations, now)
    if args.output in STRUCTURED:
        print(structured([plan_to_json(plan) for plan in plans], args.output))
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
    given: dict[str, str] = {}  # namespace/name -> the assignment that gave it
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
            if capacity.key in given:
                problems.append(
                    f"{option} {assignment!r}: {capacity.key} is already given by "
                    f"{given[capacity.key]!r}; give each vertical once"
                )
                continue
            given[capacity.key] = assignment
            values[capacity.key] = value
    if problems:
        raise UsageError("\n".join(problems))
    return values


def rules(args: argparse.Namespace) -> int:
    """`voicecap rules`: the rule file (or objects) the operator applies, or its own alerts."""
    if args.operator:
        if args.files or args.output != "rulefile":
            raise UsageError("--operator takes no FILE and prints a rule file only")
        print(children.rules_yaml(operator_rule_file(args.runbook_base_url)), end="")
        return 0
    if not args.files:
        raise UsageError("give the VoiceCapacity files (or --operator)")
    loaded = _load(args.files)
    if args.output == "rulefile":
        print(children.rules_yaml(rule_file(loaded.capacities, args.runbook_base_url)), end="")
        return 0
    kind: children.RulesKind = "PrometheusRule" if args.output == "prometheusrule" else "ConfigMap"
    objects = [
        children.render_rules(capacity, kind, args.runbook_base_url)
        for capacity in loaded.capacities
    ]
    print(children.manifests_yaml(objects), end="")
    return 0


def crds(args: argparse.Namespace) -> int:
    """`voicecap crds`: the CRDs generated from the models, to stdout or one file each."""
    documents = all_crds()
    if args.output_dir is None:
        print(render_yaml(*documents.values()), end="")
        return 0
    try:
        args.output_dir.mkdir(parents=True, exist_ok=True)
        for file_name, crd in documents.items():
            (args.output_dir / file_name).write_text(render_yaml(crd), encoding="utf-8")
    except OSError as error:
        where = error.filename or args.output_dir
        raise UsageError(f"--output-dir {args.output_dir}: {where}: {error.strerror}") from None
    return 0


def render_yaml(*documents: object) -> str:
    """YAML documents with the header that marks them generated."""
    header = "# Generated by `voicecap crds` from operator/voicecap/api/. Do not edit.\n"
    return header + yaml.safe_dump_all(documents, sort_keys=False, width=100)
