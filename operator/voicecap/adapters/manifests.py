"""Read VoiceCapacity and TokenBudget objects from YAML files, with errors a person can act on;
with them the ConfigMaps (holiday calendars, tenant caps) and Deployments or StatefulSets (the
targets' pod requests, for the sizing check) found in the same files, which the offline commands
use the way the operator uses the cluster's.

Every problem is collected (not just the first), and each names the file, the document, the
object and the field path, e.g.
    bad.yaml: document 2 (VoiceCapacity voice/sales): spec.replicas: min (5) must not exceed max (3)
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import yaml
from pydantic import ValidationError

from voicecap.adapters.workloads import pod_requests
from voicecap.api.models import TokenBudget, VoiceCapacity
from voicecap.core.peaks.calendar import MISSING, Calendar, Resolved, parse_calendar, with_calendars
from voicecap.core.planner.pod_fit import PodRequests
from voicecap.core.planner.tenant_caps import MISSING as TENANT_CAPS_MISSING
from voicecap.core.planner.tenant_caps import TenantCaps, parse_tenant_caps

KINDS: dict[str, type[VoiceCapacity] | type[TokenBudget]] = {
    "VoiceCapacity": VoiceCapacity,
    "TokenBudget": TokenBudget,
}


@dataclass(frozen=True)
class Problem:
    source: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}: {self.field}" if self.field else self.source
        return f"{where}: {self.message}"


WORKLOAD_KINDS = ("Deployment", "StatefulSet")


@dataclass
class Manifests:
    capacities: list[VoiceCapacity] = field(default_factory=list)
    budgets: list[TokenBudget] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    calendars: dict[tuple[str, str], Calendar] = field(default_factory=dict)  # (ns, name)
    tenant_caps: dict[tuple[str, str], TenantCaps] = field(default_factory=dict)  # (ns, name)
    workloads: dict[tuple[str, str, str], PodRequests] = field(default_factory=dict)  # ns, kind

    def resolved(self) -> list[Resolved]:
        """The VoiceCapacities with the calendars of these files merged into their peaks (a
        calendar not in the files counts as not found, as the operator would report it)."""
        return [
            with_calendars(
                capacity,
                {
                    peak.calendar_ref.name: self.calendars.get(
                        (capacity.namespace, peak.calendar_ref.name), MISSING
                    )
                    for peak in capacity.spec.peaks
                    if peak.calendar_ref is not None
                },
            )
            for capacity in self.capacities
        ]

    def tenant_caps_of(self, capacity: VoiceCapacity) -> TenantCaps | None:
        """The tenant caps its admission names, from these files (not in them: not found, as
        the operator would report it); None when it names none."""
        ref = capacity.spec.admission.tenant_caps
        if ref is None:
            return None
        where = (capacity.namespace, ref.config_map_ref.name)
        return self.tenant_caps.get(where, TENANT_CAPS_MISSING)

    def pod_requests(self, capacity: VoiceCapacity) -> PodRequests | None:
        target = capacity.spec.target_ref
        return self.workloads.get((capacity.namespace, target.kind, target.name))


def _other_object(body: dict[str, Any], manifests: Manifests) -> bool:
    """A ConfigMap or a workload, kept for the offline checks; False for any other kind."""
    kind = body.get("kind")
    metadata: dict[str, Any] = body["metadata"] if isinstance(body.get("metadata"), dict) else {}
    namespace = str(metadata.get("namespace") or "default")
    name = str(metadata.get("name") or "")
    if kind == "ConfigMap":
        data: dict[str, Any] = body["data"] if isinstance(body.get("data"), dict) else {}
        # A ConfigMap in the files may be a calendar or tenant caps: what names it decides.
        manifests.calendars[(namespace, name)] = parse_calendar(data)
        manifests.tenant_caps[(namespace, name)] = parse_tenant_caps(data)
        return True
    if kind in WORKLOAD_KINDS:
        manifests.workloads[(namespace, str(kind), name)] = pod_requests(body)
        return True
    return False


def field_path(location: Iterable[int | str]) -> str:
    """('spec', 'peaks', 0, 'timeZone') -> 'spec.peaks[0].timeZone'."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


_NAMED_FIELD = re.compile(r"^(spec(?:\.[A-Za-z0-9_]+)+): (.*)$", re.DOTALL)


