"""A rule object the API refuses shows in RulesApplied, and the HPA is still applied."""

from __future__ import annotations

import pytest

from support.objects import capacity_body
from support.world import MemoryWorld, service_for
from voicecap.adapters.kube import RejectedError


@pytest.mark.asyncio
async def test_refused_rules_are_a_condition_and_an_event_not_a_failed_reconcile() -> None:
    body = capacity_body()
    body["spec"].pop("model")
    world = MemoryWorld()
    key = world.add_capacity(body)
    service = service_for(world, {"healthcare": 300.0})
    service.kube.fault = lambda verb, ref: (
        RejectedError('403 Forbidden: configmaps "voicecap-healthcare-rules" is forbidden')
        if ref.plural == "configmaps"
        else None
    )
    await service.reconcile(key)
    assert [r for verb, r in service.kube.writes if verb == "create" and r != "events"] == [
        "horizontalpodautoscalers"
    ]
    assert service.kube.status_writes() == 1
    conditions = {c["type"]: c for c in world.body(key)["status"]["conditions"]}
    assert conditions["Ready"]["status"] == "True"
    rules = conditions["RulesApplied"]
    assert (rules["status"], rules["reason"]) == ("False", "ApplyFailed")
    assert "forbidden" in rules["message"]
    warnings = [event["reason"] for event in service.kube.events if event["type"] == "Warning"]
    assert warnings == ["RulesNotApplied"]
