"""core/planner/tiers.py: the reserved pools clipped to the limit, the general pool, overflow,
and the outbound dial pace by Little's law from the mean call measured, else declared."""

from __future__ import annotations

from typing import Any

from support.objects import capacity_body
from voicecap.api.models import VoiceCapacity
from voicecap.core.planner.ceilings import AdmissionLimit
from voicecap.core.planner.tiers import Pace, tiers


def capacity(**admission: Any) -> VoiceCapacity:
    body = capacity_body(admission=admission)
    body["spec"]["sessions"]["callDuration"] = "4m"
    return VoiceCapacity.model_validate(body)


def limit(calls: int) -> AdmissionLimit:
    return AdmissionLimit(calls, None, "Pods")


def test_pools_are_kept_in_order_and_clipped_to_what_the_limit_holds() -> None:
    spec = capacity(
        reserve=[{"name": "vip", "sessions": 30}, {"name": "emergency", "sessions": 20}]
    )
    roomy = tiers(spec, limit(1000), None)
    assert roomy is not None
    assert (roomy.reserve, roomy.general) == ((("vip", 30), ("emergency", 20)), 950)
    tight = tiers(spec, limit(40), None)
    assert tight is not None
    assert (tight.reserve, tight.general) == ((("vip", 30), ("emergency", 10)), 0)
    assert tiers(spec, None, None) is None  # no limit known: nothing to publish


def test_overflow_and_whether_a_gateway_reads_them() -> None:
    queued = tiers(capacity(overflow="Queue"), limit(100), None)
    assert queued is not None and queued.overflow == "Queue" and not queued.published
    named = tiers(capacity(configMapRef={"name": "voice-admission"}), limit(100), None)
    assert named is not None and named.overflow == "Reject" and named.published


def test_the_dial_pace_is_littles_law_over_the_general_pool() -> None:
    """600 calls, 100 reserved: 500 general calls of 4 minutes hold at 500 / 240 = 2.083 calls
    a second (rounded down); a measured mean of 200 s wins over the declared 4m."""
    spec = capacity(reserve=[{"name": "vip", "sessions": 100}], outbound={"enabled": True})
    declared = tiers(spec, limit(600), None)
    assert declared is not None and declared.pace == Pace(2.083, 240.0, "Declared")
    measured = tiers(spec, limit(600), 200.0)
    assert measured is not None and measured.pace == Pace(2.5, 200.0, "Measured")
    for nonsense in (0.0, float("nan"), -5.0):
        odd = tiers(spec, limit(600), nonsense)
        assert odd is not None and odd.pace is not None and odd.pace.source == "Declared"
    full = tiers(spec, limit(100), None)
    assert full is not None and full.pace == Pace(0.0, 240.0, "Declared")
    off = tiers(capacity(), limit(600), 200.0)
    assert off is not None and off.pace is None  # outbound not enabled
