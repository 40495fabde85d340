"""core/planner/lead_time.py: leadTime auto from the measured scale-ups (bounded, a default until
one is measured), a declared duration as before, and the plan raising a window that early."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support.objects import capacity, capacity_body
from voicecap.api.models import VoiceCapacity
from voicecap.api.types import AutoLeadTime
from voicecap.core.planner.lead_time import resolve
from voicecap.core.planner.observation import Memory, Observation
from voicecap.core.planner.plan import plan
from voicecap.core.planner.readiness import Readiness

OPEN = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # Monday 09:00 New York


def auto() -> VoiceCapacity:
    """The healthcare VoiceCapacity with `leadTime: auto`."""
    body = capacity_body()
    body["spec"]["peaks"][0]["leadTime"] = "auto"
    return VoiceCapacity.model_validate(body)


def test_a_declared_lead_time_is_used_as_declared() -> None:
    vcap = capacity()
    same, used = resolve(vcap, Readiness(recent=(170.0,)))
    assert same is vcap
    assert [(u.peak, u.lead, u.source) for u in used] == [
        ("monday-morning", timedelta(minutes=10), "Declared")
    ]


def test_auto_is_the_default_until_a_scale_up_is_measured() -> None:
    vcap = auto()
    same, (used,) = resolve(vcap, Readiness())
    assert same is vcap and (used.lead, used.source) == (timedelta(minutes=10), "Default")
    assert "until a scale-up to Ready is measured" in used.reason


def test_auto_is_the_90th_percentile_of_recent_scale_ups_with_a_sync_and_the_lag() -> None:
    recent = (150.0, 160.0, 170.0, 165.0, 155.0, 175.0, 160.0, 150.0, 600.0, 170.0)
    resolved, (used,) = resolve(auto(), Readiness(recent=recent))
    # nearest rank 9 of 10: 175 s (the one 600 s outlier is left out), + 15 s + 60 s
    assert (used.lead, used.source) == (timedelta(seconds=250), "Measured")
    peak = resolved.spec.peaks[0]
    assert isinstance(peak.lead_time, AutoLeadTime) and peak.lead_time == timedelta(seconds=250)
    assert peak.model_dump(by_alias=True)["leadTime"] == "auto"  # still auto in the spec


def test_auto_stays_within_2_and_60_minutes() -> None:
    _, (fast,) = resolve(auto(), Readiness(recent=(5.0,)))
    _, (slow,) = resolve(auto(), Readiness(recent=(5000.0,)))
    assert (fast.lead, slow.lead) == (timedelta(minutes=2), timedelta(minutes=60))
    assert "held within 2m-60m" in fast.reason


def test_the_plan_raises_an_auto_window_as_early_as_pods_take() -> None:
    memory = Memory(readiness=Readiness(recent=(165.0,)))  # 165 + 75 s = 4 minutes
    seen = Observation(sessions=40, sampled_at=OPEN, ready_replicas=2)
    early = plan(auto(), seen, OPEN - timedelta(minutes=5), memory)
    assert early.peak_floor is None  # not yet: pods take 4 minutes
    raised = plan(auto(), seen, OPEN - timedelta(minutes=4), memory)
    assert raised.peak_floor is not None
    (used,) = raised.lead_times
    assert (used.lead, used.source) == (timedelta(minutes=4), "Measured")
    declared = plan(capacity(), seen, OPEN - timedelta(minutes=5), memory)
    assert declared.peak_floor is not None  # a declared 10m keeps its meaning
