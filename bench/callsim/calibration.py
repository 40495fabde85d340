"""What voicecap-measured knows before the measured day: the calibration the operator's
background refresh makes from Prometheus, here from the trace's previous Monday (its history rate
a week earlier, the whole day: the operator reads days of samples, quiet hours included) run
under voicecap with the declared inputs, as a team runs before turning Measured on.

Every 5 minutes each ready pod gives a sample: its calls (the even spread, with the gateway's
imbalance of +-15 %) and its p95 latency at them (with 5 % measurement noise). The samples are
binned by load as the operator's query bins them (round(ln(calls) x 20)), each bin's median
latency and count; tokens are the call-minutes served x the true tokens a call-minute uses.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from datetime import timedelta
from typing import Any

import numpy as np

from callsim.history import Forecaster
from callsim.sim import Fleet, run
from callsim.traces import Trace
from callsim.truth import Truth, latency

SAMPLE_SECONDS = 300.0
BINS_PER_E = 20
IMBALANCE = 0.15
NOISE = 0.05


def previous_day(trace: Trace, planner: Any, forecaster: Forecaster, seed: int) -> Any:
    """The product's Calibration from the Monday before the trace's, under voicecap Declared."""
    truth = trace.truth or Truth.declared(planner.capacity(trace.spec).spec)
    before = dataclasses.replace(
        trace,
        rate=trace.history_rate(1),
        day=trace.day - timedelta(weeks=1),
        hours=(0.0, 24.0),
        truth=dataclasses.replace(truth, drop_to=None, drop_hour=None),  # before the change
    )
    rng = np.random.default_rng(seed + 1000)
    by_bin: dict[int, list[float]] = {}
    call_seconds = [0.0]
    last_sample = [-SAMPLE_SECONDS]

    def observe(now: float, busy: int, fleet: Fleet) -> None:
        ready = fleet.hpa.ready(now)
        call_seconds[0] += busy * 15.0
        if now - last_sample[0] < SAMPLE_SECONDS or not ready or not busy:
            return
        last_sample[0] = now
        capacity = truth.per_pod
        for share in rng.normal(1.0, IMBALANCE, size=ready):
            load = busy / ready * max(share, 0.05)
            seen = latency(load, capacity) * float(rng.lognormal(0.0, NOISE))
            by_bin.setdefault(round(math.log(load) * BINS_PER_E), []).append(seen)

    run(before, "voicecap", planner, forecaster, seed + 1000, observe=observe)
    bins = [
        (math.exp(key / BINS_PER_E), float(statistics.median(values)), len(values))
        for key, values in sorted(by_bin.items())
    ]
    minutes = call_seconds[0] / 60
    used = minutes * truth.tokens_per_minute if truth.tokens_per_minute else None
    return planner.measured_calibration(bins, used, minutes, before.end())
