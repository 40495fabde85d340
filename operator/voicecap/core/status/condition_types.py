"""Every condition a VoiceCapacity shows, one row each: its type, the status that needs
attention, the Events' reasons when it turns to that status and when it recovers, and the
function that decides it. The status builder (core/status/capacity.py) shows them in this
order; the Events (core/status/events.py) read the same rows.

To add a condition: write its function `(plan, outcome) -> Condition | None` in the module of
its topic (applied_, capacity_, peak_ or measured_conditions.py; None: not shown now) and add
its row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from voicecap.api.models import Condition
from voicecap.core.apply.outcome import Outcome
from voicecap.core.planner.plan import Plan
from voicecap.core.status import applied_conditions as applied
from voicecap.core.status import capacity_conditions as capacity
from voicecap.core.status import measured_conditions as measured
from voicecap.core.status import peak_conditions as peaks

Status = Literal["True", "False"]


@dataclass(frozen=True)
class ConditionType:
    type: str
    decide: Callable[[Plan, Outcome], Condition | None]
    # The status that needs attention (a Warning Event when it turns so); None: neither does,
    # and turning True is a Normal Event (PeakActive).
    bad_when: Status | None
    # The Events' reasons: when it turns bad (or True), and when it recovers. "{reason}" is
    # the condition's own reason (Ready says which problem; HeadroomLow which level).
    turned: str
    recovered: str
    # A new reason at the same status is a change worth an Event (another problem, another
    # level); otherwise only the status counts (NoData -> PrometheusUnreachable is one outage).
    by_reason: bool = False
    # "good": an Event whenever it is back to the good status; "leaving": only when it leaves
    # the bad one (NearCeiling, a planning signal: its own True and back are what count).
    recovers: Literal["good", "leaving"] = "good"

    @property
    def attention(self) -> Status:
        """The status whose arrival makes the first Event."""
        return self.bad_when or "True"


CONDITION_TYPES: tuple[ConditionType, ...] = (
    ConditionType("Ready", applied.ready, "False", "{reason}", "{reason}", by_reason=True),
    ConditionType(
        "MetricsAvailable", capacity.metrics_available, "False", "MetricsLost", "MetricsRestored"
    ),
    ConditionType("PeakActive", peaks.peak_active, None, "PeakEntered", "PeakLeft"),
    ConditionType(
        "HeadroomLow",
        capacity.headroom_low,
        "True",
        "Headroom{reason}",
        "HeadroomRecovered",
        by_reason=True,
    ),
    ConditionType(
        "NearCeiling",
        capacity.near_ceiling,
        "True",
        "NearCeiling",
        "CeilingHeadroomRestored",
        recovers="leaving",
    ),
    ConditionType(
        "CapacityLimited", capacity.capacity_limited, "True", "CapacityLimited", "CapacityRestored"
    ),
    ConditionType(
        "BudgetGranted", capacity.budget_granted, "False", "BudgetShort", "BudgetGranted"
    ),
    ConditionType(
        "RulesApplied", applied.rules_applied, "False", "RulesNotApplied", "RulesApplied"
    ),
    ConditionType(
        "HPAMetrics", applied.hpa_metrics, "False", "HPAMetricUnavailable", "HPAMetricAvailable"
    ),
    ConditionType(
        "ForecastReady", peaks.forecast_ready, "False", "ForecastUnavailable", "ForecastReady"
    ),
    ConditionType(
        "BurstAboveFactor",
        peaks.burst_above_factor,
        "True",
        "BurstAboveFactor",
        "BurstWithinFactor",
    ),
    ConditionType(
        "CalendarsReady", peaks.calendars_ready, "False", "CalendarUnavailable", "CalendarReady"
    ),
    ConditionType("PodUndersized", capacity.pod_undersized, "True", "PodUndersized", "PodSized"),
    ConditionType(
        "TenantCapsReady",
        capacity.tenant_caps_ready,
        "False",
        "TenantCapsUnavailable",
        "TenantCapsLoaded",
    ),
    ConditionType("PrescaleLate", peaks.prescale_late, "True", "PrescaleLate", "PrescaleOnTime"),
    ConditionType(
        "PerPodCalibrated",
        measured.per_pod_calibrated,
        "False",
        "PerPodMiscalibrated",
        "PerPodCalibrated",
    ),
    ConditionType(
        "TokensCalibrated",
        measured.tokens_calibrated,
        "False",
        "TokensMiscalibrated",
        "TokensCalibrated",
    ),
    ConditionType(
        "ModelRateLimited",
        measured.model_rate_limited,
        "True",
        "ModelRateLimited",
        "ModelRateLimitCleared",
    ),
    ConditionType(
        "LatencyAboveTarget",
        measured.latency_above_target,
        "True",
        "LatencyAboveTarget",
        "LatencyRecovered",
    ),
)
BY_TYPE = {row.type: row for row in CONDITION_TYPES}


def decide_all(plan: Plan, outcome: Outcome) -> list[Condition]:
    """Every condition shown now, in the table's order."""
    return [
        condition for row in CONDITION_TYPES if (condition := row.decide(plan, outcome)) is not None
    ]
