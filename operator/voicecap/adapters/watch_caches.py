"""The service's view of the cluster (service/world.py), read from Kopf's indexes.

The indexes are Kopf's watch caches (registered in handlers.py). Children are trimmed as they are
indexed (adapters/objects.py, live_child), VoiceCapacities and TokenBudgets parsed once per
resourceVersion, so a steady cycle reads typed values and makes no API request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from voicecap.adapters.children import RulesKind
from voicecap.adapters.objects import BudgetEntry, CapacityEntry, LiveChild, ObjectParser
from voicecap.adapters.workloads import TargetState
from voicecap.api.names import PROMETHEUS_RULE_CRD
from voicecap.core.planner.pod_fit import PodRequests


class KopfWorld:
    def __init__(self, indices: Mapping[str, Any]) -> None:
        self._i = indices
        self._parser = ObjectParser()

    def capacities(self) -> list[CapacityEntry]:
        entries = [
            self._parser.capacity(f"{namespace}/{name}", body)
            for (namespace, name), store in self._i["voicecapacity_index"].items()
            for body in store
        ]
        self._parser.forget_except({e.key for e in entries}, self._i["tokenbudget_index"].keys())
        return entries

    def latest(self, key: str) -> CapacityEntry | None:
        """The VoiceCapacity as the watch cache has it now (None: deleted)."""
        namespace, _, name = key.partition("/")
        body = _first(self._i["voicecapacity_index"], (namespace, name))
        return self._parser.capacity(key, body) if body is not None else None

    def parse(self, key: str, body: Mapping[str, Any]) -> CapacityEntry:
        """A body Kopf handed to a handler (possibly newer than the index)."""
        return self._parser.capacity(key, body)

    def budgets(self) -> list[BudgetEntry]:
        return [
            self._parser.budget(body)
            for store in self._i["tokenbudget_index"].values()
            for body in store
        ]

    def ready_replicas(self, namespace: str, kind: str, name: str) -> int | None:
        target = self._target(namespace, kind, name)
        return target.ready if target is not None else None

    def pod_requests(self, namespace: str, kind: str, name: str) -> PodRequests | None:
        target = self._target(namespace, kind, name)
        return target.requests if target is not None else None

    def _target(self, namespace: str, kind: str, name: str) -> TargetState | None:
        index = "deployment_index" if kind == "Deployment" else "statefulset_index"
        found: TargetState | None = _first(self._i[index], (namespace, kind, name))
        return found

    def hpa(self, namespace: str, name: str) -> LiveChild | None:
        hpa: LiveChild | None = _first(self._i["hpa_index"], (namespace, name))
        return hpa

    def rules_kind(self) -> RulesKind:
        if "prometheusrule_crd_index" not in self._i:  # --no-prometheus-rules
            return "ConfigMap"
        served = _first(self._i["prometheusrule_crd_index"], PROMETHEUS_RULE_CRD)
        return "PrometheusRule" if served else "ConfigMap"

    def rules(self, namespace: str, kind: RulesKind, name: str) -> LiveChild | None:
        found: LiveChild | None = _first(self._i["rules_index"], (namespace, kind, name))
        return found

    def autoscalers(self, namespace: str, kind: str, name: str) -> list[tuple[str, str]]:
        key = (namespace, kind, name)
        found: list[tuple[str, str]] = []
        for index in ("hpa_target_index", "scaledobject_target_index"):
            if index in self._i and key in self._i[index]:  # no KEDA index with --no-keda
                found.extend(self._i[index][key])
        return found


def _first(index: Any, key: Any) -> Any:
    if key not in index:
        return None
    for value in index[key]:
        return value
    return None
