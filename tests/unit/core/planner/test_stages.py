"""core/planner/stages.py: each stage of the plan alone, a pure function of what the stages before it
returned, with the reason it gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support.objects import capacity
from voicecap.core.planner import floor_rules, stages
from voicecap.core.planner.observation import Memory, Observation
from voicecap.core.planner.records import Given
from voicecap.core.planner.stabilization import Recommendation

QUIET = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)  # a Saturday: no peak window
MONDAY_0855 = datetime(2026, 11, 23, 13, 55, tzinfo=UTC)  # New York 08:55: lead time


def given(
    sessions: float | None = 300,
    *,
    at: datetime = QUIET,
    memory: Memory | None = None,
    **observed: object,
) -> Given:
    seen = (
        Observation(sessions=sessions, sampled_at=at, **observed)  # type: ignore[arg-type]
        if sessions is not None
        else Observation(failure="NoData", **observed)  # type: ignore[arg-type]
    )
    return Given(capacity(), seen, memory or Memory(), at)


def test_judge_keeps_the_last_known_calls_and_says_why_they_are_unknown() -> None:
    known = stages.judge(given(300))
    assert (known.value.active, known.value.state, known.reason) == (300, "Known", "300 active")
    blind = stages.judge(given(None, memory=Memory(sessions=250)))
    assert (blind.value.active, blind.value.last_known) == (None, 250)
    assert blind.reason == "unknown (NoData); last known 250"
    never = stages.judge(given(None))
    assert never.reason == "unknown (NoData); never known"


def test_floors_ask_every_rule_in_order_with_what_each_asks_and_why() -> None:
    at = given(300, at=MONDAY_0855)
    judged = stages.judge(at).value
    bounds = stages.bounds(at, judged=judged)
    floors = stages.floors(
        at, judged=judged, pressure=stages.pressure(at, judged=judged, bounds=bounds)
    )
    assert [term.name for term in floors.terms] == [
        "min",
        "sessions",
        "peak",
        "headroom",
        "hold",
        "latency",
    ]
    sessions = floors.of(floor_rules.SESSIONS)
    assert (sessions.value, sessions.reason) == (3, "ceil(300 / 140 planned per pod) = 3")
    assert sessions.binding == 3  # the HPA has not said it reads its metric: the floor carries it
    peak = floors.of(floor_rules.PEAK)
    assert (peak.asked.source, peak.value) == ("monday-morning", 5)
    assert floors.wanted == 5
    quiet = given(300)
    judged = stages.judge(quiet).value
    bounds = stages.bounds(quiet, judged=judged)
    pressure = stages.pressure(quiet, judged=judged, bounds=bounds)
    assert stages.floors(quiet, judged=judged, pressure=pressure).of(floor_rules.PEAK).value is None


def test_a_session_floor_the_hpa_follows_is_reported_but_does_not_bind() -> None:
    at = given(300, hpa_scaling=True)
    judged = stages.judge(at).value
    bounds = stages.bounds(at, judged=judged)
    pressure = stages.pressure(at, judged=judged, bounds=bounds)
    sessions = stages.floors(at, judged=judged, pressure=pressure).of(floor_rules.SESSIONS)
    assert (sessions.value, sessions.binding) == (3, None)


def test_bounds_take_the_smallest_ceiling_and_what_it_carries() -> None:
    at = given(300, granted_tpm=3_000_000)  # 500 calls: 3 pods of 200
    bounds = stages.bounds(at, judged=stages.judge(at).value)
    assert bounds.ceiling.value == (3, "TPM")
    assert bounds.ceiling_sessions == 500
    assert bounds.tpm.value.projected == 1_800_000  # 300 calls x 6000
    assert bounds.ceiling.reason == "TPM grant: 3 pods (below replicas.max 40)"


def test_clamp_is_the_largest_candidate_under_the_ceiling_held_by_stabilization() -> None:
    memory = Memory(recommendations=(Recommendation(at=QUIET - timedelta(minutes=5), floor=6),))
    at = given(100, memory=memory, hpa_scaling=False)  # the HPA blind: the floor carries calls
    judged = stages.judge(at).value
    bounds = stages.bounds(at, judged=judged)
    pressure = stages.pressure(at, judged=judged, bounds=bounds)
    floors = stages.floors(at, judged=judged, pressure=pressure)
    clamped = stages.clamp(at, floors=floors, bounds=bounds)
    assert (clamped.wanted, clamped.floor) == (2, 6)
    assert clamped.reason == (
        "max(min 2, sessions 1) = 2; held at 6 by scale-down stabilization (10m)"
    )


def test_remember_keeps_what_the_next_evaluation_needs() -> None:
    at = given(300)
    judged = stages.judge(at).value
    bounds = stages.bounds(at, judged=judged)
    pressure = stages.pressure(at, judged=judged, bounds=bounds)
    floors = stages.floors(at, judged=judged, pressure=pressure)
    clamped = stages.clamp(at, floors=floors, bounds=bounds)
    report = stages.report(at, judged=judged, bounds=bounds, pressure=pressure, floor=clamped.floor)
    memory = stages.remember(
        at, judged=judged, floors=floors, pressure=pressure, clamped=clamped, report=report
    )
    assert (memory.floor, memory.sessions, memory.session_replicas) == (clamped.floor, 300, 3)
    assert memory.recommendations == clamped.recommendations
    assert [f.peak for f in memory.forecasts] == ["monday-morning"]
