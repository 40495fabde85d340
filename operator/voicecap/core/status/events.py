"""How conditions change over time: when lastTransitionTime moves (only on a status change), and
the Events a change makes, as each condition's row in core/status/condition_types.py says (a
first evaluation reports only what needs attention)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from voicecap.api.models import Condition, TokenBudgetStatus, VoiceCapacityStatus
from voicecap.api.timefmt import iso
from voicecap.core.apply.outcome import Transition
from voicecap.core.status.condition_types import BY_TYPE, ConditionType


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
        row = BY_TYPE[new.type]
        old = condition(previous, new.type)
        if old is not None and _same(row, old, new):
            continue
        event = _event_for(row, new, old)
        if event is not None:
            events.append(event)
    return events


def _same(row: ConditionType, old: Condition, new: Condition) -> bool:
    if row.by_reason:
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


def _event_for(row: ConditionType, new: Condition, old: Condition | None) -> Transition | None:
    if new.status == row.attention:
        kind: Literal["Normal", "Warning"] = "Warning" if row.bad_when is not None else "Normal"
        return Transition(kind, row.turned.format(reason=new.reason), new.message)
    if old is None:
        return None  # a first evaluation reports only what needs attention
    if row.recovers == "leaving":
        left = old.status == row.attention
        return Transition("Normal", row.recovered, new.message) if left else None
    if new.status == "Unknown":
        return None  # not attempted (paused): nothing happened worth an Event
    return Transition("Normal", row.recovered.format(reason=new.reason), new.message)
