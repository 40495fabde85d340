"""core/status/measured_conditions.py: PerPodCalibrated, TokensCalibrated, ModelRateLimited and
LatencyAboveTarget: shown only where their input is declared, Unknown (not an alarm) while
nothing is measured."""

from __future__ import annotations

from datetime import timedelta

from support.planned import NOW, applied_capacity
from voicecap.core.apply.outcome import Outcome
from voicecap.core.measured.calibration import Calibration
from voicecap.core.measured.knee import PerPodEstimate
from voicecap.core.measured.tokens import TokenEstimate
from voicecap.core.planner.latency import LatencyState
from voicecap.core.planner.observation import Memory, Observation
from voicecap.core.planner.plan import Plan, plan
from voicecap.core.status import measured_conditions as decide

OK = Outcome("Reconciled", "")
WATCHED = applied_capacity(latency={"target": "800ms"})


def decided(memory: Memory | None = None, capacity: object = WATCHED, **seen: object) -> Plan:
    observation = Observation(sessions=300, sampled_at=NOW, ready_replicas=3, **seen)  # type: ignore[arg-type]
    return plan(capacity, observation, NOW, memory)  # type: ignore[arg-type]


def knee(measured: float | None, why: str = "8400 samples at 20-190 calls per pod") -> Calibration:
    method = "Observed" if measured is not None else None
    return Calibration(
        per_pod=PerPodEstimate(measured, method, 8400, 20, 190, why), computed_at=NOW
    )


def test_per_pod_against_what_latency_says() -> None:
    over = decide.per_pod_calibrated(decided(calibration=knee(140.0)), OK)
    assert over is not None and (over.status, over.reason) == ("False", "Overstated")
    assert over.message.startswith("perPod 200 declared, measured 140 (Observed): 8400 samples")
    assert over.message.endswith(
        "; planning with the declared value: correct sessions.perPod, or set "
        "sessions.perPodFrom: Measured"
    )
    measured = applied_capacity(
        latency={"target": "800ms"}, sessions={"perPod": 200, "perPodFrom": "Measured"}
    )
    counted = decide.per_pod_calibrated(decided(capacity=measured, calibration=knee(140.0)), OK)
    assert counted is not None and counted.reason == "Overstated"
    assert counted.message.endswith("; planning with 140 (sessions.perPodFrom: Measured)")
    matches = decide.per_pod_calibrated(decided(calibration=knee(205.0)), OK)
    assert matches is not None and (matches.status, matches.reason) == ("True", "Matches")
    thin = decide.per_pod_calibrated(decided(calibration=knee(None, "too few")), OK)
    assert thin is not None and (thin.status, thin.reason) == ("Unknown", "InsufficientData")
    waiting = decide.per_pod_calibrated(decided(), OK)
    assert waiting is not None and waiting.reason == "InsufficientData"


def test_no_latency_declared_no_per_pod_condition() -> None:
    assert decide.per_pod_calibrated(decided(capacity=applied_capacity()), OK) is None
    assert decide.latency_above_target(decided(capacity=applied_capacity()), OK) is None


def test_tokens_against_real_use() -> None:
    used = Calibration(
        tokens=TokenEstimate(9000.0, 1200.0, "9000 per call-minute"), computed_at=NOW
    )
    under = decide.tokens_calibrated(decided(calibration=used), OK)
    assert under is not None and (under.status, under.reason) == ("False", "Understated")
    assert "correct model.tokensPerSessionMinute, or set model.tokensFrom: Measured" in (
        under.message
    )


def test_any_429_is_an_incident() -> None:
    limited = decide.model_rate_limited(decided(rate_limited=3.0), OK)
    assert limited is not None and (limited.status, limited.reason) == ("True", "RateLimited")
    clear = decide.model_rate_limited(decided(rate_limited=0.0), OK)
    assert clear is not None and (clear.status, clear.reason) == ("False", "NotRateLimited")
    unknown = decide.model_rate_limited(decided(), OK)
    assert unknown is not None and (unknown.status, unknown.reason) == ("Unknown", "NotMeasured")


def test_the_latency_guard_as_a_condition() -> None:
    since = NOW - timedelta(minutes=3)
    held = decided(Memory(latency=LatencyState(above_since=since)), latency=1.2)
    above = decide.latency_above_target(held, OK)
    assert above is not None and (above.status, above.reason) == ("True", "AboveTarget")
    assert "the floor holds 4 pods" in above.message  # ceil(3 ready x 1.25)
    fine = decide.latency_above_target(decided(latency=0.5), OK)
    assert fine is not None and (fine.status, fine.reason) == ("False", "WithinTarget")
    unknown = decide.latency_above_target(decided(), OK)
    assert unknown is not None and unknown.status == "Unknown"
