"""Peering: whether this replica may write, by the rule Kopf uses to pause operators."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from voicecap.adapters.kube import KubeError, Ref, TransientError
from voicecap.api.names import KOPF_PEERING_API_VERSION
from voicecap.api.timefmt import parse_iso
from voicecap.service.ports import Kube


class PeeringGate:
    """Whether this replica may write, by the rule Kopf's peering uses to pause operators.

    Kopf pauses its own handlers when a live peer has a higher (or the same) priority; the
    fleet cycle is ours, so it asks the same question of the same peering object.
    """

    def __init__(
        self,
        kube: Kube,
        *,
        name: str | None,
        priority: int,
        identity: str,
        namespaces: list[str],
    ) -> None:
        self._kube = kube
        self._name = name
        self._priority = priority
        self._identity = identity
        self._namespaces = namespaces
        self._last = name is None  # a peer writes nothing until it knows it may

    async def may_write(self) -> bool:
        """Whether this replica is the one writer now: standalone, or no live peer with a
        higher priority in the Kopf peering object (a read of it, at most once per cycle)."""
        if self._name is None:
            return True  # standalone
        refs = (
            [
                Ref(KOPF_PEERING_API_VERSION, "kopfpeerings", ns, self._name)
                for ns in self._namespaces
            ]
            if self._namespaces
            else [Ref(KOPF_PEERING_API_VERSION, "clusterkopfpeerings", None, self._name)]
        )
        try:
            bodies = [await self._kube.get(ref) for ref in refs]
        except TransientError:
            return self._last  # keep the last answer while the API is unreachable
        except KubeError:
            bodies = []  # no peering CRD: Kopf runs standalone, and so do we
        now = datetime.now(UTC)  # peers stamp lastseen in real time, whatever our Clock says
        self._last = all(
            writer_allowed((body or {}).get("status") or {}, self._identity, self._priority, now)
            for body in bodies
        )
        return self._last


def writer_allowed(peers: Mapping[str, Any], identity: str, priority: int, now: datetime) -> bool:
    """Kopf's rule: pause while any other live peer has a priority >= ours."""
    for peer, info in peers.items():
        if peer == identity or not isinstance(info, Mapping):
            continue
        seen = parse_iso(str(info.get("lastseen") or ""))
        if seen is None:
            continue
        alive = seen + timedelta(seconds=int(info.get("lifetime", 60))) > now
        if alive and int(info.get("priority", 0)) >= priority:
            return False
    return True
