"""Admission limits as the call gateway reads them, and when a new limit is worth a write.

The published limit of a vertical is lowered at once (a gateway must never admit more calls than
the ready pods and the TPM grant carry) and raised only when the new limit is at least
RAISE_BY above it (or the last one was 0). Why: limits move in steps of perPod as pods become
ready during a scale-up, one write per pod; raising late by up to 5 % only delays admitting
calls the fleet could take, never admits calls it cannot. The ConfigMap is written only when a
vertical's published limit (or, for the same number, its reason) changes, so its writes follow
scale events, not cycles.

With tiers (docs/api.md "Admission tiers") an entry also carries the reserved pools (a change is
written at once), the overflow mode and the outbound dial pace (written when it moves by 5 %).
The top-level `version` rises with every write. `pods` is the ready pods a limit was computed
over: agent workers that admit independently (LiveKit) each take limit // pods, so a change of
pods is written at once, like a lowered limit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

RAISE_BY = 0.05
PACE_CHANGE = 0.05
LIMITS_KEY = "limits.json"


@dataclass(frozen=True)
class Published:
    """One vertical's entry in limits.json."""

    max_sessions: int
    reason: str  # Pods | TPM | MaxSessions | Latency
    reserve: tuple[tuple[str, int], ...] = ()  # (tier, calls only it may use), by tier name
    overflow: str = "Reject"  # Reject | Queue
    calls_per_second: float | None = None  # the outbound dial pace (admission.outbound)
    tenants: tuple[tuple[str, int], ...] = ()  # (tenant, cap), by tenant name
    pods: int | None = None  # the ready pods it was computed over: each worker's share divisor


@dataclass(frozen=True)
class Limits:
    """What one ConfigMap's limits.json holds: every vertical's entry and the version, which
    rises with every write so a gateway can say which limits it applies."""

    verticals: Mapping[str, Published]
    version: int = 0


def worth_publishing(published: Published | None, wanted: Published | None) -> bool:
    if wanted is None:
        return False  # unknown (ready pods unknown): the gateway keeps the last limit
    if published is None:
        return True
    if (wanted.reserve, wanted.overflow, wanted.tenants, wanted.pods) != (
        published.reserve,
        published.overflow,
        published.tenants,
        published.pods,
    ):
        # A tier or a tenant's cap changed, or the ready pods did: a worker admitting against
        # its share (limit / pods) must know at once, or the workers together overrun it.
        return True
    if _pace_moved(published.calls_per_second, wanted.calls_per_second):
        return True
    if wanted.max_sessions < published.max_sessions:
        return True
    if wanted.max_sessions == published.max_sessions:
        # The same number for another reason (pods became ready as the TPM grant shrank to
        # the same calls): the gateway's reason must say what binds now, as status does.
        return wanted.reason != published.reason
    if published.max_sessions == 0:
        return wanted.max_sessions > 0
    return wanted.max_sessions >= published.max_sessions * (1 + RAISE_BY)


def _pace_moved(published: float | None, wanted: float | None) -> bool:
    """A pace appears, goes, or moves by PACE_CHANGE either way: a measured mean call moves a
    little every cycle, and a dialer 5 % off its pace for a while overruns nothing a limit
    does not catch."""
    if published is None or wanted is None:
        return published != wanted
    if published == 0 or wanted == 0:
        return published != wanted
    return abs(wanted - published) >= PACE_CHANGE * published


def next_limits(published: Limits, wanted: Mapping[str, Published | None]) -> Limits:
    """The limits to publish: `wanted` holds every vertical that references the ConfigMap now
    (None: its limit is unknown); verticals that no longer do are dropped. The version rises
    when anything changes."""
    result = {}
    for vertical, want in wanted.items():
        last = published.verticals.get(vertical)
        if worth_publishing(last, want) and want is not None:
            result[vertical] = want
        elif last is not None:
            result[vertical] = last
    if result == dict(published.verticals):
        return published
    return Limits(result, published.version + 1)


def render(limits: Limits) -> str:
    return json.dumps(
        {
            "version": limits.version,
            "verticals": {
                vertical: _entry(limit) for vertical, limit in sorted(limits.verticals.items())
            },
        },
        indent=2,
        sort_keys=True,
    )


def _entry(limit: Published) -> dict[str, object]:
    entry: dict[str, object] = {
        "maxSessions": limit.max_sessions,
        "reason": limit.reason,
        "overflow": limit.overflow,
    }
    if limit.reserve:
        entry["reserve"] = dict(limit.reserve)
    if limit.calls_per_second is not None:
        entry["outbound"] = {"callsPerSecond": limit.calls_per_second}
    if limit.tenants:
        entry["tenants"] = dict(limit.tenants)
    if limit.pods is not None:
        entry["pods"] = limit.pods
    return entry


def parse(text: str | None) -> Limits:
    """What a ConfigMap holds now (after a restart); anything unreadable counts as nothing."""
    try:
        body = json.loads(text or "{}")
        verticals = {
            str(name): Published(
                int(item["maxSessions"]),
                str(item["reason"]),
                tuple(sorted((str(t), int(kept)) for t, kept in item.get("reserve", {}).items())),
                str(item.get("overflow", "Reject")),
                _pace(item.get("outbound")),
                tuple(sorted((str(t), int(cap)) for t, cap in item.get("tenants", {}).items())),
                int(item["pods"]) if "pods" in item else None,
            )
            for name, item in body.get("verticals", {}).items()
        }
        return Limits(verticals, int(body.get("version", 0)))
    except (ValueError, TypeError, KeyError, AttributeError):
        return Limits({})


def _pace(outbound: object) -> float | None:
    if not isinstance(outbound, dict) or "callsPerSecond" not in outbound:
        return None
    return float(outbound["callsPerSecond"])
