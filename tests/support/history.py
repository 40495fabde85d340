"""Synthetic call history with a known weekly pattern, written as OpenMetrics for
`promtool tsdb create-blocks-from openmetrics`, and the numbers a test expects from it,
computed here independently of the operator (which leaves quantiles to Prometheus).

A vertical has `quiet` calls all week (a sample every 2 minutes) and, inside its peak window
(local wall time in its zone, once a week), a ramp: base(k) + minute, one sample a minute, in
the window k weeks before the anchor week. Weeks in `missing` have no samples at all.

A vertical with a `limit` was served at most that many calls (the operator's
voicecap_admission_limit_sessions says so): the ramp past it was refused. Where it
`counts_refusals`, voice_calls_rejected_total and voice_call_duration_seconds say how many, so
the calls offered can be told from the calls served (Erlang: refused a second x mean duration).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from scipy.stats import theilslopes

QUIET_STEP = timedelta(minutes=2)


@dataclass(frozen=True)
class Vertical:
    namespace: str
    vertical: str
    zone: str
    anchor: datetime  # the window start in week 0, naive local wall time
    minutes: int  # window length
    bases: dict[int, float]  # week k before the anchor week -> the ramp's first value
    missing: frozenset[int] = frozenset()
    quiet: float = 20.0
    weeks: int = 15  # how far back the history goes
    pod: str = field(default="")
    limit: float | None = None  # calls past it were refused
    counts_refusals: bool = False  # the refused calls and call durations are exported
    call_seconds: float = 240.0
    # No samples after it: a Prometheus that scrapes on after the backfill refuses samples older
    # than its newest block, so history for a live server ends in the past.
    end: datetime | None = None

    def window(self, k: int) -> tuple[datetime, datetime]:
        """[start, end) of week k's window as UTC instants (fold=0, like the operator)."""
        wall = self.anchor - timedelta(weeks=k)
        start = wall.replace(tzinfo=ZoneInfo(self.zone)).astimezone(UTC)
        return start, start + timedelta(minutes=self.minutes)

    def ramp(self, k: int) -> list[float]:
        return [self.bases[k] + minute for minute in range(self.minutes)]

    def samples(self) -> list[tuple[datetime, float]]:
        """The calls served: the calls offered, at most `limit`."""
        if self.limit is None:
            return self.offered()
        return [(moment, min(value, self.limit)) for moment, value in self.offered()]

    def offered(self) -> list[tuple[datetime, float]]:
        first = self.window(self.weeks)[0] - timedelta(days=3)
        last = self.window(0)[1] + timedelta(days=1)
        gaps = [self._gap(k) for k in self.missing]
        windows = {
            k: self.window(k)
            for k in range(self.weeks + 1)
            if k in self.bases and k not in self.missing
        }
        points: dict[datetime, float] = {}
        moment = first
        while moment <= last:
            points[moment] = self.quiet
            moment += QUIET_STEP
        for k, (start, end) in windows.items():
            for moment in list(points):
                if start <= moment < end:
                    del points[moment]
            for minute, value in enumerate(self.ramp(k)):
                points[start + timedelta(minutes=minute)] = value
        return sorted(
            (moment, value)
            for moment, value in points.items()
            if not any(gap_start <= moment < gap_end for gap_start, gap_end in gaps)
            and (self.end is None or moment <= self.end)
        )

    def _gap(self, k: int) -> tuple[datetime, datetime]:
        start, _ = self.window(k)
        return start - timedelta(days=3), start + timedelta(days=3)


