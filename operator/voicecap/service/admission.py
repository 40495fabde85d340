"""Publishes admission limits into the ConfigMaps named by spec.admission.configMapRef: one per
(namespace, name), shared by every VoiceCapacity that names it, written only when a vertical's
published limit changes (core/apply/admission.py says when that is worth it)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from voicecap.adapters.kube import KubeError, NotFoundError, Ref
from voicecap.api.models import VoiceCapacity
from voicecap.api.names import MANAGED_BY, MANAGED_BY_LABEL
from voicecap.core.apply import admission
from voicecap.core.apply.admission import Limits, Published
from voicecap.core.planner.plan import Plan
from voicecap.service.ports import Kube

log = logging.getLogger("voicecap")
Where = tuple[str, str]  # (namespace, ConfigMap name)


class AdmissionPublisher:
    """Writes the admission limits the call gateways read (limits.json), one ConfigMap per
    spec.admission.configMapRef, only when a published limit changes. Not for deciding the
    limit: the plan does (core/planner/ceilings.admission_limit)."""

    def __init__(self, kube: Kube) -> None:
        self._kube = kube
        self._published: dict[Where, Limits] = {}
        self._exists: dict[Where, bool] = {}

    async def publish(self, planned: Iterable[tuple[VoiceCapacity, Plan]]) -> None:
        """Converge every named ConfigMap to this cycle's plans; a ConfigMap nobody names any
        more loses its entries. A failed write is logged and retried next cycle."""
        wanted: dict[Where, dict[str, Published | None]] = {}
        for capacity, plan in planned:
            ref = capacity.spec.admission.config_map_ref
            if ref is None or capacity.spec.paused:
                continue
            wanted.setdefault((capacity.namespace, ref.name), {})[capacity.vertical] = _published(
                plan
            )
        for where in set(self._published) - set(wanted):
            wanted[where] = {}  # nobody names it any more: its entries go
        for where, limits in wanted.items():
            try:
                await self._converge(where, limits)
            except KubeError as error:  # the next cycle tries again
                log.warning("admission ConfigMap %s/%s: %s", *where, error)

    async def _converge(self, where: Where, wanted: dict[str, Published | None]) -> None:
        if where not in self._published:
            live = await self._kube.get(self._ref(where))
            self._exists[where] = live is not None
            self._published[where] = admission.parse(
                ((live or {}).get("data") or {}).get(admission.LIMITS_KEY)
            )
        published = self._published[where]
        limits = admission.next_limits(published, wanted)
        if limits is published and self._exists[where]:
            if not wanted:
                del self._published[where]
            return
        body = {admission.LIMITS_KEY: admission.render(limits)}
        try:
            if self._exists[where]:
                await self._kube.patch(self._ref(where), {"data": body})
            else:
                await self._kube.create(self._ref(where), self._object(where, body))
        except NotFoundError:
            self._exists[where] = False
            raise
        self._exists[where] = True
        self._published[where] = limits

    @staticmethod
    def _ref(where: Where) -> Ref:
        return Ref("v1", "configmaps", where[0], where[1])

    @staticmethod
    def _object(where: Where, data: dict[str, str]) -> dict[str, object]:
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": where[1],
                "namespace": where[0],
                "labels": {
                    MANAGED_BY_LABEL: MANAGED_BY,
                    "app.kubernetes.io/component": "admission-limits",
                },
            },
            "data": data,
        }


def _published(plan: Plan) -> Published | None:
    """A plan's entry in limits.json (None while its limit is unknown)."""
    limit, tiers = plan.admission, plan.tiers
    if limit is None:
        return None
    pods = plan.ready_replicas
    if tiers is None:
        return Published(limit.max_sessions, limit.reason, pods=pods)
    return Published(
        limit.max_sessions,
        limit.reason,
        pods=pods,
        reserve=tuple(sorted(tiers.reserve)),  # as limits.json reads back
        overflow=tiers.overflow,
        calls_per_second=tiers.pace.calls_per_second if tiers.pace is not None else None,
        tenants=tuple(sorted(tiers.tenants.caps.items())) if tiers.tenants is not None else (),
    )
