"""How conditions change over time: which types a VoiceCapacity shows, when lastTransitionTime
moves (only on a status change), and the Events a change makes (a first evaluation reports only
what needs attention; Ready and HeadroomLow change with their reason, the others with their
status)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from voicecap.api.models import Condition, TokenBudgetStatus, VoiceCapacityStatus
from voicecap.api.timefmt import iso
from voicecap.core.apply.outcome import Transition

CONDITION_TYPES = (
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
    "BurstAboveFactor",
    "CalendarsReady",
    "PodUndersized",
    "PrescaleLate",
)

# condition type -> (reason of the Event when it turns bad, when it recovers)
_PROBLEMS: dict[str, tuple[str, str]] = {
    # condition type -> (reason of the Event when it turns bad, when it recovers)
    "MetricsAvailable": ("MetricsLost", "MetricsRestored"),
    "CapacityLimited": ("CapacityLimited", "CapacityRestored"),
    "BudgetGranted": ("BudgetShort", "BudgetGranted"),
    "RulesApplied": ("RulesNotApplied", "RulesApplied"),
    "HPAMetrics": ("HPAMetricUnavailable", "HPAMetricAvailable"),
    "ForecastReady": ("ForecastUnavailable", "ForecastReady"),
    "BurstAboveFactor": ("BurstAboveFactor", "BurstWithinFactor"),
    "CalendarsReady": ("CalendarUnavailable", "CalendarReady"),
    "PodUndersized": ("PodUndersized", "PodSized"),
    "PrescaleLate": ("PrescaleLate", "PrescaleOnTime"),
}
_BAD_WHEN_TRUE = frozenset({"CapacityLimited", "BurstAboveFactor", "PodUndersized", "PrescaleLate"})


def condition(
    status: VoiceCapacityStatus | TokenBudgetStatus | None, kind: str
) -> Condition | None:
    for item in status.conditions if status else ():
        if item.type == kind:
            return item
    return None


def transitions(
    previous: VoiceCapacityStatus | None, current: VoiceCapacityStatus
) -> list[Transition]:
    """Events for what changed. A first evaluation reports only what needs attention."""
    events: list[Transition] = []
    for new in current.conditions:
        old = condition(previous, new.type)
        if old is not None and _same(old, new):
            continue
        event = _event_for(new, old)
        if event is not None:
            events.append(event)
    return events


def _same(old: Condition, new: Condition) -> bool:
    """Ready and HeadroomLow change with their reason (another problem, another level); the
    others with their status only (NoData -> PrometheusUnreachable is still the same outage)."""
    if new.type in {"Ready", "HeadroomLow"}:
        return (old.status, old.reason) == (new.status, new.reason)
    return old.status == new.status


def dated(
    conditions: Sequence[Condition],
    previous: VoiceCapacityStatus | TokenBudgetStatus | None,
    generation: int | None,
    now: datetime,
) -> list[Condition]:
    """lastTransitionTime moves only when a condition's status changes."""
    dated = []
    for item in conditions:
        old = condition(previous, item.type)
        since = (
            old.last_transition_time
            if old is not None and old.status == item.status and old.last_transition_time
            else iso(now)
        )
        dated.append(
            item.model_copy(
                update={"last_transition_time": since, "observed_generation": generation}
            )
        )
    return dated


def _event_for(new: Condition, old: Condition | None) -> Transition | None:
    if new.type == "PeakActive":
        if new.status == "True":
            return Transition("Normal", "PeakEntered", new.message)
        return Transition("Normal", "PeakLeft", new.message) if old is not None else None
    if new.type == "HeadroomLow":
        if new.status == "True":
            return Transition("Warning", f"Headroom{new.reason}", new.message)
        return Transition("Normal", "HeadroomRecovered", new.message) if old else None
    if new.type == "NearCeiling":  # a planning signal: only its own True and back count
        if new.status == "True":
            return Transition("Warning", "NearCeiling", new.message)
        recovered = old is not None and old.status == "True"
        return Transition("Normal", "CeilingHeadroomRestored", new.message) if recovered else None
    if new.type == "Ready":
        if new.status == "False":
            return Transition("Warning", new.reason, new.message)
        return Transition("Normal", new.reason, new.message) if old is not None else None
    if new.status == "Unknown":
        return None  # not attempted (paused): nothing happened worth an Event
    bad_when = "True" if new.type in _BAD_WHEN_TRUE else "False"
    lost, back = _PROBLEMS[new.type]
    if new.status == bad_when:
        return Transition("Warning", lost, new.message)
    return Transition("Normal", back, new.message) if old is not None else None