def write_openmetrics(path: Path, verticals: Iterable[Vertical]) -> Path:
    lines = ["# TYPE voice_active_sessions gauge"]
    limits = ["# TYPE voicecap_admission_limit_sessions gauge"]
    refused = ["# TYPE voice_calls_rejected counter"]
    durations = ["# TYPE voice_call_duration_seconds histogram"]
    for item in verticals:
        pod = item.pod or f"{item.vertical}-0"
        labels = f'namespace="{item.namespace}",pod="{pod}",vertical="{item.vertical}"'
        lines += [
            f"voice_active_sessions{{{labels}}} {value} {moment.timestamp():.0f}"
            for moment, value in item.samples()
        ]
        if item.limit is None:
            continue
        where = f'namespace="{item.namespace}",vertical="{item.vertical}"'
        offered = item.offered()
        limits += [
            f"voicecap_admission_limit_sessions{{{where}}} {item.limit} {moment.timestamp():.0f}"
            for moment, _ in offered
        ]
        if item.counts_refusals:
            refused_total = ended = 0.0
            for (moment, value), (after, _) in itertools.pairwise(offered):
                stamp = f"{moment.timestamp():.0f}"
                refused += [f"voice_calls_rejected_total{{{where}}} {refused_total:.3f} {stamp}"]
                durations += [
                    f"voice_call_duration_seconds_count{{{where}}} {ended:.3f} {stamp}",
                    f"voice_call_duration_seconds_sum{{{where}}} "
                    f"{ended * item.call_seconds:.3f} {stamp}",
                ]
                # calls held for call_seconds: concurrency E is E / call_seconds calls a second
                seconds = (after - moment).total_seconds()
                refused_total += max(value - item.limit, 0.0) / item.call_seconds * seconds
                ended += min(value, item.limit) / item.call_seconds * seconds
    lines += limits + refused + durations
    lines.append("# EOF")
    path.write_text("\n".join(lines) + "\n")
    return path


def prometheus_quantile(values: Sequence[float], q: float) -> float:
    """PromQL's quantile: rank q x (n - 1), linear between the neighbours."""
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def slot_minutes(minutes: int) -> int:
    """The operator's slots, restated: whole minutes, at least 5, at most 24 to a window."""
    return max(math.ceil(minutes / 24), 5)


def expected_slots(item: Vertical, k: int, quantile: float = 0.99) -> list[float]:
    """Week k's slot values: the quantile of the ramp's minutes inside each slot."""
    size = slot_minutes(item.minutes)
    ramp = item.ramp(k)
    return [prometheus_quantile(ramp[i : i + size], quantile) for i in range(0, len(ramp), size)]


def expected_forecast(
    item: Vertical,
    *,
    weeks: int = 13,
    quantile: float = 0.99,
    growth: float = 1.0,
    weeks_quantile: float = 0.5,
    trend: bool = True,
) -> tuple[float, int]:
    """(forecastSessions, weeksUsed) for the window in week 0, from weeks 1..`weeks`: slot by
    slot, the weeks_quantile of the weeks' slot values x growth; the largest slot. With `trend`
    (forecast.trend: Weekly, the default) each week is first carried forward by the weekly
    growth scipy's Theil-Sen estimator finds in the weeks' largest slots (bounded to 10 %)."""
    used = [k for k in range(1, weeks + 1) if k in item.bases and k not in item.missing]
    by_week = [expected_slots(item, k, quantile) for k in used]
    weekly = expected_trend(used, [max(week) for week in by_week]) if trend else 0.0
    profile = [
        round(
            prometheus_quantile(
                [week[i] * (1 + weekly) ** age for age, week in zip(used, by_week, strict=True)],
                weeks_quantile,
            )
            * growth,
            2,
        )
        for i in range(len(by_week[0]))
    ]
    return max(profile), len(used)


def expected_trend(ages: Sequence[int], values: Sequence[float]) -> float:
    """The weekly growth of weeks `ages` old with these largest slots: scipy's Theil-Sen slope
    of ln(value) over age, turned into growth a week forward, rounded as status shows it."""
    if len(ages) < 4:
        return 0.0
    slope = theilslopes([math.log(value) for value in values], list(ages)).slope
    return round(min(max(math.exp(-slope) - 1, -0.1), 0.1), 4)
