"""The writing of what the operator owns, behind a narrow interface: HPAs, alert rules, status,
Events. Each write is the smallest one (a create, or a merge patch of what differs, or nothing);
the kube adapter counts them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from voicecap.adapters import children
from voicecap.adapters.kube import ConflictError, KubeError, NotFoundError, Ref
from voicecap.adapters.metrics import OperatorMetrics
from voicecap.adapters.objects import LiveChild
from voicecap.api.models import ObjectMeta, VoiceCapacity
from voicecap.api.names import (
    API_VERSION,
    EVENTS_API_VERSION,
    HPA_API_VERSION,
    PROMETHEUS_RULE_API_VERSION,
    TOKENBUDGETS,
    VOICECAPACITIES,
)
from voicecap.api.timefmt import iso
from voicecap.core.alerts.rules import RUNBOOKS, rule_group
from voicecap.core.apply.outcome import Transition
from voicecap.service.ports import Kube

log = logging.getLogger("voicecap")

HPAS = (HPA_API_VERSION, "horizontalpodautoscalers")
RULE_OBJECTS: dict[children.RulesKind, tuple[str, str]] = {
    "PrometheusRule": (PROMETHEUS_RULE_API_VERSION, "prometheusrules"),
    "ConfigMap": ("v1", "configmaps"),
}


@dataclass
class ChildWriter:
    """The one writer of what the operator owns (HPAs, rule objects), of status and of Events:
    the smallest write each time, or none. Not for deciding what to write: callers pass the
    rendered object."""

    kube: Kube
    metrics: OperatorMetrics
    identity: str = "voicecap-operator"
    runbooks: str = RUNBOOKS  # the runbooks page the alerts' runbook_url points at
    # Rendered rule objects per VoiceCapacity version: rendering YAML is the slow part.
    _rendered_rules: dict[str, tuple[tuple[Any, ...], dict[str, Any], str]] = field(
        default_factory=dict
    )
    # Children found equal to what was wanted: (their resourceVersion, what was wanted). The
    # same version and the same wish need no comparison field by field, the slow part of a
    # steady cycle.
    _matched: dict[tuple[str, Ref], tuple[str, dict[str, Any]]] = field(default_factory=dict)

    async def hpa(
        self, capacity: VoiceCapacity, desired: dict[str, Any], live: LiveChild | None
    ) -> bool:
        """Create or converge the HPA; True when it was created."""
        ref = Ref(*HPAS, capacity.namespace, desired["metadata"]["name"])
        return await self._converge(capacity.key, ref, desired, live)

    async def rules(
        self, capacity: VoiceCapacity, kind: children.RulesKind, live: LiveChild | None
    ) -> str:
        """Create or converge the rule object, and remove the other kind once replaced.
        Returns a summary of what it holds."""
        desired, summary = self._render_rules(capacity, kind)
        name = desired["metadata"]["name"]
        ref = Ref(*RULE_OBJECTS[kind], capacity.namespace, name)
        await self._converge(capacity.key, ref, desired, live)
        return summary

    async def remove_rules(self, namespace: str, kind: children.RulesKind, name: str) -> None:
        """Delete the rule object of the other kind, once this kind replaced it."""
        await self.kube.delete(Ref(*RULE_OBJECTS[kind], namespace, name))

    async def capacity_status(
        self,
        meta: ObjectMeta,
        stored: Mapping[str, Any],
        status: Mapping[str, Any],
        now: datetime,
    ) -> dict[str, Any] | None:
        """Patch the status subresource when something other than lastEvaluated changed, with
        lastEvaluated set to `now`; returns the status written (None: nothing was)."""
        unchanged = {k: v for k, v in stored.items() if k != "lastEvaluated"}
        wanted = {k: v for k, v in status.items() if k != "lastEvaluated"}
        if not children.merge_patch(unchanged, wanted):
            return None
        written = {**status, "lastEvaluated": iso(now)}
        ref = Ref(API_VERSION, VOICECAPACITIES, meta.namespace or "default", meta.name)
        try:
            await self.kube.patch_status(ref, children.merge_patch(stored, written))
        except NotFoundError:
            return None  # deleted meanwhile: nothing to report on
        return written

    async def budget_status(
        self, name: str, stored: Mapping[str, Any], status: dict[str, Any]
    ) -> None:
        """Patch a TokenBudget's status where it differs; one budget's trouble is a log line."""
        patch = children.merge_patch(stored, status)
        if not patch:
            return
        try:
            await self.kube.patch_status(Ref(API_VERSION, TOKENBUDGETS, None, name), patch)
        except NotFoundError:
            return
        except KubeError as error:  # one budget's trouble never stops the cycle
            log.warning("TokenBudget %s: could not write status: %s", name, error)

    async def events(self, meta: ObjectMeta, events: list[Transition], now: datetime) -> None:
        """Post each Event (events.k8s.io); a refused one is a log line, never a failure."""
        for event in events:
            rendered = children.render_event(meta, event, now=now, instance=self.identity)
            try:
                await self.kube.create(
                    Ref(EVENTS_API_VERSION, "events", meta.namespace or "default"), rendered
                )
            except KubeError as error:  # an Event is worth a log line, never a failed reconcile
                log.warning("could not post Event %s: %s", event.reason, error)
                continue
            self.metrics.events.labels(event.reason).inc()

    def forget_except(self, keys: Set[str]) -> None:
        """Forgets deleted objects' cached renderings (service/ports.Forgetting)."""
        for key in set(self._rendered_rules) - keys:
            del self._rendered_rules[key]
        for owner, ref in [mine for mine in self._matched if mine[0] not in keys]:
            del self._matched[owner, ref]

    async def _converge(
        self, owner: str, ref: Ref, desired: dict[str, Any], live: LiveChild | None
    ) -> bool:
        """Create the child or patch what differs; True when it was created."""
        if live is not None:
            if live.version is not None and self._matched.get((owner, ref)) == (
                live.version,
                desired,
            ):
                return False
            if not await self._patch(ref, desired, live.body) and live.version is not None:
                self._matched[owner, ref] = (live.version, desired)
            return False
        try:
            await self.kube.create(ref, desired)
        except ConflictError:  # created meanwhile (not yet in the watch cache): converge it.
            await self._patch(ref, desired, await self.kube.get(ref) or {})
            return False
        return True

    async def _patch(self, ref: Ref, desired: dict[str, Any], live: Mapping[str, Any]) -> bool:
        """Patch what differs; True when something did."""
        patch = children.child_patch(desired, live)
        if patch is None:
            return False
        await self.kube.patch(ref, patch)
        return True

    def _render_rules(
        self, capacity: VoiceCapacity, kind: children.RulesKind
    ) -> tuple[dict[str, Any], str]:
        """The rule object and a summary, rendered once per spec and labels: not per
        resourceVersion, which every status write moves."""
        meta = capacity.metadata
        signature = (meta.uid, meta.generation, tuple(sorted(meta.labels.items())), kind)
        cached = self._rendered_rules.get(capacity.key)
        if cached is not None and meta.generation is not None and cached[0] == signature:
            return cached[1], cached[2]
        desired = children.render_rules(capacity, kind, self.runbooks)
        group = rule_group(capacity, self.runbooks)["rules"]
        alerts = sum(1 for rule in group if "alert" in rule)
        summary = f"{alerts} alerts, {len(group) - alerts} recording rules"
        self._rendered_rules[capacity.key] = (signature, desired, summary)
        return desired, summary
