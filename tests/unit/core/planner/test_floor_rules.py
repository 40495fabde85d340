"""core/planner/floor_rules.py: each floor term alone (what it asks for, why, whether it binds),
the order of the rows, and how the floor's reason reads."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from support.objects import capacity
from voicecap.core.measured.calibration import Calibration
from voicecap.core.measured.knee import PerPodEstimate
from voicecap.core.planner import floor_rules
from voicecap.core.planner.floor_rules import (
    FLOOR_RULES,
    Asked,
    floor_reason,
    headroom_floor,
    latency_guard,
    min_replicas,
    outage_hold,
    raised_peak,
    session_replicas,
)
from voicecap.core.planner.headroom import CeilingVerdict, HeadroomState, HeadroomVerdict, Level
from voicecap.core.planner.latency import LatencyState, LatencyVerdict
from voicecap.core.planner.observation import Memory, Observation
from voicecap.core.planner.records import FloorTerm, Given, JudgedSessions, Pressure

QUIET = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)  # a Saturday
MONDAY_0855 = datetime(2026, 11, 23, 13, 55, tzinfo=UTC)  # New York 08:55: the lead time


def given(*, at: datetime = QUIET, memory: Memory | None = None, **spec_or_seen: object) -> Given:
    names = ("hpa_scaling", "ready_replicas", "refused_load", "calibration")
    seen = {k: spec_or_seen.pop(k) for k in names if k in spec_or_seen}
    return Given(capacity(**spec_or_seen), Observation(**seen), memory or Memory(), at)  # type: ignore[arg-type]


def judged(active: float | None, last_known: float | None = None) -> JudgedSessions:
    return JudgedSessions(active, "Known" if active is not None else "NoData", last_known or active)


def pressure(level: Level = "Normal") -> Pressure:
    return Pressure(
        HeadroomVerdict(level, level, HeadroomState()),
        CeilingVerdict(None, 0.7, False, None),
        LatencyVerdict(None, None, LatencyState()),
        None,
    )


def test_the_rows_in_the_order_the_floors_reason_names_them() -> None:
    assert [rule.name for rule in FLOOR_RULES] == [
        "min",
        "sessions",
        "peak",
        "headroom",
        "hold",
        "latency",
    ]
    assert [rule.reason_key for rule in FLOOR_RULES] == [
        None,
        "sessionReplicas",
        "peakFloor",
        "headroomFloor",
        "outageHold",
        "latencyGuard",
    ]
    assert {rule.kind for rule in FLOOR_RULES[:3]} == {"demand"}
    assert {rule.kind for rule in FLOOR_RULES[3:]} == {"guard"}


def test_the_latency_guard_asks_for_the_pods_it_holds() -> None:
    held = Pressure(
        HeadroomVerdict("Normal", "Normal", HeadroomState()),
        CeilingVerdict(None, 0.7, False, None),
        LatencyVerdict(1.1, 0.8, LatencyState(guard_pods=5)),
        None,
    )
    asked = latency_guard(given(latency={"target": "800ms"}), judged(300), held)
    assert asked.value == 5
    assert asked.reason == (
        "latency quantile 1100ms above its 800ms target for 2m: 5 pods, and new calls only as "
        "calls end"
    )
    assert latency_guard(given(), judged(300), pressure()) == Asked(None)


def test_min_is_replicas_min() -> None:
    assert min_replicas(given(), judged(300), pressure()) == Asked(2)


@pytest.mark.parametrize(
    ("hpa_scaling", "blocking", "binds"),
    [(None, None, True), (False, None, True), (True, None, False), (True, 0.01, True)],
)
def test_live_calls_bind_only_while_the_hpa_cannot_follow_them(
    hpa_scaling: bool | None, blocking: float | None, binds: bool
) -> None:
    spec = {"sessions": {"perPod": 200, "targetUtilization": 0.7}}
    if blocking is not None:
        spec["sessions"]["blockingTarget"] = blocking  # type: ignore[index]
    asked = session_replicas(given(hpa_scaling=hpa_scaling, **spec), judged(300), pressure())
    assert asked.counts is binds
    assert asked.value == (3 if blocking is None else 2)


def test_a_blocking_target_sizes_the_calls_offered_not_only_those_served() -> None:
    spec = {"sessions": {"perPod": 200, "targetUtilization": 0.7, "blockingTarget": 0.01}}
    served = session_replicas(given(**spec), judged(330), pressure())
    offered = session_replicas(given(refused_load=60.0, **spec), judged(330), pressure())
    # Erlang B at 1 %: 330 calls need 354 slots (2 pods of 200), 390 need 415 (3 pods)
    assert (served.value, offered.value) == (2, 3)
    assert "390 calls offered (330 served + 60 refused)" in (offered.reason or "")
    assert "Erlang B" in (served.reason or "") and "offered" not in (served.reason or "")


def test_measured_per_pod_capacity_sizes_live_calls() -> None:
    measured = Calibration(
        per_pod=PerPodEstimate(120.0, "Observed", 400, 20.0, 190.0, "latency reaches 800ms"),
        computed_at=QUIET,
    )
    spec = {"sessions": {"perPod": 200, "targetUtilization": 0.7, "perPodFrom": "Measured"}}
    asked = session_replicas(
        given(calibration=measured, latency={"target": "800ms"}, **spec), judged(300), pressure()
    )
    assert asked.value == 4  # ceil(300 / (120 x 0.7)); declared 200 would be 3
    assert "84 planned per pod" in (asked.reason or "")


def test_live_calls_unknown_ask_nothing() -> None:
    assert session_replicas(given(), judged(None, 300), pressure()) == Asked(None)


def test_the_raised_peak_names_itself() -> None:
    asked = raised_peak(given(at=MONDAY_0855), judged(100), pressure())
    assert (asked.value, asked.source) == (5, "monday-morning")  # 1.5 x 600 / 200
    assert raised_peak(given(), judged(100), pressure()) == Asked(None)


@pytest.mark.parametrize(
    ("action", "level", "expected"),
    [("ScaleUp", "Warning", 5), ("ScaleUp", "Normal", None), ("Alert", "Critical", None)],
)
def test_headroom_asks_for_pods_under_the_warning_only_with_scale_up_and_low_headroom(
    action: str, level: Level, expected: int | None
) -> None:
    spec = {"headroom": {"warning": 0.85, "critical": 0.95, "action": action}}
    asked = headroom_floor(given(**spec), judged(800), pressure(level))
    assert asked.value == expected  # 800 / (200 x 0.85) = 4.7: 5 pods bring it under


def test_the_outage_hold_keeps_the_last_floor_and_what_the_calls_needed() -> None:
    memory = Memory(floor=4, session_replicas=6)
    asked = outage_hold(given(memory=memory), judged(None, 800), pressure())
    assert (asked.value, asked.reason) == (
        6,
        "sessions unknown: holding 6 pods, what the last known calls needed",
    )
    blind_hpa = given(memory=memory, hpa_scaling=False, ready_replicas=9)
    assert outage_hold(blind_hpa, judged(None), pressure()).value == 9
    assert outage_hold(given(memory=memory), judged(300), pressure()) == Asked(None)
    assert outage_hold(given(), judged(None), pressure()).reason == (
        "sessions unknown and no floor decided yet"
    )
    floor_mode = given(memory=memory, metricsOutage={"mode": "Floor"})
    assert outage_hold(floor_mode, judged(None), pressure()).value is None


def test_the_floors_reason_names_every_binding_term_then_the_cap_and_the_hold() -> None:
    terms = (
        FloorTerm("min", None, "demand", Asked(2)),
        FloorTerm("sessions", "sessionReplicas", "demand", Asked(9, counts=False)),
        FloorTerm("peak", "peakFloor", "demand", Asked(12)),
    )
    spec = capacity().spec
    assert floor_reason(terms, 12, (40, "MaxReplicas"), desired=12, floor=12, spec=spec) == (
        "max(min 2, peak 12) = 12"
    )
    capped = floor_reason(terms, 12, (10, "TPM"), desired=10, floor=11, spec=spec)
    assert capped == (
        "max(min 2, peak 12) = 12; capped at ceiling 10 (TPM); held at 11 by scale-down "
        "stabilization (10m)"
    )


def test_a_rule_makes_its_term_with_its_names() -> None:
    term = floor_rules.PEAK.term(given(at=MONDAY_0855), judged(100), pressure())
    assert (term.name, term.reason_key, term.kind, term.binding) == (
        "peak",
        "peakFloor",
        "demand",
        5,
    )
