"""adapters/watch_caches.py: Kopf's indexes read as the service's World: typed entries, targets,
the owned HPA, where rules go, and every autoscaler of a target (KEDA's only where watched)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from support.objects import capacity_body
from voicecap.adapters.objects import live_child
from voicecap.adapters.watch_caches import KopfWorld
from voicecap.adapters.workloads import TargetState
from voicecap.api.names import PROMETHEUS_RULE_CRD
from voicecap.core.planner.pod_fit import PodRequests


def indexes(**extra: dict[Any, list[Any]]) -> dict[str, dict[Any, list[Any]]]:
    """Kopf's indexes are mappings of key -> a store of values (lists here)."""
    body = capacity_body()
    body["metadata"].update(resourceVersion="4", uid="u1")
    base: dict[str, dict[Any, list[Any]]] = {
        "voicecapacity_index": {("voice", "healthcare"): [body]},
        "tokenbudget_index": {},
        "deployment_index": {
            ("voice", "Deployment", "healthcare-agent"): [
                TargetState(3, PodRequests(cpu=Decimal(2)))
            ]
        },
        "statefulset_index": {},
        "hpa_index": {},
        "hpa_target_index": {},
        "rules_index": {},
    }
    base.update(extra)
    return base


def test_entries_and_targets() -> None:
    world = KopfWorld(indexes())
    (entry,) = world.capacities()
    assert entry.key == "voice/healthcare" and entry.capacity is not None
    assert world.latest("voice/healthcare") is not None and world.latest("voice/gone") is None
    assert world.ready_replicas("voice", "Deployment", "healthcare-agent") == 3
    assert world.pod_requests("voice", "Deployment", "healthcare-agent") == PodRequests(
        cpu=Decimal(2)
    )
    assert world.ready_replicas("voice", "StatefulSet", "healthcare-agent") is None


def test_rules_go_to_prometheus_rules_only_where_v1_is_served() -> None:
    assert KopfWorld(indexes()).rules_kind() == "ConfigMap"  # --no-prometheus-rules: no index
    served = indexes(prometheusrule_crd_index={PROMETHEUS_RULE_CRD: [True]})
    assert KopfWorld(served).rules_kind() == "PrometheusRule"
    unserved = indexes(prometheusrule_crd_index={PROMETHEUS_RULE_CRD: [False]})
    assert KopfWorld(unserved).rules_kind() == "ConfigMap"


def test_every_autoscaler_of_a_target() -> None:
    target = ("voice", "Deployment", "healthcare-agent")
    hpas = {target: [("HorizontalPodAutoscaler", "healthcare")]}
    assert KopfWorld(indexes(hpa_target_index=hpas)).autoscalers(*target) == [
        ("HorizontalPodAutoscaler", "healthcare")
    ]
    keda = indexes(
        hpa_target_index=hpas, scaledobject_target_index={target: [("ScaledObject", "so")]}
    )
    assert ("ScaledObject", "so") in KopfWorld(keda).autoscalers(*target)


def test_the_owned_hpa_as_indexed() -> None:
    hpa = live_child(
        {"metadata": {"name": "healthcare", "namespace": "voice"}, "spec": {}}, hpa=True
    )
    world = KopfWorld(indexes(hpa_index={("voice", "healthcare"): [hpa]}))
    assert world.hpa("voice", "healthcare") is hpa and world.hpa("voice", "sales") is None
