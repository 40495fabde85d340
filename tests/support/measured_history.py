"""Synthetic history of the measured-input series, written as OpenMetrics for `promtool tsdb
create-blocks-from openmetrics`: per pod its live calls and a time-to-first-audio histogram whose
quantile follows a processor-sharing curve that reaches the target at a known capacity; per
vertical the model tokens it used, the calls it refused and how long calls lasted.

Each pod's load sweeps from 20 % to 130 % of that capacity and back every 6 hours (pods out of
phase), so the samples cover the knee. The numbers a test expects are computed here, not read
back from the operator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

STEP = timedelta(minutes=2)  # two samples in every 5-minute rate window
# 100ms buckets to 0.5s, 50ms around the usual targets, coarse past them: 23 buckets
BUCKETS = (
    0.1,
    0.2,
    0.3,
    0.4,
    0.5,
    *[round(0.5 + 0.05 * i, 2) for i in range(1, 15)],
    1.5,
    2.0,
    3.0,
    5.0,
)
TARGET = 0.8


@dataclass(frozen=True)
class MeasuredVertical:
    namespace: str
    vertical: str
    capacity: float  # calls per pod at which the latency quantile reaches TARGET
    pods: int = 3
    tokens_per_call_minute: float = 9000.0
    refused_per_minute: float = 0.0
    call_seconds: float = 240.0
    base: float = 0.32  # seconds: latency with one call

    def load(self, pod: int, minute: int) -> float:
        phase = 2 * math.pi * (minute / 360 + pod / self.pods)
        return self.capacity * (0.75 + 0.55 * math.sin(phase))  # 20 % to 130 % of capacity

    def latency(self, load: float) -> float:
        rho = (1 - self.base / TARGET) * load / self.capacity
        return self.base / (1 - rho) if rho < 0.95 else self.base / 0.05


def write_openmetrics(
    path: Path, verticals: list[MeasuredVertical], end: datetime, days: float
) -> Path:
    """Every series, a sample every STEP, for `days` before `end`."""
    steps = int(days * 24 * 60 / (STEP.total_seconds() / 60))
    start = end - steps * STEP
    per_step = STEP.total_seconds() / 60  # minutes
    families: dict[str, list[str]] = {
        "voice_active_sessions": ["# TYPE voice_active_sessions gauge"],
        "voice_ttfb_seconds": ["# TYPE voice_ttfb_seconds histogram"],
        "voice_model_tokens": ["# TYPE voice_model_tokens counter"],
        "voice_calls_rejected": ["# TYPE voice_calls_rejected counter"],
        "voice_call_duration_seconds": ["# TYPE voice_call_duration_seconds histogram"],
    }
    for item in verticals:
        where = f'namespace="{item.namespace}",vertical="{item.vertical}"'
        tokens = refused = durations = 0.0
        vertical_lines: dict[str, list[str]] = {name: [] for name in families}
        for pod in range(item.pods):
            labels = f'{where},pod="{item.vertical}-{pod}"'
            counts = [0.0] * len(BUCKETS)
            total = observed_sum = 0.0
            for index_ in range(steps + 1):
                minute = int(index_ * per_step)
                stamp = (start + index_ * STEP).timestamp()
                load = item.load(pod, minute)
                vertical_lines["voice_active_sessions"].append(
                    f"voice_active_sessions{{{labels}}} {load:.2f} {stamp:.0f}"
                )
                seconds = item.latency(load)
                arrivals = max(load, 1.0) * per_step  # answers a minute, at this latency
                for index, bound in enumerate(BUCKETS):
                    if seconds <= bound:
                        counts[index] += arrivals
                total += arrivals
                observed_sum += arrivals * seconds
                for index, bound in enumerate(BUCKETS):
                    vertical_lines["voice_ttfb_seconds"].append(
                        f'voice_ttfb_seconds_bucket{{{labels},le="{bound}"}} {counts[index]:.0f} {stamp:.0f}'
                    )
                vertical_lines["voice_ttfb_seconds"] += [
                    f'voice_ttfb_seconds_bucket{{{labels},le="+Inf"}} {total:.0f} {stamp:.0f}',
                    f"voice_ttfb_seconds_count{{{labels}}} {total:.0f} {stamp:.0f}",
                    f"voice_ttfb_seconds_sum{{{labels}}} {observed_sum:.3f} {stamp:.0f}",
                ]
        for index_ in range(steps + 1):
            minute = int(index_ * per_step)
            stamp = (start + index_ * STEP).timestamp()
            calls = sum(item.load(pod, minute) for pod in range(item.pods))
            tokens += calls * item.tokens_per_call_minute * per_step
            refused += item.refused_per_minute * per_step
            durations += calls / (item.call_seconds / 60) * per_step  # calls that ended
            vertical_lines["voice_model_tokens"].append(
                f"voice_model_tokens_total{{{where}}} {tokens:.0f} {stamp:.0f}"
            )
            vertical_lines["voice_calls_rejected"].append(
                f"voice_calls_rejected_total{{{where}}} {refused:.2f} {stamp:.0f}"
            )
            vertical_lines["voice_call_duration_seconds"] += [
                f"voice_call_duration_seconds_count{{{where}}} {durations:.2f} {stamp:.0f}",
                f"voice_call_duration_seconds_sum{{{where}}} {durations * item.call_seconds:.2f} {stamp:.0f}",
            ]
        for name, lines in vertical_lines.items():
            families[name] += lines
    body = [line for lines in families.values() for line in lines]
    path.write_text("\n".join([*body, "# EOF"]) + "\n")
    return path
