"""service/observer.py: the observe step gathers what one plan reads from the caches, takes the
grant, and settles the HPA report it acts on (a metric blip keeps the last one)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from support.objects import budget_body, capacity_body
from support.world import FixedCalibrations, FixedHistory, FixedSessions, MemoryKube, MemoryWorld
from voicecap.adapters.metrics import OperatorMetrics
from voicecap.adapters.objects import live_child
from voicecap.core.apply.autoscaler import HPACondition, HPAReport
from voicecap.service.calendars import CalendarCache
from voicecap.service.calibration import CalibrationCache
from voicecap.service.clock import Clock
from voicecap.service.history import HistoryCache
from voicecap.service.observer import ActedReports, Observer
from voicecap.service.sessions import SessionCache
from voicecap.service.tenant_caps import TenantCapsCache
from voicecap.service.token_book import TokenBook


def hpa_body(status: str, reason: str, since: datetime) -> dict[str, object]:
    return {
        "metadata": {"name": "healthcare", "namespace": "voice"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "healthcare-agent"}},
        "status": {
            "conditions": [
                {
                    "type": "ScalingActive",
                    "status": status,
                    "reason": reason,
                    "lastTransitionTime": since.isoformat().replace("+00:00", "Z"),
                }
            ]
        },
    }


@pytest.mark.asyncio
async def test_what_one_plan_reads() -> None:
    world = MemoryWorld()
    key = world.add_capacity(capacity_body(), ready=3)
    world.add_budget(budget_body(tokensPerMinute=20_000_000))
    metrics, clock = OperatorMetrics(), Clock()
    observer = Observer(
        world=world,
        sessions=SessionCache(FixedSessions({"healthcare": 250.0}), clock, metrics),
        history=HistoryCache(FixedHistory(), clock, metrics),
        calibration=CalibrationCache(FixedCalibrations(), clock, metrics),
        calendars=CalendarCache(MemoryKube(world)),
        tenant_caps=TenantCapsCache(MemoryKube(world)),
        book=TokenBook(),
        reports=ActedReports(timedelta(seconds=45)),
    )
    entry = world.entry(key)
    assert entry.capacity is not None
    seen = await observer.observe(entry.capacity)
    observation = seen.observation
    assert (observation.sessions, observation.ready_replicas) == (250.0, 3)
    assert observation.granted_tpm == 4_800_000  # taken from the budget, which was never refreshed
    assert (seen.hpa, seen.report, observation.hpa_scaling) == (None, None, None)


def test_a_metric_loss_younger_than_the_grace_keeps_the_last_report() -> None:
    reports = ActedReports(timedelta(seconds=45))
    now = datetime.now(UTC)
    scaling = live_child(hpa_body("True", "ValidMetricFound", now - timedelta(minutes=5)), hpa=True)
    first = reports.settle("voice/healthcare", scaling)
    assert first is not None and first.scaling_on_metric is True
    blip = live_child(
        hpa_body("False", "FailedGetPodsMetric", now - timedelta(seconds=10)), hpa=True
    )
    assert reports.settle("voice/healthcare", blip) == first
    lasting = live_child(
        hpa_body("False", "FailedGetPodsMetric", now - timedelta(minutes=2)), hpa=True
    )
    settled = reports.settle("voice/healthcare", lasting)
    assert settled is not None and settled.scaling_on_metric is False
    assert reports.settle("voice/healthcare", None) is None


def test_reports_of_deleted_objects_are_forgotten() -> None:
    reports = ActedReports(timedelta(seconds=45))
    now = datetime.now(UTC)
    reports.settle("voice/a", live_child(hpa_body("True", "ValidMetricFound", now), hpa=True))
    reports.forget_except(set())
    blip = live_child(hpa_body("False", "FailedGetPodsMetric", now), hpa=True)
    report = reports.settle("voice/a", blip)
    assert report == HPAReport((HPACondition("ScalingActive", "False", "FailedGetPodsMetric"),))
