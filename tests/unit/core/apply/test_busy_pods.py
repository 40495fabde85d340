"""Busy pods last: the deletion cost is the pod's dense rank by live calls; patches go busiest
first, within the budget, and only to pods whose cost changed."""

from __future__ import annotations

from voicecap.core.apply.busy_pods import can_shrink, deletion_costs, label_selector, patches


def test_costs_are_dense_ranks_by_calls() -> None:
    calls = {"a": 0.0, "b": 10.0, "c": 150.0, "d": 150.0}
    assert deletion_costs(calls) == {"a": "0", "b": "1", "c": "2", "d": "2"}


def test_patches_go_busiest_first_within_the_budget_and_skip_settled_pods() -> None:
    calls = {"a": 0.0, "b": 10.0, "c": 150.0, "d": 150.0}
    assert patches(calls, {}, budget=3) == [("c", "2"), ("d", "2"), ("b", "1")]
    settled = {"a": "0", "b": "1", "c": "2", "d": "2"}
    assert patches(calls, settled, budget=10) == []
    calls["c"] = 160.0  # c moves ahead of d: only c's cost changes
    assert patches(calls, settled, budget=10) == [("c", "3")]


def test_only_workloads_that_can_shrink_are_ranked() -> None:
    assert can_shrink(ready=4, floor=2, hpa_current=None, hpa_desired=None)
    assert not can_shrink(ready=2, floor=2, hpa_current=2, hpa_desired=2)
    assert can_shrink(ready=2, floor=2, hpa_current=3, hpa_desired=2)  # the HPA wants fewer
    assert not can_shrink(ready=None, floor=2, hpa_current=None, hpa_desired=None)


def test_the_target_selector_becomes_a_label_selector_query() -> None:
    assert label_selector({"matchLabels": {"app": "agent", "tier": "voice"}}) == (
        "app=agent,tier=voice"
    )
    expressions = {
        "matchLabels": {"app": "agent"},
        "matchExpressions": [
            {"key": "zone", "operator": "In", "values": ["b", "a"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "track", "operator": "NotIn", "values": ["old"]},
            {"key": "voice", "operator": "Exists"},
        ],
    }
    assert label_selector(expressions) == (
        "app=agent,zone in (a,b),!canary,track notin (old),voice"
    )
    assert label_selector({}) is None  # selects nothing we can ask for: rank nothing
    assert label_selector({"matchExpressions": [{"key": "x", "operator": "Gt"}]}) is None
