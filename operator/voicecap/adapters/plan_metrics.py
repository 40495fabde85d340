"""What the plans say on the operator's /metrics (docs/api.md "Metrics contract"): gauges that
follow the objects, removed when their VoiceCapacity or peak goes away, so the series count never
grows on its own (the budgets' are in adapters/budget_metrics.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Set

from prometheus_client import CollectorRegistry, Gauge

from voicecap.core.planner.plan import Plan

_VERTICAL = ("namespace", "vertical")
_PEAK = ("namespace", "vertical", "peak")


class PlanGauges:
    """Per vertical (`namespace`, `vertical`) and per peak (and `peak`): what each plan says,
    removed with its VoiceCapacity or peak, so the series count follows the objects."""

    def __init__(self, r: CollectorRegistry) -> None:
        self.capacity_sessions = Gauge(
            "voicecap_capacity_sessions", "Ready pods x perPod.", _VERTICAL, registry=r
        )
        self.active_sessions = Gauge(
            "voicecap_active_sessions", "Active sessions, last known.", _VERTICAL, registry=r
        )
        self.utilization = Gauge(
            "voicecap_utilization_ratio", "Active sessions / capacity.", _VERTICAL, registry=r
        )
        self.floor = Gauge(
            "voicecap_floor_replicas",
            "Planned floor (the HPA's minReplicas).",
            _VERTICAL,
            registry=r,
        )
        self.ceiling = Gauge(
            "voicecap_ceiling_replicas",
            "Planned ceiling (the HPA's maxReplicas).",
            _VERTICAL,
            registry=r,
        )
        self.ceiling_sessions = Gauge(
            "voicecap_ceiling_sessions",
            "The calls the ceiling can carry: min(ceiling x perPod, TPM ceiling sessions).",
            _VERTICAL,
            registry=r,
        )
        self.ceiling_utilization = Gauge(
            "voicecap_ceiling_utilization_ratio",
            "Active sessions / ceiling sessions: the planning signal (NearCeiling).",
            _VERTICAL,
            registry=r,
        )
        self.near_ceiling = Gauge(
            "voicecap_near_ceiling",
            "1 while calls have stayed at or above headroom.ceilingWarning of the ceiling for "
            "headroom.for, else 0.",
            _VERTICAL,
            registry=r,
        )
        self.wanted = Gauge(
            "voicecap_wanted_replicas",
            "The floor the plan wants before the ceiling clamps it.",
            _VERTICAL,
            registry=r,
        )
        self.tpm_granted = Gauge(
            "voicecap_tpm_granted", "Model TPM granted by the TokenBudget.", _VERTICAL, registry=r
        )
        self.tpm_projected = Gauge(
            "voicecap_tpm_projected",
            "Active sessions x tokensPerSessionMinute.",
            _VERTICAL,
            registry=r,
        )
        self.scale_up_seconds = Gauge(
            "voicecap_scale_up_seconds",
            "The last scale-up measured: seconds from a raised floor to that many Ready pods "
            "(what a peak's leadTime must cover).",
            _VERTICAL,
            registry=r,
        )
        self.sessions_known = Gauge(
            "voicecap_sessions_known",
            "1 when session data is known, 0 while it is unknown.",
            _VERTICAL,
            registry=r,
        )
        self.last_evaluation = Gauge(
            "voicecap_last_evaluation_timestamp_seconds",
            "When the VoiceCapacity was last evaluated.",
            _VERTICAL,
            registry=r,
        )
        self.peak_active = Gauge(
            "voicecap_peak_active",
            "1 while a peak window is raised (lead time included), else 0.",
            _VERTICAL,
            registry=r,
        )
        self.admission_limit = Gauge(
            "voicecap_admission_limit_sessions",
            "Calls the gateway may admit now: min(ready pods x perPod, TPM ceiling sessions).",
            _VERTICAL,
            registry=r,
        )
        self.burst_factor = Gauge(
            "voicecap_burst_factor",
            "Largest / median concurrent sessions over the last 28 days.",
            _VERTICAL,
            registry=r,
        )
        self._per_vertical = (
            self.capacity_sessions,
            self.active_sessions,
            self.utilization,
            self.floor,
            self.ceiling,
            self.ceiling_sessions,
            self.ceiling_utilization,
            self.near_ceiling,
            self.wanted,
            self.tpm_granted,
            self.tpm_projected,
            self.scale_up_seconds,
            self.sessions_known,
            self.last_evaluation,
            self.burst_factor,
            self.admission_limit,
            self.peak_active,
        )
        self._series: dict[str, tuple[str, str]] = {}  # key -> labels in use
        self.peaks = PeakGauges(r)
        self._observed: dict[str, Plan] = {}  # key -> the plan its gauges show

    def observe(self, key: str, plan: Plan, evaluated_at: float) -> None:
        labels = (plan.namespace, plan.vertical)
        if self._observed.get(key) == plan:  # unchanged: only the heartbeat moves
            self.last_evaluation.labels(*labels).set(evaluated_at)
            return
        self._observed[key] = plan
        previous = self._series.get(key)
        if previous is not None and previous != labels:
            remove_series(previous, self._per_vertical)
        self._series[key] = labels
        set_or_remove(self.capacity_sessions, labels, plan.capacity)
        set_or_remove(self.active_sessions, labels, plan.sessions)
        set_or_remove(self.utilization, labels, plan.utilization)
        self.floor.labels(*labels).set(plan.floor)
        self.ceiling.labels(*labels).set(plan.ceiling)
        self.wanted.labels(*labels).set(plan.wanted)
        self.ceiling_sessions.labels(*labels).set(plan.ceiling_sessions)
        set_or_remove(self.ceiling_utilization, labels, plan.near_ceiling.ratio)
        self.near_ceiling.labels(*labels).set(1 if plan.near_ceiling.near else 0)
        set_or_remove(self.tpm_granted, labels, plan.tpm.granted)
        set_or_remove(self.tpm_projected, labels, plan.tpm.projected)
        set_or_remove(self.scale_up_seconds, labels, plan.memory.readiness.last_seconds)
        self.sessions_known.labels(*labels).set(1 if plan.sessions_known else 0)
        self.last_evaluation.labels(*labels).set(evaluated_at)
        set_or_remove(self.burst_factor, labels, plan.burst_factor)
        self.peak_active.labels(*labels).set(1 if plan.active_peak is not None else 0)
        limit = plan.admission.max_sessions if plan.admission is not None else None
        set_or_remove(self.admission_limit, labels, limit)
        self.peaks.observe(key, plan)

    def forget(self, key: str) -> None:
        self._observed.pop(key, None)
        labels = self._series.pop(key, None)
        if labels is not None and labels not in self._series.values():
            remove_series(labels, self._per_vertical)
        self.peaks.forget(key)

    def forget_except(self, keys: Set[str]) -> None:
        """Removes the series of every VoiceCapacity not in `keys` (service/ports.Forgetting)."""
        for key in set(self._series) - keys:
            self.forget(key)


class PeakGauges:
    """Per peak (`namespace`, `vertical`, `peak`): its forecast and its last window's scorecard."""

    def __init__(self, r: CollectorRegistry) -> None:
        self.forecast_sessions = Gauge(
            "voicecap_forecast_sessions",
            "forecastSessions of a peak (docs/api.md Forecasts).",
            _PEAK,
            registry=r,
        )
        self.forecast_weeks = Gauge(
            "voicecap_forecast_weeks_used",
            "Weeks with data behind a peak's forecast.",
            _PEAK,
            registry=r,
        )
        self.scorecard_actual = Gauge(
            "voicecap_scorecard_actual_sessions",
            "forecast.quantile of sessions inside a peak's latest closed window.",
            _PEAK,
            registry=r,
        )
        self.scorecard_baseline = Gauge(
            "voicecap_scorecard_baseline_sessions",
            "The baseline the pre-scale of a peak's latest window planned for.",
            _PEAK,
            registry=r,
        )
        self.scorecard_error = Gauge(
            "voicecap_scorecard_error_ratio",
            "(actual - baseline) / baseline of a peak's latest closed window.",
            _PEAK,
            registry=r,
        )
        self.scorecard_over_capacity = Gauge(
            "voicecap_scorecard_over_capacity_minutes",
            "Minutes of a peak's latest window with sessions above ready pods x perPod.",
            _PEAK,
            registry=r,
        )
        self._per_peak = (
            self.forecast_sessions,
            self.forecast_weeks,
            self.scorecard_actual,
            self.scorecard_baseline,
            self.scorecard_error,
            self.scorecard_over_capacity,
        )
        self._peaks: dict[str, set[tuple[str, str, str]]] = {}  # key -> peak labels in use

    def observe(self, key: str, plan: Plan) -> None:
        peaks = {(plan.namespace, plan.vertical, peak.name) for peak in plan.peaks}
        for gone in self._peaks.get(key, set()) - peaks:
            remove_series(gone, self._per_peak)
        self._peaks[key] = peaks
        for forecast in plan.forecasts:
            labels = (plan.namespace, plan.vertical, forecast.peak)
            set_or_remove(self.forecast_sessions, labels, forecast.sessions)
            self.forecast_weeks.labels(*labels).set(forecast.weeks_used)
        for card in plan.scorecards:
            labels = (plan.namespace, plan.vertical, card.peak)
            set_or_remove(self.scorecard_actual, labels, card.actual)
            set_or_remove(self.scorecard_baseline, labels, card.baseline)
            set_or_remove(self.scorecard_error, labels, card.error_ratio)
            self.scorecard_over_capacity.labels(*labels).set(card.over_capacity_minutes)

    def forget(self, key: str) -> None:
        for peak in self._peaks.pop(key, set()):
            remove_series(peak, self._per_peak)


def set_or_remove(gauge: Gauge, labels: tuple[str, ...], value: float | None) -> None:
    if value is None:
        with contextlib.suppress(KeyError):
            gauge.remove(*labels)
    else:
        gauge.labels(*labels).set(value)


def remove_series(labels: tuple[str, ...], gauges: tuple[Gauge, ...]) -> None:
    for gauge in gauges:
        with contextlib.suppress(KeyError):
            gauge.remove(*labels)
