"""Generated alert rules, proven with the real promtool: `check rules` and `test rules` suites.

The suites in tests/promtool/ drive series just below, at and above each threshold, shorter and
longer than the sustained period, and through data gaps. They run against the rules generated
here from tests/promtool/voicecapacity.yaml: `rules.yaml` as the operator applies it, and
`rules-bare.yaml` without annotations (promtool compares annotations too; one suite checks them).
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.objects import capacity, capacity_body
from voicecap.adapters import children, manifests
from voicecap.api.models import VoiceCapacity
from voicecap.cli import main
from voicecap.core.alerts import operator_rules, rules

ROOT = Path(__file__).resolve().parents[4]
SUITES = ROOT / "tests" / "promtool"
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool is not installed: `make test` installs it with apt-get")
    return subprocess.run(
        [binary, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def fixture_capacity() -> VoiceCapacity:
    loaded = manifests.load([SUITES / "voicecapacity.yaml"])
    assert not loaded.problems
    (capacity,) = loaded.capacities
    return capacity


def without_annotations(document: dict[str, Any]) -> dict[str, Any]:
    bare = copy.deepcopy(document)
    for group in bare["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    return bare


# ---------------------------------------------------------------- promtool


@pytest.mark.tools
@pytest.mark.parametrize("suite", sorted(SUITES.glob("*.test.yaml")), ids=lambda p: p.stem)
def test_promtool_suite(suite: Path, tmp_path: Path) -> None:
    document = rules.rule_file([fixture_capacity()])
    operator = operator_rules.operator_rule_file()
    (tmp_path / "operator.rules.yaml").write_text(children.rules_yaml(operator))
    bare_operator = children.rules_yaml(without_annotations(operator))
    (tmp_path / "operator-bare.rules.yaml").write_text(bare_operator)
    (tmp_path / "rules.yaml").write_text(children.rules_yaml(document))
    (tmp_path / "rules-bare.yaml").write_text(children.rules_yaml(without_annotations(document)))
    shutil.copy(suite, tmp_path / suite.name)
    result = promtool("test", "rules", suite.name, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.tools
def test_promtool_checks_every_generated_file(tmp_path: Path) -> None:
    variants = [
        fixture_capacity(),
        capacity(),
        capacity(sessions={"perPod": 50, "query": 'sum(calls_in_progress{queue="care"})'}),
        capacity(
            model=None,
            sessions={"perPod": 200, "targetUtilization": 0.5},
            headroom={"for": "90s", "warning": 0.65, "critical": 0.85},
        ),
    ]
    for index, variant in enumerate(variants):
        path = tmp_path / f"variant-{index}.yaml"
        path.write_text(children.rules_yaml(rules.rule_file([variant])))
        result = promtool("check", "rules", path.name, cwd=tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.tools
def test_voicecap_rules_pipes_into_promtool_check_rules(tmp_path: Path) -> None:
    """docs/commands.md: `voicecap rules examples/*.yaml | promtool check rules /dev/stdin`."""
    printed = subprocess.run(
        [sys.executable, "-m", "voicecap.cli", "rules", *map(str, EXAMPLES)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    binary = shutil.which("promtool")
    assert binary is not None, "`make test` installs promtool with apt-get"
    result = subprocess.run(
        [binary, "check", "rules", "/dev/stdin"],
        input=printed,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    vcaps = manifests.load(EXAMPLES).capacities
    expected = sum(
        9 + 2 * bool(c.spec.model) + bool(c.spec.latency) + bool(c.spec.peaks) for c in vcaps
    )
    assert f"SUCCESS: {expected} rules found" in result.stdout


# ---------------------------------------------------------------- the generator


def test_one_group_per_object_with_the_contract_names_and_labels() -> None:
    group = rules.rule_group(fixture_capacity())
    assert group["name"] == "voicecap.voice.healthcare"
    names = [rule.get("record") or rule.get("alert") for rule in group["rules"]]
    assert names == [rules.SESSIONS, rules.CAPACITY, rules.UTILIZATION, *rules.ALERTS]
    for rule in group["rules"]:
        assert {"namespace": "voice", "vertical": "healthcare"}.items() <= rule["labels"].items()
        if "alert" in rule:
            assert rule["labels"]["team"] == "voice-sre"
            assert rule["labels"]["severity"] in {"warning", "critical"}
            assert set(rule["annotations"]) == {"summary", "description", "action", "runbook_url"}
    sustained = {rule["alert"]: rule["for"] for rule in group["rules"] if "alert" in rule}
    assert sustained == {
        "VoiceCapacityHeadroomWarning": "10m",
        "VoiceCapacityHeadroomCritical": "10m",
        "VoiceCapacityNearCeiling": "10m",
        "VoiceCapacityAtCeiling": "10m",
        "VoiceCapacityTPMNearLimit": "10m",
        "VoiceCapacityModelRateLimited": "0s",
        "VoiceCapacitySessionsAbsent": "5m",
        "VoiceCapacityOverAdmission": "2m",
        "VoiceCapacityLatencyAboveTarget": "2m",
        "VoiceCapacityBurstAboveFactor": "10m",
    }


def test_thresholds_and_the_session_query_follow_the_spec() -> None:
    custom = capacity(
        sessions={
            "perPod": 50,
            "targetUtilization": 0.5,
            "query": 'sum(calls_in_progress{queue="care"})',
        },
        headroom={"warning": 0.65, "critical": 0.85, "ceilingWarning": 0.8, "for": "90s"},
        model=None,
    )
    by_name = {r.get("record") or r["alert"]: r for r in rules.rule_group(custom)["rules"]}
    assert by_name[rules.SESSIONS]["expr"] == 'sum(calls_in_progress{queue="care"})'
    assert by_name["VoiceCapacityHeadroomWarning"]["expr"].endswith(">= 0.65")
    assert by_name["VoiceCapacityHeadroomCritical"]["expr"].endswith(">= 0.85")
    assert by_name["VoiceCapacityHeadroomWarning"]["for"] == "1m30s"
    assert by_name["VoiceCapacityNearCeiling"]["expr"].endswith(">= 0.8")
    burst = by_name["VoiceCapacityBurstAboveFactor"]["expr"]
    assert 'peak="monday-morning"' in burst and burst.endswith("> 1.5")
    assert "VoiceCapacityTPMNearLimit" not in by_name, "no spec.model, no TPM alert"
    assert "VoiceCapacityModelRateLimited" not in by_name
    assert "VoiceCapacityLatencyAboveTarget" not in by_name, "no spec.latency, no latency alert"


def test_custom_latency_and_429_queries_are_the_alerts_expressions() -> None:
    custom = capacity(
        latency={"query": "agent_ttfa_p95_seconds", "target": "1200ms", "for": "3m"},
        model={
            "budgetRef": "openai-realtime",
            "tokensPerSessionMinute": 6000,
            "reservedTPM": 600_000,
            "rateLimitedQuery": "sum(openai_http_429_total)",
        },
    )
    by_name = {r.get("record") or r["alert"]: r for r in rules.rule_group(custom)["rules"]}
    latency = by_name["VoiceCapacityLatencyAboveTarget"]
    assert latency["expr"] == "quantile(0.5, (agent_ttfa_p95_seconds)) > 1.2"
    assert latency["for"] == "3m"
    assert "above its 1s200ms target" in latency["annotations"]["summary"]
    limited = by_name["VoiceCapacityModelRateLimited"]["expr"]
    assert limited == "sum(increase((sum(openai_http_429_total))[5m:1m])) > 0"


def test_rule_objects_carry_rule_labels_for_a_rule_selector_and_an_owner() -> None:
    subject = fixture_capacity()
    for kind in ("PrometheusRule", "ConfigMap"):
        rendered = children.render_rules(subject, kind)  # type: ignore[arg-type]
        assert rendered["metadata"]["labels"]["team"] == "voice-sre"
        assert rendered["metadata"]["ownerReferences"][0]["kind"] == "VoiceCapacity"
    rule = children.render_rules(subject, "PrometheusRule")
    assert rule["metadata"]["name"] == "voicecap-healthcare"
    assert rule["spec"] == {"groups": [rules.rule_group(subject)]}
    config_map = children.render_rules(subject, "ConfigMap")
    assert config_map["metadata"]["name"] == "voicecap-healthcare-rules"
    (text,) = config_map["data"].values()
    assert yaml.safe_load(text) == rules.rule_file([subject])
    assert "&id" not in text, "no YAML anchors in a file people read"


# ---------------------------------------------------------------- the command


def test_rules_command_prints_the_rule_file_and_the_objects(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["rules", str(SUITES / "voicecapacity.yaml")]) == 0
    assert yaml.safe_load(capsys.readouterr().out) == rules.rule_file([fixture_capacity()])
    assert main(["rules", str(SUITES / "voicecapacity.yaml"), "-o", "configmap"]) == 0
    (config_map,) = yaml.safe_load_all(capsys.readouterr().out)
    assert config_map == children.render_rules(fixture_capacity(), "ConfigMap")
    assert main(["rules", str(SUITES / "voicecapacity.yaml"), "-o", "prometheusrule"]) == 0
    (rule,) = yaml.safe_load_all(capsys.readouterr().out)
    assert rule["kind"] == "PrometheusRule"


def test_rules_command_rejects_bad_input_with_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = capacity_body()
    broken["spec"]["headroom"] = {"ruleLabels": {"severity": "page"}}
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken))
    assert main(["rules", str(path)]) == 2
    assert "spec.headroom.ruleLabels" in capsys.readouterr().err


def test_every_status_field_an_alert_names_exists() -> None:
    """Alert texts send an SRE to status fields; each one must be in the CRD's status schema."""
    from support.objects import example_documents  # noqa: PLC0415
    from voicecap.api.crd import voicecapacity_crd  # noqa: PLC0415

    capacities = [
        VoiceCapacity.model_validate(document)
        for _, document in example_documents()
        if document["kind"] == "VoiceCapacity"
    ]
    text = yaml.safe_dump(rules.rule_file(capacities))
    named = set(re.findall(r"status\.[A-Za-z]+(?:\[\])?(?:\.[A-Za-z]+)*", text))
    assert named, "the alerts name no status field at all"
    schema = voicecapacity_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for path in named:
        node = schema
        for part in path.split("."):
            name = part.removesuffix("[]")
            assert name in node.get("properties", {}), f"{path}: no field {name!r}"
            node = node["properties"][name]
            if part.endswith("[]"):
                node = node["items"]


def test_every_alert_has_a_runbook_url_to_its_section_of_the_runbooks_page() -> None:
    """docs/runbooks.md has a `## <alert>` section for every alert voicecap generates or ships,
    and each alert's runbook_url points at it (mkdocs anchors a heading by its lowercase text)."""
    page = (ROOT / "docs" / "runbooks.md").read_text()
    sections = {line[3:].strip() for line in page.splitlines() if line.startswith("## ")}
    groups = [rules.rule_group(fixture_capacity()), *operator_rules.operator_rule_file()["groups"]]
    alerts = [rule for group in groups for rule in group["rules"] if "alert" in rule]
    assert {rule["alert"] for rule in alerts} == sections
    for rule in alerts:
        url = rule["annotations"]["runbook_url"]
        assert url == f"{rules.RUNBOOKS}#{rule['alert'].lower()}"
    hosted = rules.rule_group(fixture_capacity(), "https://wiki.example.com/voicecap")["rules"]
    assert hosted[-1]["annotations"]["runbook_url"].startswith("https://wiki.example.com/voicecap#")
