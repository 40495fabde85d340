"""adapters/manifests.py: objects read from YAML files with every problem named by file,
document, object and field; the calendars and targets found beside them; Lists and
multi-document files as kubectl reads them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from support.cli import write_manifests
from support.objects import budget_body, capacity_body
from voicecap.adapters.manifests import field_path, load


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


def test_field_paths_read_like_the_api_servers() -> None:
    assert field_path(["spec", "peaks", 0, "timeZone"]) == "spec.peaks[0].timeZone"
