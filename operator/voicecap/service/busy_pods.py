"""Busy pods last (spec.scaleDown.protectBusyPods): before a workload shrinks, its pods carry
their rank by live calls as controller.kubernetes.io/pod-deletion-cost (core/busy_pods.py).

Per cycle: one Prometheus query for live calls per pod, made only when some opted-in workload can
shrink; then per such workload one GET of the target (its selector) and one LIST of its pods, and
at most scaleDown.podPatchesPerCycle pod patches. A refusal (RBAC off, say) is a Warning Event
once, not one per cycle.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable

from voicecap.adapters import children
from voicecap.adapters.kube import KubeError, Ref
from voicecap.adapters.prometheus import QueryFailedError
from voicecap.api.models import VoiceCapacity
from voicecap.core import busy_pods
from voicecap.core.outcome import Transition
from voicecap.core.plan import Plan
from voicecap.service.reconciler import Reconciler

log = logging.getLogger("voicecap")
_TARGETS = {"Deployment": "deployments", "StatefulSet": "statefulsets"}


class BusyPodRanker:
    def __init__(self, reconciler: Reconciler) -> None:
        r = reconciler
        self._kube, self._world, self._sessions = r.kube, r.world, r.sessions
        self._writer, self._clock = r.writer, r.clock
        self._warned: dict[str, str] = {}  # key -> the problem already reported

    async def rank(self, planned: Iterable[tuple[VoiceCapacity, Plan]]) -> None:
        shrinking = [(c, p) for c, p in planned if self._shrinking(c, p)]
        if not shrinking:
            return
        try:
            calls = await self._sessions.pod_sessions()
        except QueryFailedError as error:  # unknown calls: rank nothing rather than guess
            log.warning("busy pods: live calls per pod unknown: %s", error)
            return
        for capacity, _ in shrinking:
            try:
                await self._rank_one(capacity, calls)
                self._warned.pop(capacity.key, None)
            except KubeError as error:
                await self._warn(capacity, f"pod-deletion-cost not set: {error}")

    def _shrinking(self, capacity: VoiceCapacity, plan: Plan) -> bool:
        spec = capacity.spec
        if not spec.scale_down.protect_busy_pods or spec.paused:
            return False
        live = self._world.hpa(capacity.namespace, children.hpa_name(capacity))
        report = live.hpa if live is not None else None
        return busy_pods.can_shrink(
            plan.ready_replicas,
            plan.floor,
            report.current_replicas if report else None,
            report.desired_replicas if report else None,
        )

    async def _rank_one(self, capacity: VoiceCapacity, calls: dict[tuple[str, str], float]) -> None:
        namespace, target = capacity.namespace, capacity.spec.target_ref
        workload = await self._kube.get(
            Ref("apps/v1", _TARGETS[target.kind], namespace, target.name)
        )
        selector = busy_pods.label_selector((workload or {}).get("spec", {}).get("selector") or {})
        if selector is None:
            return  # gone, or a selector the API cannot express as a query: rank nothing
        pods = [
            pod
            for pod in await self._kube.select(
                Ref("v1", "pods", namespace), label_selector=selector
            )
            if not pod["metadata"].get("deletionTimestamp")
        ]
        live = {
            pod["metadata"]["name"]: calls.get((namespace, pod["metadata"]["name"]), 0.0)
            for pod in pods
        }
        current = {
            pod["metadata"]["name"]: (pod["metadata"].get("annotations") or {}).get(
                busy_pods.DELETION_COST
            )
            for pod in pods
        }
        budget = capacity.spec.scale_down.pod_patches_per_cycle
        for name, cost in busy_pods.patches(live, current, budget):
            await self._kube.patch(
                Ref("v1", "pods", namespace, name),
                {"metadata": {"annotations": {busy_pods.DELETION_COST: cost}}},
            )

    async def _warn(self, capacity: VoiceCapacity, problem: str) -> None:
        if self._warned.get(capacity.key) == problem:
            return
        self._warned[capacity.key] = problem
        log.warning("%s: %s", capacity.key, problem)
        event = Transition("Warning", "BusyPodsNotProtected", problem)
        with contextlib.suppress(KubeError):  # the log line stands
            await self._writer.events(capacity.metadata, [event], self._clock.now())
