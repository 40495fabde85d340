"""core/status/condition_types.py: one row per condition, read by the status and the Events; the
table is complete, its rows unique, and every row's function decides its own type."""

from __future__ import annotations

from support.planned import applied_capacity, evaluate
from voicecap.core.apply.autoscaler import HPACondition, HPAReport
from voicecap.core.apply.outcome import Outcome, RulesOutcome
from voicecap.core.status import (
    applied_conditions,
    capacity_conditions,
    measured_conditions,
    peak_conditions,
)
from voicecap.core.status.condition_types import BY_TYPE, CONDITION_TYPES, decide_all

EVERYTHING = Outcome(
    "Reconciled",
    "ok",
    rules=RulesOutcome(True, "ConfigMap", "5 alerts"),
    hpa=HPAReport((HPACondition("ScalingActive", "True", "ValidMetricFound"),)),
)


def test_every_condition_function_of_the_topic_modules_has_its_row() -> None:
    deciders = {
        f"{module.__name__}.{name}"
        for module in (
            applied_conditions,
            capacity_conditions,
            peak_conditions,
            measured_conditions,
        )
        for name, value in vars(module).items()
        if callable(value) and not name.startswith("_") and value.__module__ == module.__name__
    }
    rows = {f"{row.decide.__module__}.{row.decide.__name__}" for row in CONDITION_TYPES}
    assert deciders == rows


def test_types_are_unique_and_indexed() -> None:
    assert len(BY_TYPE) == len(CONDITION_TYPES)
    assert list(BY_TYPE) == [row.type for row in CONDITION_TYPES]


def test_each_row_decides_its_own_type_in_the_tables_order() -> None:
    decided = decide_all(evaluate(applied_capacity(), 300), EVERYTHING)
    assert [c.type for c in decided] == [
        "Ready",
        "MetricsAvailable",
        "PeakActive",
        "HeadroomLow",
        "NearCeiling",
        "CapacityLimited",
        "BudgetGranted",
        "RulesApplied",
        "HPAMetrics",
        "ForecastReady",
        "TokensCalibrated",
        "ModelRateLimited",
    ], "the optional ones (burst, calendars, pods, prescale, latency) have nothing to say yet"
    for condition in decided:
        assert BY_TYPE[condition.type].decide(evaluate(applied_capacity(), 300), EVERYTHING)


def test_the_status_that_needs_attention() -> None:
    bad_when_true = {row.type for row in CONDITION_TYPES if row.bad_when == "True"}
    assert bad_when_true == {
        "HeadroomLow",
        "NearCeiling",
        "CapacityLimited",
        "BurstAboveFactor",
        "PodUndersized",
        "PrescaleLate",
        "ModelRateLimited",
        "LatencyAboveTarget",
    }
    assert BY_TYPE["PeakActive"].bad_when is None and BY_TYPE["PeakActive"].attention == "True"
    assert BY_TYPE["Ready"].attention == "False"
