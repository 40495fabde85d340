"""Tenant caps read from the cluster (spec.admission.tenantCaps.configMapRef; service/
config_maps.py: at most one GET per referenced ConfigMap a minute, shared), parsed by
core/planner/tenant_caps.py and published with the vertical's limit."""

from __future__ import annotations

from collections.abc import Set

from voicecap.api.models import VoiceCapacity
from voicecap.core.planner.tenant_caps import MISSING, TenantCaps, parse_tenant_caps
from voicecap.service.config_maps import READ_EVERY, ConfigMapReads, Where
from voicecap.service.ports import Kube


class TenantCapsCache:
    """Each VoiceCapacity's tenant caps (None: it names none, or they were never read)."""

    def __init__(self, kube: Kube, read_every: float = READ_EVERY) -> None:
        self._reads = ConfigMapReads(
            kube, parse_tenant_caps, MISSING, what="tenant caps", read_every=read_every
        )
        self._named: dict[str, Where] = {}

    async def read(self, capacity: VoiceCapacity) -> TenantCaps | None:
        """The caps its ConfigMap lists (the missing value when it does not exist)."""
        ref = capacity.spec.admission.tenant_caps
        if ref is None:
            self._named.pop(capacity.key, None)
            return None
        where = (capacity.namespace, ref.config_map_ref.name)
        self._named[capacity.key] = where
        return await self._reads.read(where)

    def forget_except(self, keys: Set[str]) -> None:
        """Forgets deleted objects, and the ConfigMaps nobody names any more."""
        for key in set(self._named) - keys:
            del self._named[key]
        self._reads.keep(set(self._named.values()))
