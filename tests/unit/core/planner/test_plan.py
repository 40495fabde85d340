"""The whole plan: API.md's semantics as scenarios with fixed datetimes."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from support.objects import capacity, capacity_body
from voicecap.api.models import VoiceCapacity
from voicecap.core.peaks.forecast import History, PeakForecast
from voicecap.core.planner.observation import Memory, Observation
from voicecap.core.planner.plan import Plan, plan

# Friday 2026-11-20 noon UTC: no peak anywhere near.
QUIET = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
# Monday 2026-11-23 08:55 New York (EST): inside monday-morning's 10m lead time.
MONDAY_0855 = datetime(2026, 11, 23, 13, 55, tzinfo=UTC)


def sessions(
    value: float, *, ready: int | None = None, granted: int | None = None, at: datetime = QUIET
) -> Observation:
    return Observation(sessions=value, sampled_at=at, ready_replicas=ready, granted_tpm=granted)


def test_api_md_worked_example() -> None:
    result = plan(capacity(), sessions(512, ready=4, granted=4_800_000), QUIET)
    assert result.session_replicas == 4
    assert (result.capacity, result.utilization) == (800, 0.64)
    assert result.tpm.ceiling_sessions == 800
    assert result.tpm.projected == 3_072_000
    assert result.ceiling == 4 and result.ceiling_source == "TPM"
    assert result.floor == 4
    assert result.mode == "Normal"
    assert result.reasons["sessionReplicas"] == "ceil(512 / 140 planned per pod) = 4"


def test_lead_time_raises_the_floor_before_the_peak() -> None:
    result = plan(capacity(), sessions(100, at=MONDAY_0855), MONDAY_0855)
    assert result.mode == "Peak"
    assert result.active_peak == "monday-morning"
    assert result.peak_floor == 5  # ceil(1.5 x 600 / 200): 900 slots, not 1,600 (was 8)
    assert result.floor == 5
    assert "lead time" in result.reasons["peakFloor"]
    assert "flat" in result.reasons["peakFloor"]  # no history: no shape to follow
    before = plan(capacity(), sessions(100, at=MONDAY_0855), MONDAY_0855 - timedelta(minutes=6))
    assert before.peak_floor is None and before.floor == 2


@pytest.mark.parametrize(
    ("forecast", "current", "expected_floor", "source"),
    [
        ({"monday-morning": 1000.0}, 100, 8, "forecast"),  # ceil(1.5 x 1000 / 200)
        ({}, 300, 3, "current"),  # ceil(1.5 x 300 / 200)
        ({"monday-morning": math.nan}, 300, 3, "current"),  # a broken forecast is ignored
    ],
)
def test_peak_baseline_without_expected_sessions(
    forecast: dict[str, float], current: float, expected_floor: int, source: str
) -> None:
    body = capacity_body()
    del body["spec"]["peaks"][0]["expectedSessions"]
    vcap = VoiceCapacity.model_validate(body)
    history = History(
        forecasts={
            name: PeakForecast(peak=name, sessions=value, reason="Forecast")
            for name, value in forecast.items()
        }
    )
    observation = Observation(sessions=current, sampled_at=MONDAY_0855, history=history)
    result = plan(vcap, observation, MONDAY_0855)
    assert result.peak_floor == expected_floor
    assert source in result.reasons["peakFloor"]


def test_peak_without_any_baseline_scales_the_minimum() -> None:
    body = capacity_body(replicas={"min": 3, "max": 40})
    del body["spec"]["peaks"][0]["expectedSessions"]
    result = plan(VoiceCapacity.model_validate(body), Observation(), MONDAY_0855)
    assert result.peak_floor == 5  # ceil(1.5 x 3)
    assert "no baseline" in result.reasons["peakFloor"]


def test_overlapping_peaks_take_the_largest_floor() -> None:
    peaks = [
        {
            "name": "small",
            "schedule": "0 9 * * MON",
            "duration": "3h",
            "timeZone": "America/New_York",
            "expectedSessions": 100,
        },
        {
            "name": "large",
            "schedule": "0 8 * * *",
            "duration": "4h",
            "timeZone": "America/New_York",
            "expectedSessions": 1000,
            "factor": 2,
        },
    ]
    result = plan(
        capacity(peaks=peaks), sessions(50, at=MONDAY_0855), MONDAY_0855 + timedelta(minutes=10)
    )
    # open, factor 2 is capped at 1/targetUtilization: 1000 / 0.7 / 200 = 7.14
    assert (result.active_peak, result.peak_floor) == ("large", 8)


@pytest.mark.parametrize(
    ("observation", "state"),
    [
        (Observation(), "NoData"),
        (Observation(sessions=math.nan, sampled_at=QUIET), "InvalidValue"),
        (Observation(sessions=math.inf, sampled_at=QUIET), "InvalidValue"),
        (Observation(sessions=-1, sampled_at=QUIET), "InvalidValue"),
        (Observation(sessions=100, sampled_at=QUIET - timedelta(minutes=5, seconds=1)), "Stale"),
        (Observation(failure="PrometheusUnreachable"), "PrometheusUnreachable"),
        (Observation(failure="MultipleSeries"), "MultipleSeries"),
    ],
)
def test_unusable_session_data_is_unknown_never_zero(observation: Observation, state: str) -> None:
    held = Memory(floor=9, sessions=1200, sessions_at=QUIET - timedelta(hours=1))
    result = plan(capacity(), observation, QUIET, held)
    assert result.sessions_state == state
    assert not result.sessions_known
    assert result.mode == "Degraded"
    assert result.session_replicas is None
    assert result.floor == 9  # HoldLastKnown
    assert result.sessions == 1200  # last known, reported as such
    assert "holding the last floor 9" in result.reasons["outageHold"]


def test_sample_exactly_at_max_staleness_is_still_known() -> None:
    observation = Observation(sessions=100, sampled_at=QUIET - timedelta(minutes=5))
    assert plan(capacity(), observation, QUIET).sessions_known


def test_floor_mode_settles_at_min_or_peak_floor_while_blind() -> None:
    vcap = capacity(metricsOutage={"mode": "Floor"}, scaleDown={"stabilization": "0s"})
    held = Memory(floor=9)
    assert plan(vcap, Observation(), QUIET, held).floor == 2
    assert plan(vcap, Observation(), MONDAY_0855, held).floor == 5


def test_floor_mode_still_respects_stabilization() -> None:
    vcap = capacity(metricsOutage={"mode": "Floor"})
    first = plan(vcap, sessions(1200), QUIET)
    blind = plan(vcap, Observation(), QUIET + timedelta(minutes=5), first.memory)
    assert blind.floor == first.floor == 9


def test_ceiling_min_wins_over_a_tiny_grant() -> None:
    result = plan(capacity(), sessions(100, granted=6000), QUIET)
    assert result.tpm.ceiling_sessions == 1
    assert result.ceiling == 2 and result.ceiling_source == "MinReplicas"
    assert "min wins" in result.reasons["ceiling"]


def test_capacity_limited_when_the_plan_wants_more_than_the_ceiling() -> None:
    result = plan(capacity(replicas={"min": 2, "max": 5}), sessions(2000), QUIET)
    assert result.wanted == 15 and result.floor == 5 and result.ceiling == 5
    assert result.capacity_limited and result.ceiling_source == "MaxReplicas"
    assert "capped at ceiling 5 (MaxReplicas)" in result.reasons["floor"]


def test_no_grant_known_means_no_tpm_ceiling() -> None:
    result = plan(capacity(), sessions(100), QUIET)
    assert result.ceiling == 40 and result.tpm.granted is None
    assert "no grant known" in result.reasons["tpm"]


def test_headroom_scale_up_after_the_sustained_period() -> None:
    vcap = capacity(headroom={"action": "ScaleUp", "for": "10m"}, scaleDown={"stabilization": "0s"})
    # 700 calls on 4 ready pods of 200: 87.5 %, above the default warning 0.85. The HPA reads
    # its metric, so the floor leaves live calls to it: only headroom raises it.
    stuck = Observation(sessions=700, sampled_at=QUIET, ready_replicas=4, hpa_scaling=True)
    first = plan(vcap, stuck, QUIET)
    assert first.headroom_floor is None and first.headroom_now == "Warning"
    assert first.floor == 2
    later_at = QUIET + timedelta(minutes=10)
    later = plan(vcap, replace(stuck, sampled_at=later_at), later_at, first.memory)
    assert later.headroom_level == "Warning"
    assert later.headroom_floor == 5  # 700 / (5 x 200) = 70 % < 85 %
    assert later.floor == 5


def test_headroom_alert_only_reports() -> None:
    vcap = capacity(headroom={"action": "Alert"})
    first = plan(vcap, sessions(700, ready=4), QUIET)
    later = plan(
        vcap,
        sessions(700, ready=4, at=QUIET + timedelta(minutes=11)),
        QUIET + timedelta(minutes=11),
        first.memory,
    )
    assert later.headroom_level == "Warning" and later.headroom_floor is None
    assert later.floor == 5


def test_calls_on_zero_ready_pods_are_critical() -> None:
    vcap = capacity(headroom={"for": "0s"})
    result = plan(vcap, sessions(10, ready=0), QUIET)
    assert result.headroom_level == "Critical"
    assert result.utilization is None and result.capacity == 0


def test_paused_still_plans() -> None:
    result = plan(capacity(paused=True), sessions(700), QUIET)
    assert result.mode == "Paused" and result.floor == 5


def test_scale_down_follows_the_stabilization_window() -> None:
    vcap = capacity(scaleDown={"stabilization": "10m"})
    step = timedelta(seconds=15)
    now = QUIET
    result = plan(vcap, sessions(1400, at=now), now)
    assert result.floor == 10
    floors = []
    for _ in range(60):  # 15 minutes of a sudden drop to 100 calls
        now += step
        result = plan(vcap, sessions(100, at=now), now, result.memory)
        floors.append(result.floor)
    # 10 counts as recommended until the first low cycle, and is held 10 minutes from there.
    assert floors[:40] == [10] * 40
    assert floors[40:] == [2] * 20
    assert "scale-down stabilization" not in result.reasons["floor"]


def test_memory_carries_last_known_sessions_through_an_outage() -> None:
    vcap = capacity()
    known = plan(vcap, sessions(500), QUIET)
    blind = plan(
        vcap,
        Observation(failure="PrometheusUnreachable"),
        QUIET + timedelta(minutes=30),
        known.memory,
    )
    assert blind.memory.sessions == 500 and blind.memory.sessions_at == QUIET
    assert blind.floor == known.floor


def _plans(vcap: VoiceCapacity, *observations: Observation) -> list[Plan]:
    memory, results = None, []
    for index, observation in enumerate(observations):
        result = plan(vcap, observation, QUIET + timedelta(seconds=15 * index), memory)
        memory = result.memory
        results.append(result)
    return results


def test_recovery_after_an_outage_resumes_normal_planning() -> None:
    vcap = capacity(scaleDown={"stabilization": "0s"})
    results = _plans(
        vcap,
        sessions(1400),
        Observation(failure="PrometheusUnreachable"),
        sessions(100, at=QUIET + timedelta(seconds=30)),
    )
    assert [r.floor for r in results] == [10, 10, 2]
    assert [r.mode for r in results] == ["Normal", "Degraded", "Normal"]


# ---------------------------------------------------------------- the floor beside the HPA


@pytest.mark.parametrize(("scaling", "counted"), [(True, False), (False, True), (None, True)])
def test_live_calls_move_the_floor_only_while_the_hpa_cannot(
    scaling: bool | None, counted: bool
) -> None:
    """The HPA follows calls itself; the floor repeating it would move (and write) with every
    wobble. It carries them while the HPA cannot read its metric or has not said it can."""
    observed = Observation(sessions=700, sampled_at=QUIET, hpa_scaling=scaling)
    result = plan(capacity(), observed, QUIET)
    assert result.session_replicas == 5
    assert result.floor == (5 if counted else 2)


def test_a_blocking_target_keeps_live_calls_in_the_floor() -> None:
    """Erlang B sizing is the floor's: the HPA (at perPod) is only the backstop."""
    vcap = capacity(sessions={"perPod": 200, "blockingTarget": 0.001})
    observed = Observation(sessions=700, sampled_at=QUIET, hpa_scaling=True)
    result = plan(vcap, observed, QUIET)
    assert result.floor == result.session_replicas == 4  # 763 slots at 0.1 %
    assert "Erlang B: 763 slots carry 700 calls" in result.reasons["sessionReplicas"]


