"""adapters/plan_metrics.py: what each plan says on /metrics, per vertical and per peak; an
unknown number is absent, a vertical that renames itself or goes away leaves no series."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from support.planned import NOW, applied_capacity, evaluate
from voicecap.adapters.plan_metrics import PlanGauges

VOICE = {"namespace": "voice", "vertical": "healthcare"}


def test_a_plans_numbers_per_vertical_and_per_peak() -> None:
    registry = CollectorRegistry()
    gauges = PlanGauges(registry)
    plan = evaluate(applied_capacity(), 300)
    gauges.observe("voice/healthcare", plan, NOW.timestamp())
    assert registry.get_sample_value("voicecap_floor_replicas", VOICE) == plan.floor
    assert registry.get_sample_value("voicecap_active_sessions", VOICE) == 300
    assert registry.get_sample_value("voicecap_sessions_known", VOICE) == 1
    assert (
        registry.get_sample_value(
            "voicecap_forecast_weeks_used", {**VOICE, "peak": "monday-morning"}
        )
        == 0
    )


def test_unknown_sessions_are_absent_not_zero() -> None:
    registry = CollectorRegistry()
    gauges = PlanGauges(registry)
    gauges.observe("voice/healthcare", evaluate(applied_capacity(), None), NOW.timestamp())
    assert registry.get_sample_value("voicecap_active_sessions", VOICE) is None
    assert registry.get_sample_value("voicecap_sessions_known", VOICE) == 0


def test_a_deleted_vertical_leaves_no_series() -> None:
    registry = CollectorRegistry()
    gauges = PlanGauges(registry)
    gauges.observe("voice/healthcare", evaluate(applied_capacity(), 300), NOW.timestamp())
    gauges.forget_except({"voice/other"})
    assert registry.get_sample_value("voicecap_floor_replicas", VOICE) is None
    assert (
        registry.get_sample_value(
            "voicecap_forecast_weeks_used", {**VOICE, "peak": "monday-morning"}
        )
        is None
    )


def test_an_unchanged_plan_moves_only_the_heartbeat() -> None:
    registry = CollectorRegistry()
    gauges = PlanGauges(registry)
    plan = evaluate(applied_capacity(), 300)
    gauges.observe("voice/healthcare", plan, 100.0)
    gauges.floor.labels("voice", "healthcare").set(99)  # not rewritten while the plan is equal
    gauges.observe("voice/healthcare", plan, 115.0)
    assert registry.get_sample_value("voicecap_floor_replicas", VOICE) == 99
    assert registry.get_sample_value("voicecap_last_evaluation_timestamp_seconds", VOICE) == 115
