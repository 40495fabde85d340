"""Busy pods last (spec.scaleDown.protectBusyPods): before a workload shrinks, its pods carry
their rank by live calls as controller.kubernetes.io/pod-deletion-cost (core/apply/busy_pods.py).

Two moments rank: before the operator writes a lower minReplicas (the reconcile waits for the
costs, so no scale-down the operator causes can beat its own ranking), and after every cycle for
each workload above its floor (the HPA may shrink it to the floor at any sync). Live calls per pod
come from one Prometheus query, shared by every ranking within CALLS_FRESH seconds; per ranked
workload one GET of the target (its selector), one LIST of its pods and at most
scaleDown.podPatchesPerCycle pod patches. A refusal (RBAC off, say) is a Warning Event once, not
one per cycle.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable, Set
from dataclasses import dataclass, field

from voicecap.adapters import children
from voicecap.adapters.kube import KubeError, Ref
from voicecap.adapters.objects import LiveChild
from voicecap.adapters.prometheus import QueryFailedError
from voicecap.api.models import VoiceCapacity
from voicecap.core.apply import busy_pods
from voicecap.core.apply.outcome import Transition
from voicecap.core.planner.plan import Plan
from voicecap.service.clock import Clock
from voicecap.service.ports import Kube
from voicecap.service.sessions import SessionCache
from voicecap.service.world import World
from voicecap.service.writer import ChildWriter

log = logging.getLogger("voicecap")
_TARGETS = {"Deployment": "deployments", "StatefulSet": "statefulsets"}
# Live calls per pod this young serve another ranking: one query per cycle, not per workload.
CALLS_FRESH = 5.0
Calls = dict[tuple[str, str], float]


@dataclass
class BusyPodRanker:
    """Ranks an opted-in workload's pods by live calls before it shrinks. Not for choosing how
    many pods go: the HPA and the floor do; this only says which go first."""

    kube: Kube
    world: World
    sessions: SessionCache
    writer: ChildWriter
    clock: Clock
    _warned: dict[str, str] = field(default_factory=dict)  # key -> the problem already reported
    _calls: tuple[float, Calls] | None = None  # (monotonic time, live calls per pod)

    async def before_lowering(
        self, capacity: VoiceCapacity, floor: int, live: LiveChild | None
    ) -> None:
        """Rank the target's pods now if `floor` is lower than the live HPA's minReplicas
        (nothing to do when the workload is not opted in, or the floor does not drop)."""
        if not capacity.spec.scale_down.protect_busy_pods or capacity.spec.paused:
            return
        if live is None or floor >= int(live.body.get("spec", {}).get("minReplicas") or 1):
            return
        calls = await self._live_calls()
        if calls is not None:
            await self._rank_or_warn(capacity, calls)

    async def rank(self, planned: Iterable[tuple[VoiceCapacity, Plan]]) -> None:
        """After a cycle: keep the ranks current on every opted-in workload that can shrink."""
        shrinking = [(c, p) for c, p in planned if self._shrinking(c, p)]
        if not shrinking:
            return
        calls = await self._live_calls()
        if calls is None:
            return
        for capacity, _ in shrinking:
            await self._rank_or_warn(capacity, calls)

    def forget_except(self, keys: Set[str]) -> None:
        """Forgets the problems reported for deleted objects (service/ports.Forgetting)."""
        for key in set(self._warned) - keys:
            del self._warned[key]

    async def _live_calls(self) -> Calls | None:
        now = time.monotonic()
        if self._calls is not None and now - self._calls[0] < CALLS_FRESH:
            return self._calls[1]
        try:
            calls = await self.sessions.pod_sessions()
        except QueryFailedError as error:  # unknown calls: rank nothing rather than guess
            log.warning("busy pods: live calls per pod unknown: %s", error)
            return None
        self._calls = (now, calls)
        return calls

    async def _rank_or_warn(self, capacity: VoiceCapacity, calls: Calls) -> None:
        try:
            await self._rank_one(capacity, calls)
            self._warned.pop(capacity.key, None)
        except KubeError as error:
            await self._warn(capacity, f"pod-deletion-cost not set: {error}")

    def _shrinking(self, capacity: VoiceCapacity, plan: Plan) -> bool:
        spec = capacity.spec
        if not spec.scale_down.protect_busy_pods or spec.paused:
            return False
        live = self.world.hpa(capacity.namespace, children.hpa_name(capacity))
        report = live.hpa if live is not None else None
        return busy_pods.can_shrink(
            plan.ready_replicas,
            plan.floor,
            report.current_replicas if report else None,
            report.desired_replicas if report else None,
        )

    async def _rank_one(self, capacity: VoiceCapacity, calls: dict[tuple[str, str], float]) -> None:
        namespace, target = capacity.namespace, capacity.spec.target_ref
        workload = await self.kube.get(
            Ref("apps/v1", _TARGETS[target.kind], namespace, target.name)
        )
        selector = busy_pods.label_selector((workload or {}).get("spec", {}).get("selector") or {})
        if selector is None:
            return  # gone, or a selector the API cannot express as a query: rank nothing
        pods = [
            pod
            for pod in await self.kube.select(Ref("v1", "pods", namespace), label_selector=selector)
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
            await self.kube.patch(
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
            await self.writer.events(capacity.metadata, [event], self.clock.now())
