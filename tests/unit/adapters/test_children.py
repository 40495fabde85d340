"""adapters/children.py: the HPA and the Events the operator writes, and what it reads back of an HPA."""

from __future__ import annotations

import copy
from datetime import timedelta
from fractions import Fraction
from typing import Any

import kubernetes_validate
import pytest

from support.objects import capacity_body
from support.planned import KUBERNETES, NOW, OK, applied_capacity, evaluate, hpa_for
from voicecap.adapters import children
from voicecap.adapters.objects import hpa_report, live_child
from voicecap.api.models import ObjectMeta, dump
from voicecap.core.apply.autoscaler import HPACondition, HPAReport, max_replicas
from voicecap.core.apply.outcome import Outcome, Transition
from voicecap.core.status.capacity import build_status
from voicecap.core.status.events import transitions
from voicecap.core.status.memory import parse_status


def _hpa_live(active: tuple[str, str] | None, current: int = 6) -> dict[str, Any]:
    conditions = [{"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale"}]
    if active is not None:
        conditions.append(
            {"type": "ScalingActive", "status": active[0], "reason": active[1], "message": "m"}
        )
    conditions.append({"type": "SomethingNew", "status": "True"})  # unknown types are ignored
    return {
        "status": {"currentReplicas": current, "desiredReplicas": current, "conditions": conditions}
    }


def test_only_allow_listed_labels_reach_children() -> None:
    labels = children.child_labels(applied_capacity())
    assert labels == {
        "app.kubernetes.io/part-of": "voice",
        "app.kubernetes.io/managed-by": "voicecap-operator",
        "voicecap.io/capacity": "healthcare",
        "voicecap.io/vertical": "healthcare",
    }


@pytest.mark.parametrize(
    ("value", "text"),
    [(Fraction(140), "140"), (Fraction(225, 2), "112500m"), (Fraction(1, 3), "333m"), (2.0, "2")],
)
def test_quantities_are_canonical(value: Fraction | float, text: str) -> None:
    assert children.quantity(value) == text


def test_an_hpa_with_server_defaults_needs_no_patch() -> None:
    vcap = applied_capacity()
    desired = hpa_for(vcap, evaluate(vcap, 300))
    live = copy.deepcopy(desired)
    live["metadata"].update(
        uid="x", resourceVersion="9", labels={**desired["metadata"]["labels"], "extra": "kept"}
    )
    live["spec"]["behavior"]["scaleDown"].update(
        selectPolicy="Max", policies=[{"type": "Percent", "value": 100, "periodSeconds": 15}]
    )
    live["status"] = {"currentReplicas": 3}
    assert children.child_patch(desired, live) is None


def test_an_hpa_patch_carries_only_what_differs() -> None:
    vcap = applied_capacity()
    desired = hpa_for(vcap, evaluate(vcap, 1000))
    live = hpa_for(vcap, evaluate(vcap, 300))
    live["metadata"]["labels"].pop("voicecap.io/vertical")
    assert children.child_patch(desired, live) == {
        "metadata": {"labels": desired["metadata"]["labels"]},
        "spec": {"minReplicas": 8},
    }


def test_ownership_is_by_uid_when_both_sides_have_one() -> None:
    vcap = applied_capacity()
    mine = hpa_for(vcap, evaluate(vcap, 300))
    assert live_child(mine).owned_by(vcap)
    theirs = copy.deepcopy(mine)
    theirs["metadata"]["ownerReferences"][0]["uid"] = "another-object-same-name"
    assert not live_child(theirs).owned_by(vcap)
    theirs["metadata"].pop("ownerReferences")
    assert not live_child(theirs).owned_by(vcap)


def test_merge_patch_removes_keys_and_replaces_lists() -> None:
    old = {"a": 1, "b": {"c": 2, "d": 3}, "l": [1, 2], "gone": True}
    new = {"a": 1, "b": {"c": 2, "d": 4}, "l": [1]}
    assert children.merge_patch(old, new) == {"gone": None, "b": {"d": 4}, "l": [1]}
    assert children.merge_patch(new, new) == {}


def test_events_are_valid_and_uniquely_named() -> None:
    meta = ObjectMeta.model_validate(capacity_body()["metadata"] | {"uid": "u-1"})
    event = children.render_event(
        meta, Transition("Warning", "MetricsLost", "x"), now=NOW, instance="op"
    )
    kubernetes_validate.validate(event, KUBERNETES, strict=True)
    again = children.render_event(
        meta, Transition("Warning", "MetricsLost", "x"), now=NOW, instance="op"
    )
    assert event["metadata"]["name"] != again["metadata"]["name"]
    assert event["regarding"]["uid"] == "u-1" and event["type"] == "Warning"


