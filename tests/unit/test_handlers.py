"""handlers.py: the watch caches' index functions (what each keeps, under which key) and the
optional watches, registered once and only where RBAC grants them. The handlers themselves run
in tests/integration (the operator as a process) and tests/e2e."""

from __future__ import annotations

import pytest

from voicecap import handlers


def test_a_voicecapacity_is_kept_without_managed_fields_and_annotations() -> None:
    body = {
        "apiVersion": "voicecap.io/v1alpha1",
        "kind": "VoiceCapacity",
        "metadata": {
            "name": "healthcare",
            "namespace": "voice",
            "resourceVersion": "7",
            "managedFields": [{"manager": "kubectl"}],
            "annotations": {"kopf.zalando.org/last-handled-configuration": "{...}"},
        },
        "spec": {"vertical": "healthcare"},
    }
    indexed = handlers.voicecapacity_index(namespace="voice", name="healthcare", body=body)
    kept = indexed[("voice", "healthcare")]
    assert kept["spec"] == body["spec"] and kept["metadata"]["resourceVersion"] == "7"
    assert "managedFields" not in kept["metadata"] and "annotations" not in kept["metadata"]


def test_autoscalers_are_indexed_by_the_target_they_scale() -> None:
    spec = {"scaleTargetRef": {"kind": "Deployment", "name": "healthcare-agent"}}
    assert handlers.hpa_target_index(namespace="voice", name="h", spec=spec) == {
        ("voice", "Deployment", "healthcare-agent"): ("HorizontalPodAutoscaler", "h")
    }
    keda = {"scaleTargetRef": {"name": "healthcare-agent"}}  # KEDA's kind defaults to Deployment
    assert handlers.scaledobject_target_index(namespace="voice", name="so", spec=keda) == {
        ("voice", "Deployment", "healthcare-agent"): ("ScaledObject", "so")
    }


@pytest.mark.parametrize(
    ("versions", "served"),
    [
        ([{"name": "v1", "served": True}], True),
        ([{"name": "v1", "served": False}, {"name": "v1beta1", "served": True}], False),
        ([], False),
    ],
)
def test_prometheus_rules_are_written_only_where_v1_is_served(
    versions: list[dict[str, object]], served: bool
) -> None:
    name = "prometheusrules.monitoring.coreos.com"
    indexed = handlers.prometheusrule_crd_index(name=name, spec={"versions": versions})
    assert indexed == {name: served}


def test_optional_watches_are_registered_once(monkeypatch: pytest.MonkeyPatch) -> None:
    registered: list[tuple[tuple[object, ...], object]] = []

    def index(*args: object, **kwargs: object) -> object:
        def register(handler: object) -> object:
            registered.append((args, handler))
            return handler

        return register

    monkeypatch.setattr(handlers.kopf, "index", index)
    monkeypatch.setattr(handlers, "_REGISTERED", set())
    handlers.register_optional(prometheus_rules=True, keda=False)
    handlers.register_optional(prometheus_rules=True, keda=False)
    assert [args[2] for args, _ in registered] == ["customresourcedefinitions", "prometheusrules"]
    handlers.register_optional(prometheus_rules=True, keda=True)
    assert [args[2] for args, _ in registered][-1] == "scaledobjects"
    assert len(registered) == 3
