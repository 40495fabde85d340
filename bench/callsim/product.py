"""The product under test, through the calls a release has had since forecasts came in: plan(),
the models, the forecast core and the conditions. Slot-aware releases (core/peaks/forecast.slots_of)
get per-slot weekly values; older ones the window's.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from voicecap.api.models import VoiceCapacity


def _module(*names: str) -> Any:
    """The first of `names` the release under test has: modules moved between releases (core/
    grouped into subpackages), and --before runs an older tree through this same file."""
    for name in names:
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError:
            continue
    raise ModuleNotFoundError(f"none of {names}")


def _optional(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError:
        return None


sizing = _module("voicecap.core.sizing")
forecast = _module("voicecap.core.peaks.forecast", "voicecap.core.forecast")
peaks = _module("voicecap.core.peaks.windows", "voicecap.core.peaks")
REGISTRY = _optional("voicecap.core.status.condition_types")
conditions = None if REGISTRY is not None else _module("voicecap.core.conditions")
OUTCOME = _module("voicecap.core.apply.outcome").Outcome("Reconciled", "") if REGISTRY else None
History = forecast.History
Observation = _module("voicecap.core.planner.observation", "voicecap.core.observation").Observation
PLAN_MODULE = _module("voicecap.core.planner.plan", "voicecap.core.plan")
core_plan = PLAN_MODULE.plan

knee = _optional("voicecap.core.measured.knee")  # measured inputs: None before they came in
tokens = _optional("voicecap.core.measured.tokens")
calibration = _optional("voicecap.core.measured.calibration")
MEASURES = knee is not None

SLOTS = hasattr(forecast, "slots_of")
ALERTING = ("HeadroomLow", "NearCeiling", "BurstAboveFactor")

Quantile = Callable[[datetime, datetime, float], "float | None"]


def capacity(spec: dict[str, Any]) -> VoiceCapacity:
    return VoiceCapacity.model_validate(
        {
            "apiVersion": "voicecap.io/v1alpha1",
            "kind": "VoiceCapacity",
            "metadata": {"name": "bench", "namespace": "voice"},
            "spec": spec,
        }
    )


def plan(
    capacity: VoiceCapacity,
    *,
    sessions: float | None,
    at: datetime,
    ready: int | None,
    forecasts: dict[str, Any],
    memory: Any,
    actuals: dict[str, tuple[datetime, float]] | None = None,
    burst: float | None = None,
    **measured: Any,
) -> Any:
    """plan() from what the benchmark observed; `measured` are Observation fields only releases
    with measured inputs have (latency, rate_limited, calibration) and the TPM grant."""
    history = History(
        forecasts=forecasts,
        actuals=actuals or {},
        burst_factor=burst,
        burst_known=burst is not None,
    )
    # Releases that know whether the HPA reads its metric are told it does (it does here).
    told = {"hpa_scaling": True} if "hpa_scaling" in Observation.__dataclass_fields__ else {}
    observed = (
        Observation(
            sessions=sessions,
            sampled_at=at,
            ready_replicas=ready,
            history=history,
            **told,
            **measured,
        )
        if sessions is not None
        else Observation(failure="NoData", ready_replicas=ready, history=history, **measured)
    )
    return core_plan(capacity, observed, at, memory)


def memory_with_scale_ups(seconds: float) -> Any:
    """The memory an operator running since the day before starts the day with: the scale-ups
    to Ready it measured (None for releases that do not keep them)."""
    planner_memory = _optional("voicecap.core.planner.observation")
    readiness = _optional("voicecap.core.planner.readiness")
    if readiness is None or "recent" not in readiness.Readiness.__dataclass_fields__:
        return None
    return planner_memory.Memory(
        readiness=readiness.Readiness(last_seconds=seconds, recent=(seconds,))
    )


def hpa_target(capacity: VoiceCapacity, decided: Any) -> float:
    """The per-pod target the operator renders into the HPA for this plan."""
    sessions = capacity.spec.sessions
    return float(
        sizing.hpa_target_per_pod(
            decided.per_pod, sessions.target_utilization, sessions.blocking_target
        )
    )


def measured_calibration(
    bins: list[tuple[float, float, int]],
    used_tokens: float | None,
    call_minutes: float | None,
    at: datetime,
) -> Any:
    """The product's Calibration from load bins (load, latency, samples) and token use, as its
    background refresh makes it from Prometheus' answers."""
    estimate = knee.estimate_per_pod(
        [knee.LoadBin(load, latency, samples) for load, latency, samples in bins],
        target=0.8,
    )
    return calibration.Calibration(
        per_pod=estimate, tokens=tokens.estimate_tokens(used_tokens, call_minutes), computed_at=at
    )


