"""core/alerts/operator_rules.py: the alerts on the operator's own metrics, one cluster-wide group the chart ships."""

from __future__ import annotations

from pathlib import Path

from voicecap.adapters import children
from voicecap.core.alerts import operator_rules

ROOT = Path(__file__).resolve().parents[4]


def test_the_charts_operator_alerts_are_what_voicecap_rules_operator_prints() -> None:
    """The drift check for the chart's copy (`make crds` regenerates it)."""
    shipped = ROOT / "charts" / "voicecap-operator" / "rules" / "voicecap-operator.rules.yaml"
    assert shipped.read_text() == children.rules_yaml(operator_rules.operator_rule_file())


def test_near_cap_compares_each_budgets_projected_use_with_its_cap_once_per_budget() -> None:
    (group,) = operator_rules.operator_rule_file()["groups"]
    assert group["name"] == "voicecap-operator"
    (alert,) = [rule for rule in group["rules"] if rule["alert"] == "TokenBudgetNearCap"]
    assert alert["for"] == "5m"
    # every operator replica exports the series: max by budget counts it once
    assert alert["expr"] == (
        "max by (budget) (voicecap_budget_projected_tpm) >= "
        "0.9 * max by (budget) (voicecap_budget_tokens_per_minute)"
    )
    assert "{{ $labels.budget }}" in alert["annotations"]["summary"]


def test_the_operators_health_alerts_read_its_own_job_and_say_how_bad() -> None:
    """tests/promtool/operator.test.yaml proves each fires and stays quiet; here, the set."""
    (group,) = operator_rules.operator_rule_file()["groups"]
    health = {
        rule["alert"]: rule for rule in group["rules"] if rule["alert"] != "TokenBudgetNearCap"
    }
    assert {name: rule["labels"]["severity"] for name, rule in health.items()} == {
        "VoicecapOperatorDown": "critical",
        "VoicecapOperatorHeartbeatStale": "critical",
        "VoicecapOperatorReconcileErrors": "warning",
        "VoicecapOperatorCycleSlow": "warning",
        "VoicecapOperatorWatchStale": "warning",
        "VoicecapOperatorWriters": "critical",
    }
    for rule in health.values():
        assert operator_rules.JOB in rule["expr"], rule["alert"]
