"""Invariants of the capacity math, for any spec, observation and clock (hypothesis)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from voicecap.api.models import VoiceCapacity
from voicecap.core.budgets.tokens import TokenRequest, allocate
from voicecap.core.peaks.windows import active_window
from voicecap.core.planner.observation import Memory, Observation
from voicecap.core.planner.plan import plan
from voicecap.core.planner.stabilization import Recommendation

instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
session_counts = st.floats(min_value=0, max_value=50_000, allow_nan=False, allow_infinity=False)
zones = st.sampled_from(
    ["UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata"]
)
schedules = st.sampled_from(
    ["0 9 * * MON", "30 2 * * *", "30 1 * * SUN", "0 18 * * MON-FRI", "*/20 * * * *", "0 0 1 * *"]
)


@st.composite
def capacities(draw: st.DrawFn) -> VoiceCapacity:
    minimum = draw(st.integers(1, 20))
    peaks = [
        {
            "name": f"peak-{index}",
            "schedule": draw(schedules),
            "duration": f"{draw(st.integers(1, 600))}m",
            "timeZone": draw(zones),
            "factor": draw(st.floats(1, 3)),
            "leadTime": f"{draw(st.integers(0, 60))}m",
            **({"expectedSessions": draw(st.integers(0, 5000))} if draw(st.booleans()) else {}),
        }
        for index in range(draw(st.integers(0, 3)))
    ]
    spec = {
        "targetRef": {"name": "agent"},
        "sessions": {
            "perPod": draw(st.integers(1, 500)),
            # Above 0.8 no warning fits above the HPA's band (target x 1.1) and below 1.
            "targetUtilization": draw(st.floats(0.05, 0.8)),
            **({"blockingTarget": draw(st.floats(0.0001, 0.2))} if draw(st.booleans()) else {}),
        },
        "replicas": {"min": minimum, "max": draw(st.integers(minimum, 200))},
        "peaks": peaks,
        "headroom": {
            "warning": 0.9,
            "critical": 0.95,
            "action": draw(st.sampled_from(["Alert", "ScaleUp"])),
            "for": draw(st.sampled_from(["0s", "10m"])),
        },
        "metricsOutage": {"mode": draw(st.sampled_from(["HoldLastKnown", "Floor"]))},
        "scaleDown": {"stabilization": draw(st.sampled_from(["0s", "5m", "1h"]))},
        "model": {"budgetRef": "b", "reservedTPM": 1},
    }
    return VoiceCapacity.model_validate({"metadata": {"name": "v", "namespace": "n"}, "spec": spec})


@st.composite
def memories(draw: st.DrawFn, now: datetime) -> Memory:
    history = tuple(
        Recommendation(now - timedelta(minutes=draw(st.integers(0, 90))), draw(st.integers(0, 300)))
        for _ in range(draw(st.integers(0, 3)))
    )
    return Memory(
        floor=draw(st.none() | st.integers(0, 300)),
        sessions=draw(st.none() | session_counts),
        sessions_at=now - timedelta(minutes=1),
        recommendations=tuple(sorted(history, key=lambda r: r.at)),
    )


grants = st.none() | st.integers(0, 30_000_000)
readies = st.none() | st.integers(0, 300)


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    vcap=capacities(),
    now=instants,
    active=st.none() | session_counts,
    granted=grants,
    ready=readies,
)
def test_floor_stays_within_min_and_ceiling(
    data: st.DataObject,
    vcap: VoiceCapacity,
    now: datetime,
    active: float | None,
    granted: int | None,
    ready: int | None,
) -> None:
    memory = data.draw(memories(now))
    result = plan(
        vcap,
        Observation(sessions=active, sampled_at=now, granted_tpm=granted, ready_replicas=ready),
        now,
        memory,
    )
    assert vcap.spec.replicas.min <= result.floor <= result.ceiling
    assert result.ceiling <= max(vcap.spec.replicas.max, vcap.spec.replicas.min)


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    vcap=capacities(),
    now=instants,
    low=session_counts,
    extra=session_counts,
    granted=grants,
    ready=readies,
)
def test_more_sessions_never_give_a_lower_floor(
    data: st.DataObject,
    vcap: VoiceCapacity,
    now: datetime,
    low: float,
    extra: float,
    granted: int | None,
    ready: int | None,
) -> None:
    memory = data.draw(memories(now))

    def floor_for(active: float) -> int:
        observation = Observation(
            sessions=active, sampled_at=now, granted_tpm=granted, ready_replicas=ready
        )
        return plan(vcap, observation, now, memory).floor

    assert floor_for(low + extra) >= floor_for(low)


@settings(max_examples=300, deadline=None)
@given(
    vcap=capacities(),
    now=instants,
    active=session_counts,
    granted=grants,
    ready=readies,
    later=st.integers(1, 7200),
    failure=st.sampled_from(["NoData", "Stale", "PrometheusUnreachable", "InvalidValue"]),
)
def test_unknown_sessions_never_lower_the_floor(
    vcap: VoiceCapacity,
    now: datetime,
    active: float,
    granted: int | None,
    ready: int | None,
    later: int,
    failure: str,
) -> None:
    if vcap.spec.metrics_outage.mode != "HoldLastKnown":
        vcap = vcap.model_copy(
            update={
                "spec": vcap.spec.model_copy(
                    update={
                        "metrics_outage": vcap.spec.metrics_outage.model_copy(
                            update={"mode": "HoldLastKnown"}
                        )
                    }
                )
            }
        )
    seen = plan(
        vcap,
        Observation(sessions=active, sampled_at=now, granted_tpm=granted, ready_replicas=ready),
        now,
    )
    blind = plan(
        vcap,
        Observation(failure=failure, granted_tpm=granted, ready_replicas=ready),
        now + timedelta(seconds=later),
        seen.memory,
    )  # type: ignore[arg-type]
    assert blind.floor >= seen.floor


requests = st.lists(
    st.builds(
        TokenRequest,
        namespace=st.sampled_from(["a", "b", "voice"]),
        name=st.text("abcdef", min_size=1, max_size=4),
        requested=st.integers(0, 10_000_000),
        priority=st.integers(-5, 5),
        created=st.none() | instants,
    ),
    max_size=40,
    unique_by=lambda r: (r.namespace, r.name),
)


@settings(max_examples=500, deadline=None)
@given(
    cap=st.integers(1, 50_000_000),
    overcommit=st.sampled_from([0, 0.05, 0.1, 0.25, 1.0]),
    reservations=requests,
    seed=st.integers(),
)
def test_grants_never_exceed_the_pool_and_ignore_arrival_order(
    cap: int, overcommit: float, reservations: list[TokenRequest], seed: int
) -> None:
    allocation = allocate(cap, overcommit, reservations)
    assert allocation.granted <= cap * (1 + overcommit) + 1e-6
    assert all(0 <= g.granted <= g.request.requested for g in allocation.grants)
    shuffled = reservations[:]
    random.Random(seed).shuffle(shuffled)
    assert allocate(cap, overcommit, shuffled) == allocation
    # Everyone before the first short grant got everything they asked for.
    short = [index for index, grant in enumerate(allocation.grants) if grant.short]
    if short:
        assert all(not g.short for g in allocation.grants[: short[0]])
        assert allocation.available == 0 or all(
            g.granted == g.request.requested for g in allocation.grants
        )


@settings(max_examples=200, deadline=None)
@given(vcap=capacities(), now=instants, offset=st.integers(0, 10_000))
def test_the_floor_stays_raised_throughout_a_window(
    vcap: VoiceCapacity, now: datetime, offset: int
) -> None:
    for peak in vcap.spec.peaks:
        window = active_window(peak, now)
        if window is None:
            continue
        span = (window.end - window.raised_from).total_seconds()
        inside = window.raised_from + timedelta(seconds=offset % max(1, int(span)))
        again = active_window(peak, inside)
        assert again is not None and again.start >= window.start