def test_calls_hovering_at_a_pod_boundary_do_not_move_the_sessions_term() -> None:
    vcap = capacity(scaleDown={"stabilization": "0s"})
    memory = None
    seen = []
    for minute, calls in enumerate([420, 431, 415, 452, 409, 440, 398, 425]):
        at = QUIET + timedelta(minutes=minute)
        decided = plan(vcap, Observation(sessions=calls, sampled_at=at), at, memory)
        memory = decided.memory
        seen.append(decided.session_replicas)
    assert seen == [3] * 8  # ceil(calls / 140) alone would say 3, 4, 3, 4, 3, 4, 3, 4
    assert "within the HPA's tolerance" in decided.reasons["sessionReplicas"]


def test_blind_the_floor_holds_what_the_last_known_calls_needed() -> None:
    """The floor left the calls to the HPA (floor 2, the calls needed 5); when Prometheus goes
    away the HPA cannot scale either, and the held floor must not cap it below those 5."""
    known = plan(capacity(), Observation(sessions=700, sampled_at=QUIET, hpa_scaling=True), QUIET)
    assert known.floor == 2 and known.memory.session_replicas == 5
    later = QUIET + timedelta(minutes=1)
    blind = plan(capacity(), Observation(hpa_scaling=False), later, known.memory)
    assert blind.floor == 5
    assert "holding 5 pods, what the last known calls needed" in blind.reasons["outageHold"]
    running = plan(
        capacity(), Observation(ready_replicas=6, hpa_scaling=False), later, known.memory
    )
    assert running.floor == 6  # the HPA ran one more inside its tolerance: not cut while blind
    assert "holding the 6 ready pods" in running.reasons["outageHold"]
    # only Prometheus is blind (say, no sample yet): the HPA still scales, nothing to protect
    unknown = plan(capacity(), Observation(ready_replicas=6), later, known.memory)
    assert unknown.floor == 5


def test_the_planning_signal_needs_calls_at_70_percent_of_the_ceiling_for_10_minutes() -> None:
    vcap = capacity(replicas={"min": 2, "max": 5})  # the ceiling carries 1,000 calls
    first = plan(vcap, sessions(700), QUIET)
    assert first.ceiling_sessions == 1000
    assert first.near_ceiling.ratio == 0.7 and not first.near_ceiling.near
    later = QUIET + timedelta(minutes=10)
    sustained = plan(vcap, sessions(710, at=later), later, first.memory)
    assert sustained.near_ceiling.near and sustained.near_ceiling.since == QUIET
    dipped = plan(vcap, sessions(690, at=later), later, first.memory)
    assert not dipped.near_ceiling.near and dipped.near_ceiling.since is None


def test_the_planning_signal_reads_the_tpm_grant_when_it_binds() -> None:
    # 4.8M TPM granted at 6000 per call-minute: 800 calls, below 40 pods x 200
    result = plan(capacity(), sessions(600, granted=4_800_000), QUIET)
    assert result.ceiling_sessions == 800 and result.near_ceiling.ratio == 0.75
