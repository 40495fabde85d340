"""What each strategy tells the HPA every 15 s (callsim/sim.py runs them):

    hpa               replicas.min and replicas.max, nothing else
    keda-cron         a cron minimum from window start to end (no lead time) at the largest floor
                      voicecap plans for the window, plus the HPA
    keda-week         KEDA's predictive recipe (Grafana Mimir's): a prometheus trigger on
                      max_over_time(calls[30m] offset 6d23h30m), the most calls of the half hour
                      that followed this moment last week, as a second metric of the HPA
    voicecap          the product's plan() from what the operator read before measured inputs:
                      the declaration, and the calls served in history
    voicecap-measured the product's plan() from what it measures: the calls offered in history
                      where refusals are counted, the vertical's latency now, the provider's 429s,
                      and the per-pod capacity and tokens calibrated from the day before; its
                      spec asks for them (latency, perPodFrom and tokensFrom: Measured)

voicecap's decisions also carry what the gateway reads from the operator (the admission limit:
the per-pod capacity it counts, the calls its TPM grant carries, the live calls while latency
holds it) and, measured, the HPA's per-pod target.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from callsim.history import Forecaster
from callsim.traces import Trace
from callsim.voice import Voice


@dataclass(frozen=True)
class Decision:
    floor: int
    ceiling: int
    hpa_target: float | None = None  # None: the HPA keeps the target it has
    per_pod: int | None = None  # the admission limit's parts (None: the gateway's own)
    tpm_calls: int | None = None
    held: int | None = None  # calls admitted at most while latency holds admission
    external: float | None = None  # a second HPA metric's value (keda-week)


Controller = Callable[[float, float | None, int], Decision]  # (now, seen calls, ready pods)


@dataclass(frozen=True)
class Measuring:
    """What voicecap-measured is given beyond the plan's usual inputs."""

    voice: Voice
    calibration: Any  # the product's Calibration, from the day before


def measured_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The trace's spec asking for measured inputs."""
    measured = {**spec, "latency": {"target": "800ms"}}
    measured["sessions"] = {**spec["sessions"], "perPodFrom": "Measured"}
    if "model" in spec:
        measured["model"] = {**spec["model"], "tokensFrom": "Measured"}
    return measured


def controller(  # noqa: PLR0917 (one call site, in sim.Fleet)
    trace: Trace,
    strategy: str,
    planner: Any,
    capacity: Any,
    forecaster: Forecaster,
    outcome: Any,
    measuring: Measuring | None = None,
) -> Controller:
    spec = capacity.spec
    start = trace.start()
    if strategy == "hpa":
        return lambda _now, _seen, _ready: Decision(spec.replicas.min, spec.replicas.max)
    if strategy == "keda-week":

        def week(now: float, _seen: float | None, _ready: int) -> Decision:
            moment = start + timedelta(seconds=now)
            last = forecaster.last_week(moment)
            return Decision(spec.replicas.min, spec.replicas.max, external=last)

        return week
    if strategy == "keda-cron":
        sizes = _cron_sizes(trace, planner, capacity, forecaster)

        def cron(now: float, _seen: float | None, _ready: int) -> Decision:
            moment = start + timedelta(seconds=now)
            size = max(
                (size for (s, e), size in sizes.items() if s <= moment < e),
                default=spec.replicas.min,
            )
            floor = min(max(size, spec.replicas.min), spec.replicas.max)
            return Decision(floor, spec.replicas.max)

        return cron
    # What the operator measured the days before: a scale-up takes the pods' start-up, seen at
    # its 15 s resolution (status.replicas.scaleUp), so leadTime: auto starts the day measured.
    seconds = trace.startup.total_seconds() + 15.0
    state: dict[str, Any] = {"memory": planner.memory_with_scale_ups(seconds)}
    granted = spec.model.reserved_tpm if spec.model is not None and trace.truth else None
    offered = measuring is not None

    def voicecap(now: float, seen: float | None, ready: int) -> Decision:
        moment = start + timedelta(seconds=now)
        extra: dict[str, Any] = {} if granted is None else {"granted_tpm": granted}
        if measuring is not None:
            extra |= {
                "latency": measuring.voice.seen_latency(now),
                "rate_limited": measuring.voice.seen_rate_limited(now),
                "calibration": measuring.calibration,
            }
        decided = planner.plan(
            capacity,
            sessions=seen,
            at=moment,
            ready=ready,
            forecasts=forecaster.raised(capacity, moment, offered=offered),
            memory=state["memory"],
            actuals=forecaster.actuals(capacity, moment),
            burst=forecaster.burst,
            **extra,
        )
        state["memory"] = decided.memory
        if outcome.floors and outcome.floors[-1][1] != decided.floor:
            outcome.floor_changes += 1
        outcome.floors.append((moment, decided.floor))
        outcome.alerts |= planner.alerts(decided)
        if trace.truth is None and measuring is None:
            return Decision(decided.floor, decided.ceiling)
        admission = decided.admission
        held = admission.max_sessions if admission and admission.reason == "Latency" else None
        return Decision(
            decided.floor,
            decided.ceiling,
            hpa_target=planner.hpa_target(capacity, decided) if measuring else None,
            per_pod=decided.per_pod,
            tpm_calls=decided.tpm.ceiling_sessions,
            held=held,
        )

    return voicecap


def _cron_sizes(
    trace: Trace, planner: Any, capacity: Any, forecaster: Forecaster
) -> dict[tuple[datetime, datetime], int]:
    """Each window's cron minimum: the largest peak floor voicecap plans inside it, minute by
    minute (with no live calls, so only the peak term counts)."""
    sizes: dict[tuple[datetime, datetime], int] = {}
    capacity = planner.every_day(capacity)
    for window in planner.windows(capacity, trace.start(), trace.end()):
        moment, best = window[0], 0
        while moment < window[1]:
            decided = planner.plan(
                capacity,
                sessions=None,
                at=moment,
                ready=None,
                forecasts=forecaster.raised(capacity, moment),
                memory=None,
            )
            best = max(best, decided.peak_floor or 0)
            moment += timedelta(minutes=1)
        sizes[window] = best
    return sizes
