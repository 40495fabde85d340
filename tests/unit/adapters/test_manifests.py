"""adapters/manifests.py: objects read from YAML files with every problem named by file,
document, object and field; the calendars and targets found beside them; Lists and
multi-document files as kubectl reads them."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import yaml

from support.cli import write_manifests
from support.objects import budget_body, capacity_body
from voicecap.adapters.manifests import expand, field_path, load


def test_objects_calendars_and_targets_from_one_file(tmp_path: Path) -> None:
    body = capacity_body()
    body["spec"]["peaks"][0]["calendarRef"] = {"name": "us-holidays"}
    calendar = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "us-holidays", "namespace": "voice"},
        "data": {"days": "2026-11-26\n"},
    }
    target = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "healthcare-agent", "namespace": "voice"},
        "spec": {"template": {"spec": {"containers": [{"resources": {"requests": {"cpu": "4"}}}]}}},
    }
    path = write_manifests(tmp_path, "all.yaml", body, budget_body(), calendar, target)
    loaded = load([path])
    assert loaded.problems == []
    (capacity,) = loaded.capacities
    assert [b.metadata.name for b in loaded.budgets] == ["openai-realtime"]
    (resolved,) = loaded.resolved()
    assert resolved.report.days == {"us-holidays": 1}
    requests = loaded.pod_requests(capacity)
    assert requests is not None and requests.cpu == Decimal(4)


def test_every_problem_names_file_document_object_and_field(tmp_path: Path) -> None:
    bad = capacity_body(replicas={"min": 5, "max": 3})
    bad["metadata"]["name"] = "sales"
    worse = capacity_body(sessions={"perPod": 0})
    path = write_manifests(tmp_path, "bad.yaml", capacity_body(), bad, worse)
    problems = [str(problem) for problem in load([path]).problems]
    assert len(problems) == 2
    assert problems[0].startswith(f"{path}: document 2 (VoiceCapacity voice/sales): spec.replicas")
    assert "spec.sessions.perPod" in problems[1]


def test_a_list_is_read_like_kubectl_reads_it(tmp_path: Path) -> None:
    listed = {"apiVersion": "v1", "kind": "List", "items": [capacity_body(), budget_body()]}
    loaded = load([write_manifests(tmp_path, "list.yaml", listed)])
    assert (len(loaded.capacities), len(loaded.budgets), loaded.problems) == (1, 1, [])


def test_a_missing_file_and_broken_yaml_are_problems_not_tracebacks(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("spec: [unclosed\n")
    problems = [str(p) for p in load([tmp_path / "absent.yaml", broken]).problems]
    assert any("absent.yaml" in p for p in problems)
    assert any("broken.yaml" in p for p in problems)


def test_stdin_and_directories_are_read_as_kubectl_apply_f_reads_them(tmp_path: Path) -> None:
    """`-` is stdin (once); a directory is recursed for .yaml, .yml and .json, in name order;
    other files in it are left alone."""
    other = capacity_body()
    other["metadata"]["name"] = "sales"
    (tmp_path / "nested").mkdir()
    write_manifests(tmp_path, "a.yaml", capacity_body())
    (tmp_path / "nested" / "b.json").write_text(json.dumps(other))
    write_manifests(tmp_path / "nested", "c.yml", budget_body())
    (tmp_path / "notes.txt").write_text("not a manifest: [")
    assert expand([tmp_path]) == [
        tmp_path / "a.yaml", tmp_path / "nested" / "b.json", tmp_path / "nested" / "c.yml"
    ]  # fmt: skip
    loaded = load([tmp_path])
    assert (sorted(c.metadata.name for c in loaded.capacities), loaded.problems) == (
        ["healthcare", "sales"], [],
    )  # fmt: skip
    piped = load(["-"], stdin=io.StringIO(yaml.safe_dump(budget_body())))
    assert ([b.metadata.name for b in piped.budgets], piped.problems) == (["openai-realtime"], [])
    twice = [str(p) for p in load(["-", "-"], stdin=io.StringIO("")).problems]
    assert twice == ["-: stdin can be read once: give - only once"]


def test_a_file_that_is_not_utf8_is_one_problem_naming_it(tmp_path: Path) -> None:
    binary = tmp_path / "vcap.yaml"
    binary.write_bytes(b"\xff\xfekind: VoiceCapacity\n")
    (problem,) = [str(p) for p in load([binary]).problems]
    assert problem == f"{binary}: not UTF-8 text (byte 0xff at offset 0): YAML manifests are UTF-8"


def test_field_paths_read_like_the_api_servers() -> None:
    assert field_path(["spec", "peaks", 0, "timeZone"]) == "spec.peaks[0].timeZone"
