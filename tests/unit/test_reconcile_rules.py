"""A rule object the API refuses shows in RulesApplied, and the HPA is still applied."""

from __future__ import annotations

from typing import Any

import pytest

from support.objects import capacity_body
from voicecap.adapters.kube import Ref, RejectedError
from voicecap.adapters.metrics import OperatorMetrics
from voicecap.core.plan import Observation
from voicecap.service import Clock, Reconciler, SessionCache


class Prometheus:
    def __init__(self) -> None:
        self.history: list[Any] = []

    def observe(self, sources):
        return {source.key: Observation(sessions=300.0) for source in sources}


class World:
    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body

    def capacities(self):
        return [("voice/healthcare", self.body)]

    def budgets(self):
        return []

    def ready_replicas(self, namespace, kind, name):
        return 2

    def hpa(self, namespace, name):
        return None

    def autoscalers(self, namespace, kind, name):
        return []

    def rules_kind(self):
        return "ConfigMap"

    def rules(self, namespace, kind, name):
        return None


class RefusingKube:
    """Creates everything but ConfigMaps, which an admission policy refuses."""

    def __init__(self) -> None:
        self.created: list[tuple[str, dict[str, Any]]] = []
        self.statuses: list[dict[str, Any]] = []

    async def create(self, ref: Ref, body: dict[str, Any]) -> dict[str, Any]:
        if ref.plural == "configmaps":
            raise RejectedError(
                '403 Forbidden: configmaps "voicecap-healthcare-rules" is forbidden'
            )
        self.created.append((ref.plural, body))
        return body

    async def patch_status(self, ref: Ref, status: dict[str, Any]) -> dict[str, Any]:
        self.statuses.append(status)
        return {}


@pytest.mark.asyncio
async def test_refused_rules_are_a_condition_and_an_event_not_a_failed_reconcile() -> None:
    body = capacity_body()
    body["metadata"].update(uid="u-1", resourceVersion="1", generation=1)
    body["spec"].pop("model")
    kube = RefusingKube()
    reconciler = Reconciler(
        kube=kube,  # type: ignore[arg-type]
        world=World(body),
        sessions=SessionCache(Prometheus(), Clock(), OperatorMetrics()),  # type: ignore[arg-type]
        metrics=OperatorMetrics(),
        clock=Clock(),
    )
    await reconciler.reconcile("voice/healthcare", body, trigger="test")
    assert [plural for plural, _ in kube.created if plural != "events"] == [
        "horizontalpodautoscalers"
    ]
    (written,) = kube.statuses
    conditions = {c["type"]: c for c in written["conditions"]}
    assert conditions["Ready"]["status"] == "True"
    rules = conditions["RulesApplied"]
    assert (rules["status"], rules["reason"]) == ("False", "ApplyFailed")
    assert "forbidden" in rules["message"]
    warnings = [b for plural, b in kube.created if plural == "events" and b["type"] == "Warning"]
    assert [event["reason"] for event in warnings] == ["RulesNotApplied"]
