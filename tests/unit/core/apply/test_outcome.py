"""core/apply/outcome.py: what applying found, as values the status and Events read."""

from __future__ import annotations

from voicecap.core.apply.outcome import Outcome, RulesOutcome, Transition


def test_an_outcome_defaults_to_a_found_budget_and_nothing_looked_at() -> None:
    outcome = Outcome("Reconciled", "HorizontalPodAutoscaler healthcare: minReplicas 3")
    assert (outcome.budget, outcome.rules, outcome.hpa, outcome.hpa_max_replicas) == (
        "Found",
        None,
        None,
        None,
    )


def test_equal_outcomes_compare_equal_so_a_steady_reconcile_builds_no_status() -> None:
    rules = RulesOutcome(True, "ConfigMap", "ConfigMap voicecap-healthcare-rules: 5 alerts")
    assert Outcome("Reconciled", "m", rules=rules) == Outcome("Reconciled", "m", rules=rules)
    assert Outcome("Reconciled", "m") != Outcome("Paused", "m")
    assert Transition("Warning", "MetricsLost", "x") != Transition("Normal", "MetricsLost", "x")
