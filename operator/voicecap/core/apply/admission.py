"""Admission limits as the call gateway reads them, and when a new limit is worth a write.

The published limit of a vertical is lowered at once (a gateway must never admit more calls than
the ready pods and the TPM grant carry) and raised only when the new limit is at least
RAISE_BY above it (or the last one was 0). Why: limits move in steps of perPod as pods become
ready during a scale-up, one write per pod; raising late by up to 5 % only delays admitting
calls the fleet could take, never admits calls it cannot. The ConfigMap is written only when a
vertical's published limit (or, for the same number, its reason) changes, so its writes follow
scale events, not cycles.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

RAISE_BY = 0.05
LIMITS_KEY = "limits.json"


@dataclass(frozen=True)
class Published:
    max_sessions: int
    reason: str  # Pods | TPM | MaxSessions


def worth_publishing(published: Published | None, wanted: Published | None) -> bool:
    if wanted is None:
        return False  # unknown (ready pods unknown): the gateway keeps the last limit
    if published is None:
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


def next_limits(
    published: Mapping[str, Published], wanted: Mapping[str, Published | None]
) -> dict[str, Published]:
    """The limits to publish: `wanted` holds every vertical that references the ConfigMap now
    (None: its limit is unknown); verticals that no longer do are dropped."""
    result = {}
    for vertical, want in wanted.items():
        last = published.get(vertical)
        if worth_publishing(last, want) and want is not None:
            result[vertical] = want
        elif last is not None:
            result[vertical] = last
    return result


def render(limits: Mapping[str, Published]) -> str:
    return json.dumps(
        {
            "verticals": {
                vertical: {"maxSessions": limit.max_sessions, "reason": limit.reason}
                for vertical, limit in sorted(limits.items())
            }
        },
        indent=2,
        sort_keys=True,
    )


def parse(text: str | None) -> dict[str, Published]:
    """What a ConfigMap holds now (after a restart); anything unreadable counts as nothing."""
    try:
        verticals = json.loads(text or "{}").get("verticals", {})
        return {
            str(name): Published(int(item["maxSessions"]), str(item["reason"]))
            for name, item in verticals.items()
        }
    except (ValueError, TypeError, KeyError, AttributeError):
        return {}
