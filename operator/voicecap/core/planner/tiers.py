"""What the gateway is told beside the limit (docs/api.md "Admission tiers"): the reserved pools,
the general pool, what to do past the limit, and the dial pace for outbound dialers.

- Reserved pools are kept in spec order, each clipped to what the limit still holds: a limit of
  40 with pools vip 30 and emergency 20 publishes vip 30, emergency 10 and a general pool of 0.
  Reserving beyond the limit would promise calls the pods cannot carry.
- The dial pace is Little's law over the general pool: L = lambda x W, so a dialer that starts at
  most general / W calls a second holds on average at most `general` calls. W is the mean call
  measured (voice_call_duration_seconds over the last hour), else sessions.callDuration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from voicecap.api.models import VoiceCapacity
from voicecap.core.planner.ceilings import AdmissionLimit
from voicecap.core.planner.tenant_caps import TenantCaps

CallSource = Literal["Measured", "Declared"]


@dataclass(frozen=True)
class Pace:
    """The outbound dial pace and the mean call it assumes."""

    calls_per_second: float
    call_seconds: float
    source: CallSource


@dataclass(frozen=True)
class Tiers:
    """The admission tiers published with a limit."""

    reserve: tuple[tuple[str, int], ...]  # (tier, calls kept for it), spec order
    general: int  # the limit less the reserved pools
    overflow: Literal["Reject", "Queue"]
    pace: Pace | None  # admission.outbound.enabled, with a mean call known
    published: bool  # admission.configMapRef names where a gateway reads them
    tenants: TenantCaps | None = None  # admission.tenantCaps as read (None: none named)


def tiers(
    capacity: VoiceCapacity,
    limit: AdmissionLimit | None,
    measured_call_seconds: float | None,
    tenants: TenantCaps | None = None,
) -> Tiers | None:
    """The tiers of `limit` (None while the limit is unknown)."""
    if limit is None:
        return None
    admission = capacity.spec.admission
    left = limit.max_sessions
    reserve = []
    for pool in admission.reserve:
        kept = min(pool.sessions, left)
        reserve.append((pool.name, kept))
        left -= kept
    return Tiers(
        reserve=tuple(reserve),
        general=left,
        overflow=admission.overflow,
        pace=_pace(capacity, left, measured_call_seconds),
        published=admission.config_map_ref is not None,
        tenants=tenants if admission.tenant_caps is not None else None,
    )


def _pace(capacity: VoiceCapacity, general: int, measured: float | None) -> Pace | None:
    if not capacity.spec.admission.outbound.enabled:
        return None
    declared = capacity.spec.sessions.call_duration
    source: CallSource
    if measured is not None and math.isfinite(measured) and measured > 0:
        seconds, source = measured, "Measured"
    elif declared is not None and declared.total_seconds() > 0:
        seconds, source = declared.total_seconds(), "Declared"
    else:
        return None
    # Rounded down: a pace a little slow admits a call a little later; a fast one overruns.
    per_second = math.floor(general / seconds * 1000) / 1000
    return Pace(per_second, round(seconds, 1), source)
