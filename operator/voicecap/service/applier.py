"""What one reconcile applies to the cluster: the owned HPA (behind the guards, after busy pods
are ranked when the floor drops) and the alert rules."""

from __future__ import annotations

from voicecap.adapters import children
from voicecap.adapters.kube import NotFoundError, RejectedError
from voicecap.adapters.metrics import OperatorMetrics
from voicecap.adapters.objects import LiveChild
from voicecap.api.models import VoiceCapacity
from voicecap.core.apply.autoscaler import HPAReport, max_replicas
from voicecap.core.apply.guards import Surroundings, guard
from voicecap.core.apply.outcome import Outcome, RulesOutcome, Transition
from voicecap.core.planner.plan import Plan
from voicecap.service.busy_pods import BusyPodRanker
from voicecap.service.token_book import TokenBook
from voicecap.service.world import World
from voicecap.service.writer import ChildWriter


class ChildApplier:
    """Applies one plan: the owned HPA (behind the guards, busy pods ranked first when the floor
    drops) and the alert rules. Not for status or Events: the Reconciler writes those from what
    this returns."""

    def __init__(
        self,
        *,
        world: World,
        book: TokenBook,
        busy_pods: BusyPodRanker,
        writer: ChildWriter,
        metrics: OperatorMetrics,
    ) -> None:
        self._world = world
        self._book = book
        self._busy_pods = busy_pods
        self._writer = writer
        self._metrics = metrics

    async def apply(
        self,
        capacity: VoiceCapacity,
        decided: Plan,
        live: LiveChild | None,
        report: HPAReport | None,
    ) -> tuple[Outcome, list[Transition]]:
        """Apply `decided`, or say which guard stopped it. `live`: the owned HPA as the watch
        cache has it (read once per reconcile); `report`: its report as acted on. Returns what
        applying found and the Events it made (an HPA created)."""
        name = children.hpa_name(capacity)
        target = capacity.spec.target_ref
        around = Surroundings(
            target_found=decided.ready_replicas is not None,
            hpa_name=name,
            hpa_owned=None if live is None else live.owned_by(capacity),
            autoscalers=tuple(
                self._world.autoscalers(capacity.namespace, target.kind, target.name)
            ),
            budget=self._book.state(capacity),
        )
        stopped = guard(capacity, decided, around)
        if stopped is not None:
            return stopped, []
        ceiling = max_replicas(decided.floor, decided.ceiling, report)
        desired = children.render_hpa(capacity, decided, ceiling)
        await self._busy_pods.before_lowering(capacity, decided.floor, live)
        try:
            created = await self._writer.hpa(capacity, desired, live)
        except (RejectedError, NotFoundError) as error:
            self._metrics.reconcile_errors.labels("ApplyFailed").inc()
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
        """Apply the alert rules: a PrometheusRule where prometheus-operator is installed, else
        a ConfigMap with the rule file (and the other form, once replaced, is removed)."""
        kind = self._world.rules_kind()
        name = children.rules_name(capacity, kind)
        if capacity.spec.paused:
            return RulesOutcome(None, "Paused", f"paused: {kind} {name} left as it is")
        live = self._world.rules(capacity.namespace, kind, name)
        if live is not None and not live.owned_by(capacity):
            return RulesOutcome(
                False, "NameTaken", f"{kind} {name} exists and is not owned by this VoiceCapacity"
            )
        other: children.RulesKind = "ConfigMap" if kind == "PrometheusRule" else "PrometheusRule"
        other_name = children.rules_name(capacity, other)
        replaced = self._world.rules(capacity.namespace, other, other_name)
        try:
            summary = await self._writer.rules(capacity, kind, live)
            if replaced is not None and replaced.owned_by(capacity):
                await self._writer.remove_rules(capacity.namespace, other, other_name)
        except (RejectedError, NotFoundError) as error:
            self._metrics.reconcile_errors.labels("RulesFailed").inc()
            return RulesOutcome(False, "ApplyFailed", f"{kind} {name}: {error}")
        return RulesOutcome(True, kind, f"{kind} {name}: {summary}")
