"""What one reconcile applies to the cluster: the owned HPA (behind the guards, after busy pods
are ranked when the floor drops) and the alert rules, and the HPA report it acts on (a metric
blip left out, core/autoscaler.settled)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from voicecap.adapters import children
from voicecap.adapters.kube import NotFoundError, RejectedError
from voicecap.adapters.objects import LiveChild
from voicecap.api.models import VoiceCapacity
from voicecap.core.apply.autoscaler import HPAReport, max_replicas, settled
from voicecap.core.apply.guards import Surroundings, guard
from voicecap.core.apply.outcome import Outcome, RulesOutcome, Transition
from voicecap.core.planner.plan import Plan
from voicecap.service.parts import Parts


@dataclass
class ChildApplier:
    parts: Parts
    # How old a metric loss the HPA reports must be before it counts (core/autoscaler.settled).
    hpa_metric_grace: timedelta = timedelta(seconds=45)
    # The HPA report each object's last reconcile acted on (a metric blip keeps its conditions).
    _acted: dict[str, HPAReport] = field(default_factory=dict)

    def forget_except(self, keys: set[str]) -> None:
        for key in set(self._acted) - keys:
            del self._acted[key]

    def settled_report(self, key: str, live: LiveChild | None) -> HPAReport | None:
        """The owned HPA's report to act on, a metric blip left out (core/autoscaler.settled).
        The HPA stamps its conditions in real time, whatever the operator's Clock says."""
        report = settled(
            live.hpa if live is not None else None,
            self._acted.get(key),
            now=datetime.now(UTC),
            grace=self.hpa_metric_grace,
        )
        if report is None:
            self._acted.pop(key, None)
        else:
            self._acted[key] = report
        return report

    async def apply(
        self,
        capacity: VoiceCapacity,
        decided: Plan,
        live: LiveChild | None,
        report: HPAReport | None,
    ) -> tuple[Outcome, list[Transition]]:
        """`live`: the owned HPA as the watch cache has it (read once per reconcile); `report`:
        its report as acted on."""
        name = children.hpa_name(capacity)
        target = capacity.spec.target_ref
        around = Surroundings(
            target_found=decided.ready_replicas is not None,
            hpa_name=name,
            hpa_owned=None if live is None else live.owned_by(capacity),
            autoscalers=tuple(
                self.parts.world.autoscalers(capacity.namespace, target.kind, target.name)
            ),
            budget=self.parts.book.state(capacity),
        )
        stopped = guard(capacity, decided, around)
        if stopped is not None:
            return stopped, []
        ceiling = max_replicas(decided.floor, decided.ceiling, report)
        desired = children.render_hpa(capacity, decided, ceiling)
        await self.parts.busy_pods.before_lowering(capacity, decided.floor, live)
        try:
            created = await self.parts.writer.hpa(capacity, desired, live)
        except (RejectedError, NotFoundError) as error:
            self.parts.metrics.reconcile_errors.labels("ApplyFailed").inc()
            return Outcome(
                "ApplyFailed", f"HorizontalPodAutoscaler {name}: {error}", around.budget
            ), []
        spec = desired["spec"]
        events = (
            [
                Transition(
                    "Normal",
                    "HPACreated",
                    f"HorizontalPodAutoscaler {name}: minReplicas {decided.floor}, "
                    f"maxReplicas {decided.ceiling}",
                )
            ]
            if created
            else []
        )
        return Outcome(
            "Reconciled",
            f"HorizontalPodAutoscaler {name}: minReplicas {spec['minReplicas']}, "
            f"maxReplicas {spec['maxReplicas']}",
            around.budget,
            hpa=report,
            hpa_max_replicas=ceiling,
        ), events

    async def apply_rules(self, capacity: VoiceCapacity) -> RulesOutcome:
        """The alert rules: a PrometheusRule where prometheus-operator is installed, else a
        ConfigMap with the rule file (and the other form, once replaced, is removed)."""
        kind = self.parts.world.rules_kind()
        name = children.rules_name(capacity, kind)
        if capacity.spec.paused:
            return RulesOutcome(None, "Paused", f"paused: {kind} {name} left as it is")
        live = self.parts.world.rules(capacity.namespace, kind, name)
        if live is not None and not live.owned_by(capacity):
            return RulesOutcome(
                False, "NameTaken", f"{kind} {name} exists and is not owned by this VoiceCapacity"
            )
        other: children.RulesKind = "ConfigMap" if kind == "PrometheusRule" else "PrometheusRule"
        other_name = children.rules_name(capacity, other)
        replaced = self.parts.world.rules(capacity.namespace, other, other_name)
        try:
            summary = await self.parts.writer.rules(capacity, kind, live)
            if replaced is not None and replaced.owned_by(capacity):
                await self.parts.writer.remove_rules(capacity.namespace, other, other_name)
        except (RejectedError, NotFoundError) as error:
            self.parts.metrics.reconcile_errors.labels("RulesFailed").inc()
            return RulesOutcome(False, "ApplyFailed", f"{kind} {name}: {error}")
        return RulesOutcome(True, kind, f"{kind} {name}: {summary}")
