"""core/planner/stages.py: each stage of the plan alone, a pure function of what the stages before it
returned, with the reason it gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support.objects import capacity
from voicecap.core.planner import stages
from voicecap.core.planner.observation import Memory, Observation
from voicecap.core.planner.stabilization import Recommendation

QUIET = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)  # a Saturday: no peak window
MONDAY_0855 = datetime(2026, 11, 23, 13, 55, tzinfo=UTC)  # New York 08:55: lead time


def given(
    sessions: float | None = 300,
    *,
    at: datetime = QUIET,
    memory: Memory | None = None,
    **observed: object,
) -> stages.Given:
    seen = (
        Observation(sessions=sessions, sampled_at=at, **observed)  # type: ignore[arg-type]
        if sessions is not None
        else Observation(failure="NoData", **observed)  # type: ignore[arg-type]
    )
    return stages.Given(capacity(), seen, memory or Memory(), at)


def test_judge_keeps_the_last_known_calls_and_says_why_they_are_unknown() -> None:
    known = stages.judge(given(300))
    assert (known.value.active, known.value.state, known.reason) == (300, "Known", "300 active")
    blind = stages.judge(given(None, memory=Memory(sessions=250)))
    assert (blind.value.active, blind.value.last_known) == (None, 250)
    assert blind.reason == "unknown (NoData); last known 250"
    never = stages.judge(given(None))
    assert never.reason == "unknown (NoData); never known"


def test_demand_is_the_live_calls_pods_and_the_raised_windows_floor() -> None:
    at = given(300, at=MONDAY_0855)
    wants = stages.demand(at, sessions=stages.judge(at).value)
    assert wants.session_replicas.value == 3  # ceil(300 / 140)
    assert wants.session_replicas.reason == "ceil(300 / 140 planned per pod) = 3"
    assert wants.peak is not None and (wants.peak.peak, wants.peak.floor) == ("monday-morning", 5)
    quiet = given(300)
    assert stages.demand(quiet, sessions=stages.judge(quiet).value).peak is None


def test_bounds_take_the_smallest_ceiling_and_what_it_carries() -> None:
    at = given(300, granted_tpm=3_000_000)  # 500 calls: 3 pods of 200
    limits = stages.bounds(at, sessions=stages.judge(at).value)
    assert limits.ceiling.value == (3, "TPM")
    assert limits.ceiling_sessions == 500
    assert limits.tpm.value.projected == 1_800_000  # 300 calls x 6000
    assert limits.ceiling.reason == "TPM grant: 3 pods (below replicas.max 40)"


def test_clamp_is_the_largest_demand_under_the_ceiling_held_by_stabilization() -> None:
    memory = Memory(recommendations=(Recommendation(at=QUIET - timedelta(minutes=5), floor=6),))
    at = given(100, memory=memory, hpa_scaling=False)  # the HPA blind: the floor carries calls
    sessions = stages.judge(at).value
    wants = stages.demand(at, sessions=sessions)
    limits = stages.bounds(at, sessions=sessions)
    felt = stages.pressure(at, sessions=sessions, limits=limits)
    clamped = stages.clamp(at, sessions=sessions, wants=wants, limits=limits, felt=felt)
    assert (clamped.wanted, clamped.floor) == (2, 6)
    assert clamped.reason == (
        "max(min 2, sessions 1) = 2; held at 6 by scale-down stabilization (10m)"
    )


def test_remember_keeps_what_the_next_evaluation_needs() -> None:
    at = given(300)
    sessions = stages.judge(at).value
    wants = stages.demand(at, sessions=sessions)
    limits = stages.bounds(at, sessions=sessions)
    felt = stages.pressure(at, sessions=sessions, limits=limits)
    clamped = stages.clamp(at, sessions=sessions, wants=wants, limits=limits, felt=felt)
    told = stages.report(at, sessions=sessions, wants=wants, limits=limits, floor=clamped.floor)
    memory = stages.remember(
        at, sessions=sessions, wants=wants, felt=felt, clamped=clamped, told=told
    )
    assert (memory.floor, memory.sessions, memory.session_replicas) == (clamped.floor, 300, 3)
    assert memory.recommendations == clamped.recommendations
    assert [f.peak for f in memory.forecasts] == ["monday-morning"]
