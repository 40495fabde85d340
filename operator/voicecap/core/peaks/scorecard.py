"""The scorecard of a peak's latest window: the baseline the pre-scale planned for, what came
(the actual quantile, minutes over capacity), and whether the planned pods were Ready when the
window opened."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from voicecap.api.models import Peak
from voicecap.core.peaks.forecast import BaselineSource
from voicecap.core.peaks.windows import active_window


@dataclass(frozen=True)
class Scorecard:
    """One window of one peak: the baseline planned for, and what came."""

    peak: str
    window_start: datetime
    window_end: datetime
    baseline: float | None
    baseline_source: BaselineSource
    actual: float | None = None
    over_capacity_minutes: int = 0
    last_over_capacity: datetime | None = None
    planned_floor: int | None = None  # the floor when the window opened
    ready_at_open: int | None = None  # the ready pods then

    @property
    def shortfall(self) -> int | None:
        """Pods the pre-scale planned for the window's start but were not Ready by then."""
        if self.planned_floor is None or self.ready_at_open is None:
            return None
        return max(self.planned_floor - self.ready_at_open, 0)

    @property
    def error_ratio(self) -> float | None:
        if self.actual is None or self.baseline is None or self.baseline <= 0:
            return None
        return round((self.actual - self.baseline) / self.baseline, 3)


def score(
    peaks: Sequence[Peak],
    previous: Sequence[Scorecard],
    *,
    now: datetime,
    baselines: Mapping[str, tuple[float | None, BaselineSource]],
    over_capacity: bool,
    actuals: Mapping[str, tuple[datetime, float]],
    floor: int | None = None,
    ready: int | None = None,
) -> tuple[Scorecard, ...]:
    """The latest window of each peak: opened when its floor is raised (with the baseline used
    then), counting minutes over capacity while it is open, and closed with the actual quantile
    once history has it. `actuals`: peak -> (window start, quantile inside it). The first
    evaluation inside a window records `floor` and the `ready` pods: was the pre-scale on time?"""
    cards = {card.peak: card for card in previous}
    scored = []
    for peak in peaks:
        card = cards.get(peak.name)
        window = active_window(peak, now)
        baseline, source = baselines.get(peak.name, (None, "none"))
        if window is not None and (card is None or card.window_start != window.start):
            card = Scorecard(peak.name, window.start, window.end, baseline, source)
        elif (
            window is not None
            and card is not None
            and source != "current"
            and (card.baseline, card.baseline_source) != (baseline, source)
        ):
            # A declared or forecast baseline that appears (or changes) while the window is
            # raised is what the floor follows from then on; current sessions move every
            # cycle, so the first one seen stands for them.
            card = replace(card, baseline=baseline, baseline_source=source)
        if card is None:
            continue
        opened = window is not None and window.start <= now
        if opened and card.ready_at_open is None and ready is not None and floor is not None:
            card = replace(card, planned_floor=floor, ready_at_open=ready)
        if window is not None and window.start <= now and over_capacity:
            minute = now.replace(second=0, microsecond=0)
            if card.last_over_capacity != minute:
                card = replace(
                    card,
                    over_capacity_minutes=card.over_capacity_minutes + 1,
                    last_over_capacity=minute,
                )
        actual = actuals.get(peak.name)
        if (
            card.actual is None
            and now >= card.window_end
            and actual is not None
            and actual[0] == card.window_start
        ):
            card = replace(card, actual=actual[1])
        scored.append(card)
    return tuple(scored)
