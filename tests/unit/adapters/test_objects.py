"""The boundary (adapters/objects.py, adapters/kube.py): what the watch caches keep of a body,
what a typed entry says, and the REST path of every object the operator writes."""

from __future__ import annotations

import pytest

from support.objects import capacity_body
from voicecap.adapters.kube import Ref
from voicecap.adapters.objects import ObjectParser, live_child, trimmed


def test_the_watch_cache_keeps_no_managed_fields_and_no_annotations() -> None:
    body = capacity_body()
    body["metadata"].update(
        uid="u-1",
        resourceVersion="7",
        generation=3,
        managedFields=[{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}],
        annotations={"voicecap.io/last-handled-configuration": "{...}"},
        labels={"team": "voice"},
    )
    body["status"] = {"vertical": "healthcare"}
    kept = trimmed(body)
    assert set(kept["metadata"]) == {
        "name", "namespace", "uid", "resourceVersion", "generation", "labels",
    }  # fmt: skip
    assert kept["spec"] is body["spec"] and kept["status"] is body["status"]


def test_a_child_is_kept_with_its_owners_version_and_hpa_report() -> None:
    hpa = {
        "kind": "HorizontalPodAutoscaler",
        "metadata": {
            "name": "healthcare",
            "resourceVersion": "42",
            "managedFields": [{"manager": "kube-controller-manager"}],
            "ownerReferences": [{"kind": "VoiceCapacity", "name": "healthcare", "uid": "u-1"}],
        },
        "spec": {"minReplicas": 2},
        "status": {
            "currentReplicas": 3,
            "conditions": [
                {"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound"}
            ],
        },
    }
    child = live_child(hpa, hpa=True)
    assert child.version == "42"
    assert "managedFields" not in child.body["metadata"] and "status" not in child.body
    assert child.hpa is not None and child.hpa.current_replicas == 3
    assert child.owners == (("VoiceCapacity", "healthcare", "u-1"),)


def test_an_entry_is_parsed_once_per_resource_version() -> None:
    parser = ObjectParser()
    body = capacity_body()
    body["metadata"].update(resourceVersion="1", generation=1)
    first = parser.capacity("voice/healthcare", body)
    assert parser.capacity("voice/healthcare", body) is first
    body["metadata"]["resourceVersion"] = "2"
    body["status"] = {"observedGeneration": 1, "replicas": {"floor": 4}}
    second = parser.capacity("voice/healthcare", body)
    assert second is not first
    assert (second.observed_generation, second.memory.floor) == (1, 4)
    assert second.status() is not None


def test_an_invalid_entry_keeps_its_reasons_and_its_metadata() -> None:
    body = capacity_body()
    body["spec"]["replicas"] = {"min": 9, "max": 3}
    entry = ObjectParser().capacity("voice/healthcare", body)
    assert entry.capacity is None
    assert entry.invalid is not None and "spec.replicas" in entry.invalid
    assert entry.meta.name == "healthcare"


@pytest.mark.parametrize(
    ("ref", "name", "subresource", "path"),
    [
        (Ref("v1", "configmaps", "voice"), "r", "", "/api/v1/namespaces/voice/configmaps/r"),
        (
            Ref("autoscaling/v2", "horizontalpodautoscalers", "voice"),
            None,
            "",
            "/apis/autoscaling/v2/namespaces/voice/horizontalpodautoscalers",
        ),
        (
            Ref("voicecap.io/v1alpha1", "voicecapacities", "voice"),
            "healthcare",
            "status",
            "/apis/voicecap.io/v1alpha1/namespaces/voice/voicecapacities/healthcare/status",
        ),
        (
            Ref("voicecap.io/v1alpha1", "tokenbudgets"),
            "openai",
            "status",
            "/apis/voicecap.io/v1alpha1/tokenbudgets/openai/status",
        ),
    ],
)
def test_rest_paths(ref: Ref, name: str | None, subresource: str, path: str) -> None:
    assert ref.path(name, subresource) == path