def validation_problems(source: str, error: ValidationError) -> list[Problem]:
    problems = []
    for detail in error.errors(include_url=False):
        message = detail["msg"].removeprefix("Value error, ")
        if detail["type"] == "extra_forbidden":
            message = "unknown field"
        field = field_path(detail["loc"])
        named = _NAMED_FIELD.match(message)
        if not field and named:  # a whole-object rule names its field: "spec.x.y: why"
            field, message = named.group(1), named.group(2)
        problems.append(Problem(source, field, message))
    return problems


def parse_object(body: Any, source: str) -> VoiceCapacity | TokenBudget | Problem | list[Problem]:
    """One object body (a mapping) -> the typed object, or what is wrong with it."""
    if not isinstance(body, dict):
        return Problem(source, "", f"expected a mapping, got {type(body).__name__}")
    kind = body.get("kind")
    model = KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        return Problem(
            source,
            "kind",
            f"unsupported kind {kind!r}; expected one of "
            f"{sorted([*KINDS, 'ConfigMap', *WORKLOAD_KINDS])}",
        )
    metadata = body.get("metadata") or {}
    name = metadata.get("name") if isinstance(metadata, dict) else None
    namespace = metadata.get("namespace") if isinstance(metadata, dict) else None
    label = f"{kind} {namespace + '/' if namespace and kind == 'VoiceCapacity' else ''}{name}"
    try:
        return model.model_validate(body)
    except ValidationError as error:
        return validation_problems(f"{source} ({label})", error)


STDIN = "-"
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def expand(paths: Iterable[str | Path]) -> list[Path]:
    """The files `paths` name, as `kubectl apply -f` takes them: a file, `-` for stdin, or a
    directory, recursed for .yaml, .yml and .json files in name order."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if str(raw) != STDIN and path.is_dir():
            found.extend(
                sorted(
                    item
                    for item in path.rglob("*")
                    if item.suffix in MANIFEST_SUFFIXES and item.is_file()
                )
            )
        else:
            found.append(path)
    return found


def _text(path: Path, stdin: TextIO) -> str:
    if str(path) == STDIN:
        return stdin.read()
    return path.read_bytes().decode("utf-8")


def _documents(path: Path, stdin: TextIO) -> Iterator[tuple[str, Any]]:
    text = _text(path, stdin)
    name = "<stdin>" if str(path) == STDIN else str(path)
    for index, document in enumerate(yaml.safe_load_all(text), start=1):
        if document is None:
            continue
        if isinstance(document, dict) and document.get("kind") == "List":
            for item_index, item in enumerate(document.get("items") or [], start=1):
                yield f"{name}: document {index} item {item_index}", item
        else:
            yield f"{name}: document {index}", document


def load(paths: Iterable[str | Path], stdin: TextIO | None = None) -> Manifests:
    """Every VoiceCapacity and TokenBudget (and the ConfigMaps and Deployments they read) in
    `paths` (files, `-` for stdin, directories); what cannot be read or parsed is a Problem
    naming the file, never an exception."""
    manifests = Manifests()
    seen: dict[tuple[str, str, str], str] = {}
    files = expand(paths)
    if sum(1 for path in files if str(path) == STDIN) > 1:
        manifests.problems.append(Problem(STDIN, "", "stdin can be read once: give - only once"))
        return manifests
    for path in files:
        source = "<stdin>" if str(path) == STDIN else str(path)
        try:
            documents = list(_documents(path, stdin or sys.stdin))
        except UnicodeDecodeError as error:
            manifests.problems.append(
                Problem(source, "", f"not UTF-8 text (byte {error.object[error.start]:#04x} at "
                        f"offset {error.start}): YAML manifests are UTF-8")
            )  # fmt: skip
            continue
        except OSError as error:
            manifests.problems.append(Problem(source, "", error.strerror or str(error)))
            continue
        except yaml.YAMLError as error:
            manifests.problems.append(Problem(source, "", f"invalid YAML: {_yaml_message(error)}"))
            continue
        for source, body in documents:
            if isinstance(body, dict) and _other_object(body, manifests):
                continue
            parsed = parse_object(body, source)
            if isinstance(parsed, Problem):
                manifests.problems.append(parsed)
            elif isinstance(parsed, list):
                manifests.problems.extend(parsed)
            else:
                identity = (parsed.kind, parsed.metadata.namespace or "", parsed.metadata.name)
                if identity in seen:
                    manifests.problems.append(
                        Problem(source, "metadata.name", f"also defined in {seen[identity]}")
                    )
                    continue
                seen[identity] = source
                if isinstance(parsed, VoiceCapacity):
                    manifests.capacities.append(parsed)
                else:
                    manifests.budgets.append(parsed)
    return manifests


def _yaml_message(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    if mark is not None:
        return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
    return str(problem)
