"""What the HPA reports about itself, and the one decision that report drives: its maxReplicas.

The HPA controller (pkg/controller/podautoscaler) clamps the target into [minReplicas,
maxReplicas] on every sync, but it computes a size between them only from its metrics. When it
cannot read them (no prometheus-adapter, or the adapter has no series for the pods), it sets
ScalingActive=False (FailedGetPodsMetric) and leaves the replicas where they are: the floor still
raises the Deployment, but nothing ever lowers it again after a peak. So while the HPA reports
that, voicecap holds maxReplicas at the floor, and the floor (which follows live sessions every
cycle, with its own scale-down stabilization) drives scale-down too. Once the HPA reads its metric
again (it evaluates its metrics whenever the target is inside its bounds) the ceiling returns.

A blip is not a loss: one failed sync (prometheus-adapter or Prometheus away for a moment) leaves
ScalingActive=False for a whole HPA sync period (15 s). Acting on it would cap maxReplicas and
restore it a sync later (two HPA patches, two status patches and two Events per VoiceCapacity:
thousands of writes for one hiccup). `settled` keeps the conditions voicecap last acted on until
the loss is `grace` old (--hpa-metric-grace, default 45 s: three syncs).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

# The HPA's conditions, in the order `kubectl describe hpa` shows them.
HPA_CONDITION_TYPES = ("AbleToScale", "ScalingActive", "ScalingLimited")


@dataclass(frozen=True)
class HPACondition:
    type: str
    status: str  # "True" | "False" | "Unknown"
    reason: str = ""
    message: str = ""
    since: datetime | None = field(default=None, compare=False)  # lastTransitionTime


@dataclass(frozen=True)
class HPAReport:
    """The live HPA's status: its conditions and sizes (None where it has not reported yet)."""

    conditions: tuple[HPACondition, ...] = field(default_factory=tuple)
    current_replicas: int | None = None
    desired_replicas: int | None = None

    def condition(self, kind: str) -> HPACondition | None:
        return next((c for c in self.conditions if c.type == kind), None)

    @property
    def scaling_on_metric(self) -> bool | None:
        """True while the HPA sizes the target from its metric, False while it cannot, None
        until it has said (no ScalingActive yet, or scaling disabled by hand)."""
        if self.metric_unavailable:
            return False
        active = self.condition("ScalingActive")
        return True if active is not None and active.status == "True" else None

    @property
    def metric_unavailable(self) -> bool:
        """The HPA says it cannot compute a size from its metric. ScalingDisabled (the target
        was scaled to zero by hand) is not about metrics, so it does not count."""
        active = self.condition("ScalingActive")
        if active is None or active.status != "False":
            return False
        return active.reason != "ScalingDisabled"


def max_replicas(floor: int, ceiling: int, report: HPAReport | None) -> int:
    """The HPA's maxReplicas: the ceiling, or the floor while the HPA cannot read its metric."""
    if report is not None and report.metric_unavailable:
        return max(floor, 1)
    return max(ceiling, floor, 1)


def settled(
    report: HPAReport | None, acted: HPAReport | None, *, now: datetime, grace: timedelta
) -> HPAReport | None:
    """The report to act on: `report`, unless it is a metric loss younger than `grace` after
    the HPA was scaling on its metric in the report acted on last (`acted`): then its
    conditions stand, so a blip writes nothing. Without a transition time the loss counts."""
    if report is None or acted is None or not report.metric_unavailable:
        return report
    active = report.condition("ScalingActive")
    since = active.since if active is not None else None
    if acted.scaling_on_metric is True and since is not None and now - since < grace:
        return replace(report, conditions=acted.conditions)
    return report