def session_replicas(capacity: VoiceCapacity, calls: float) -> int:
    sessions = capacity.spec.sessions
    blocking = getattr(sessions, "blocking_target", None)
    if blocking is not None:
        return sizing.session_replicas(
            calls, sessions.per_pod, sessions.target_utilization, blocking=blocking
        )
    return sizing.session_replicas(calls, sessions.per_pod, sessions.target_utilization)


def alerts(decided: Any) -> set[str]:
    """The conditions that page (the generated alerts' twins), True in this plan."""
    if REGISTRY is not None:  # one row per condition, each decided from (plan, outcome)
        return {
            row.type
            for row in REGISTRY.CONDITION_TYPES
            if row.type in ALERTING
            and (made := row.decide(decided, OUTCOME)) is not None
            and made.status == "True"
        }
    found = set()
    for made in (conditions.headroom_condition(decided), conditions.burst_condition(decided)):
        if made is not None and made.status == "True":
            found.add(made.type)
    near = getattr(conditions, "near_ceiling_condition", None)
    if near is not None and near(decided).status == "True":
        found.add("NearCeiling")
    return found


def forecast_window(peak: Any, at: datetime) -> datetime | None:
    return forecast.forecast_window(peak, at)


def last_closed_start(peak: Any, at: datetime) -> datetime | None:
    return forecast.last_closed_start(peak, at)


def windows(
    capacity: VoiceCapacity, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """[start, end) of every window meeting the span (no lead time: KEDA's cron has none)."""
    return [
        (window.start, window.end)
        for peak in capacity.spec.peaks
        for window in peaks.windows_meeting(peak, start, end)
    ]


def every_day(capacity: VoiceCapacity) -> VoiceCapacity:
    """The capacity with no excluded days: what KEDA's cron scaler runs (it has none), so a
    holiday still scales up there."""
    spec = capacity.spec
    if not any(getattr(peak, "exclude", None) for peak in spec.peaks):
        return capacity
    cleared = [peak.model_copy(update={"exclude": []}) for peak in spec.peaks]
    return capacity.model_copy(update={"spec": spec.model_copy(update={"peaks": cleared})})


def forecast_of(
    capacity: VoiceCapacity, peak: Any, window_start: datetime, quantile: Quantile
) -> Any:
    settings = capacity.spec.forecast
    weeks = []
    for start, end in forecast.weekly_windows(peak, window_start, settings.weeks):
        if SLOTS:
            slots = [quantile(s, e, settings.quantile) for s, e in forecast.slots_of(start, end)]
            weeks.append(forecast.week_value(start, end, slots))
        else:
            weeks.append(forecast.WeekValue(start, end, quantile(start, end, settings.quantile)))
    return forecast.forecast_from(
        peak, settings, weeks, window_start=window_start, at=window_start - peak.lead_time
    )


class Planner:
    """What callsim.sim and callsim.history call, bound to this release."""

    capacity = staticmethod(capacity)
    plan = staticmethod(plan)
    session_replicas = staticmethod(session_replicas)
    alerts = staticmethod(alerts)
    forecast_window = staticmethod(forecast_window)
    last_closed_start = staticmethod(last_closed_start)
    windows = staticmethod(windows)
    every_day = staticmethod(every_day)
    forecast = staticmethod(forecast_of)
    hpa_target = staticmethod(hpa_target)
    memory_with_scale_ups = staticmethod(memory_with_scale_ups)
    measured_calibration = staticmethod(measured_calibration)