@pytest.mark.parametrize(
    ("active", "expected_max"),
    [
        (None, 40),  # no status yet: the ceiling
        (("True", "ValidMetricFound"), 40),
        (("False", "FailedGetPodsMetric"), 3),  # the floor drives scale-down
        (("False", "FailedGetObjectMetric"), 3),
        (("False", "ScalingDisabled"), 40),  # scaled to zero by hand: not a metrics problem
    ],
)
def test_max_replicas_is_held_at_the_floor_only_while_the_hpa_cannot_read_its_metric(
    active: tuple[str, str] | None, expected_max: int
) -> None:
    vcap = applied_capacity()
    decided = evaluate(vcap, 300)
    assert (decided.floor, decided.ceiling) == (3, 40)
    report = hpa_report(_hpa_live(active))
    assert [c.type for c in report.conditions] == ["AbleToScale"] + (
        ["ScalingActive"] if active else []
    )
    assert max_replicas(decided.floor, decided.ceiling, report) == expected_max
    assert children.render_hpa(vcap, decided, expected_max)["spec"]["maxReplicas"] == expected_max


def test_the_hpa_report_is_in_status_with_a_condition_and_events_on_transitions() -> None:
    vcap = applied_capacity()
    decided = evaluate(vcap, 300)
    good = hpa_report(_hpa_live(("True", "ValidMetricFound")))
    bad = hpa_report(_hpa_live(("False", "FailedGetPodsMetric")))
    first = build_status(decided, OK, previous=None, generation=3, now=NOW)
    assert first.hpa is None  # no HPA yet: nothing to report
    fine = build_status(
        decided, Outcome("Reconciled", "ok", hpa=good, hpa_max_replicas=40),
        previous=first, generation=3, now=NOW,
    )  # fmt: skip
    assert fine.hpa is not None and fine.hpa.max_replicas == 40
    assert [c.type for c in fine.hpa.conditions] == ["AbleToScale", "ScalingActive"]
    metrics = next(c for c in fine.conditions if c.type == "HPAMetrics")
    assert (metrics.status, metrics.reason) == ("True", "ValidMetricFound")
    assert transitions(first, fine) == []  # first report, and good: no Event
    held = build_status(
        decided, Outcome("Reconciled", "ok", hpa=bad, hpa_max_replicas=3),
        previous=fine, generation=3, now=NOW + timedelta(minutes=1),
    )  # fmt: skip
    metrics = next(c for c in held.conditions if c.type == "HPAMetrics")
    assert (metrics.status, metrics.reason) == ("False", "FloorDrivesScaleDown")
    assert "FailedGetPodsMetric" in metrics.message and "floor (3)" in metrics.message
    assert [(t.type, t.reason) for t in transitions(fine, held)] == [
        ("Warning", "HPAMetricUnavailable")
    ]
    again = build_status(
        decided, Outcome("Reconciled", "ok", hpa=good, hpa_max_replicas=40),
        previous=held, generation=3, now=NOW + timedelta(minutes=2),
    )  # fmt: skip
    assert [(t.type, t.reason) for t in transitions(held, again)] == [
        ("Normal", "HPAMetricAvailable")
    ]
    assert parse_status(dump(again)) == again  # survives the API server's round trip
    # the HPA rewording its message (prometheus-adapter relisting) changes nothing: no write
    reworded = hpa_report(_hpa_live(("False", "FailedGetPodsMetric")))
    reworded = HPAReport(
        tuple(
            HPACondition(c.type, c.status, c.reason, "no metrics returned")
            for c in reworded.conditions
        ),
        reworded.current_replicas,
        reworded.desired_replicas,
    )
    same = build_status(
        decided, Outcome("Reconciled", "ok", hpa=reworded, hpa_max_replicas=3),
        previous=held, generation=3, now=NOW + timedelta(minutes=1),
    )  # fmt: skip
    assert dump(same) == dump(held)


def test_rendered_hpa_is_a_valid_autoscaling_v2_object() -> None:
    vcap = applied_capacity()
    hpa = hpa_for(vcap, evaluate(vcap, 300))
    kubernetes_validate.validate(hpa, KUBERNETES, strict=True)
    assert hpa["spec"]["minReplicas"] == 3 and hpa["spec"]["maxReplicas"] == 40
    assert hpa["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "voicecap.io/v1alpha1",
            "kind": "VoiceCapacity",
            "name": "healthcare",
            "uid": "0b7c5d3e-1111-2222-3333-444455556666",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
