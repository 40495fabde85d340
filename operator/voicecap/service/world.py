"""What the watch caches know, as the service reads it: typed entries, no API calls.

The Kopf indexes implement it in production (adapters/watch_caches.py); tests use the in-memory
double in tests/support/world.py. Reading it never blocks and never fails.
"""

from __future__ import annotations

from typing import Protocol

from voicecap.adapters.children import RulesKind
from voicecap.adapters.objects import BudgetEntry, CapacityEntry, LiveChild
from voicecap.core.planner.pod_fit import PodRequests


class World(Protocol):
    """The watch caches as typed reads. Not for anything the caches do not hold: the service
    asks the Kube port for that (calendars, pods), at the cost of a request."""

    def capacities(self) -> list[CapacityEntry]:
        """Every VoiceCapacity, parsed (an invalid one says why)."""
        ...

    def latest(self, key: str) -> CapacityEntry | None:
        """The newest copy of one VoiceCapacity (None: deleted)."""
        ...

    def budgets(self) -> list[BudgetEntry]:
        """Every TokenBudget, parsed."""
        ...

    def ready_replicas(self, namespace: str, kind: str, name: str) -> int | None:
        """The target's ready replicas (None: no such target)."""
        ...

    def pod_requests(self, namespace: str, kind: str, name: str) -> PodRequests | None:
        """The target's pod template requests, summed over its containers."""
        ...

    def hpa(self, namespace: str, name: str) -> LiveChild | None:
        """The HPA of that name, as the watch cache has it."""
        ...

    def autoscalers(self, namespace: str, kind: str, name: str) -> list[tuple[str, str]]:
        """Every (kind, name) that scales this target: HPAs and KEDA ScaledObjects."""
        ...

    def rules_kind(self) -> RulesKind:
        """Where alert rules go: PrometheusRule where prometheus-operator serves it."""
        ...

    def rules(self, namespace: str, kind: RulesKind, name: str) -> LiveChild | None:
        """The rule object of that kind and name, as the watch cache has it."""
        ...
