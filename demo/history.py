"""The demo's history: 13 past weeks of the same synthetic traffic, growing about 1 % a week,
backfilled into the demo's Prometheus with promtool before it starts, so that a vertical
without expectedSessions (examples/real-estate.yaml) is pre-scaled from a forecast.

A sample every 2 minutes per vertical (the forecast's 1-minute subquery steps read the latest
sample within Prometheus' 5-minute lookback).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from demo.traffic import Vertical

STEP = timedelta(minutes=2)
WEEKS = 13
GROWTH_PER_WEEK = 0.01


def write_history(path: Path, verticals: Sequence[Vertical], *, until: datetime) -> Path:
    """OpenMetrics for `promtool tsdb create-blocks-from openmetrics`: the weeks before `until`."""
    start = until - timedelta(weeks=WEEKS)
    lines = ["# TYPE voice_active_sessions gauge"]
    for vertical in verticals:
        labels = (
            f'namespace="{vertical.namespace}",pod="{vertical.deployment}-history",'
            f'vertical="{vertical.name}"'
        )
        moment = start
        while moment < until:
            weeks_ago = (until - moment) / timedelta(weeks=1)
            calls = vertical.calls(moment) * (1 - GROWTH_PER_WEEK * weeks_ago)
            lines.append(
                f"voice_active_sessions{{{labels}}} {round(calls)} {moment.timestamp():.0f}"
            )
            moment += STEP
    lines.append("# EOF")
    path.write_text("\n".join(lines) + "\n")
    return path
