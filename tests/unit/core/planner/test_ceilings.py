"""core/planner/ceilings.py: the TPM grant's calls and pods, the ceiling and who sets it, the
admission limit the gateway gets and its bound when ready pods are unknown."""

from __future__ import annotations

import pytest

from support.objects import capacity, vertical_body
from voicecap.api.models import VoiceCapacity
from voicecap.core.measured.calibration import Counted
from voicecap.core.planner.ceilings import (
    AdmissionLimit,
    TokenPlan,
    admission_bound,
    admission_limit,
    ceiling_of,
    held_by_latency,
    token_plan,
)

DECLARED = Counted(6000, "Declared", None)


def test_measured_tokens_shrink_what_a_grant_carries() -> None:
    measured = Counted(9000, "Measured", "tokensPerSessionMinute 9000 as measured")
    plan = token_plan(capacity(), 3_000_000, 300, per_pod=200, tokens=measured)
    assert (plan.value.ceiling_sessions, plan.value.pods, plan.value.projected) == (
        333,
        2,
        2_700_000,
    )


def test_projected_use_is_what_calls_really_use_even_while_planning_with_the_declared() -> None:
    plan = token_plan(
        capacity(), 3_000_000, 300, per_pod=200, tokens=DECLARED, measured_tokens=8_999.5
    )
    assert plan.value.ceiling_sessions == 500  # the grant at the declared 6000, as told
    assert plan.value.projected == 2_699_850  # 300 calls x the 8999.5 they use


def test_a_grant_is_calls_and_pods_at_the_declared_tokens_per_call_minute() -> None:
    plan = token_plan(
        capacity(), 3_000_000, 300, per_pod=200, tokens=DECLARED
    )  # 6000 a call-minute
    assert plan.value == TokenPlan(
        requested=4_800_000, granted=3_000_000, projected=1_800_000, ceiling_sessions=500, pods=3
    )
    assert plan.reason == (
        "granted 3,000,000 of 4,800,000 TPM / 6000 per call-minute = 500 calls = 3 pods at 200 "
        "per pod"
    )


def test_no_grant_known_is_no_tpm_ceiling_and_says_which_budget() -> None:
    plan = token_plan(capacity(), None, None, per_pod=200, tokens=DECLARED)
    assert plan.value == TokenPlan(requested=4_800_000)
    assert plan.reason == "no grant known from TokenBudget openai-realtime: no TPM ceiling"


def test_no_reservation_is_no_token_plan() -> None:
    plain = VoiceCapacity.model_validate(vertical_body())
    assert token_plan(plain, 3_000_000, 10, per_pod=200, tokens=None).value == TokenPlan()


@pytest.mark.parametrize(
    ("tpm_pods", "fixed_pods", "expected", "reason"),
    [
        (None, None, (40, "MaxReplicas"), "replicas.max 40"),
        (12, None, (12, "TPM"), "TPM grant: 12 pods (below replicas.max 40)"),
        (12, 8, (8, "MaxSessions"), "admission.maxSessions: 8 pods (below replicas.max 40)"),
        (50, None, (40, "MaxReplicas"), "replicas.max 40"),
        (1, None, (2, "MinReplicas"), "TPM grant carries 1 pods, below replicas.min 2: min wins"),
    ],
)
def test_the_ceiling_is_the_smallest_bound_and_never_below_min(
    tpm_pods: int | None, fixed_pods: int | None, expected: tuple[int, str], reason: str
) -> None:
    ceiling = ceiling_of(2, 40, tpm_pods, fixed_pods)
    assert (ceiling.value, ceiling.reason) == (expected, reason)


@pytest.mark.parametrize(
    ("ready", "tpm", "fixed", "expected"),
    [
        (3, None, None, AdmissionLimit(600, 250, "Pods")),
        (3, 500, None, AdmissionLimit(500, 150, "TPM")),
        (3, 500, 400, AdmissionLimit(400, 50, "MaxSessions")),
        (3, 600, None, AdmissionLimit(600, 250, "Pods")),  # a tie names the pods
        (0, None, None, AdmissionLimit(0, -350, "Pods")),
    ],
)
def test_admission_is_the_smallest_of_pods_tpm_and_max_sessions(
    ready: int, tpm: int | None, fixed: int | None, expected: AdmissionLimit
) -> None:
    assert admission_limit(350, ready, 200, tpm, fixed) == expected


def test_no_admission_limit_while_ready_pods_are_unknown_and_no_headroom_while_calls_are() -> None:
    assert admission_limit(350, None, 200, 500, None) is None
    assert admission_limit(None, 3, 200, None, None) == AdmissionLimit(600, None, "Pods")


def test_the_bound_without_ready_pods_is_the_grant_else_the_reservation() -> None:
    granted = TokenPlan(requested=4_800_000, granted=3_000_000, ceiling_sessions=500)
    assert admission_bound(granted, 6000, None) == AdmissionLimit(500, None, "TPM")
    asked = TokenPlan(requested=4_800_000)
    assert admission_bound(asked, 6000, 700) == AdmissionLimit(700, None, "MaxSessions")
    assert admission_bound(asked, 6000, 900) == AdmissionLimit(800, None, "TPM")
    assert admission_bound(TokenPlan(), None, None) is None


def test_while_latency_is_above_target_no_more_calls_than_are_live() -> None:
    limit = AdmissionLimit(600, 250, "Pods")
    assert held_by_latency(limit, 350.4) == AdmissionLimit(350, 0, "Latency")
    lower = AdmissionLimit(300, -50, "TPM")
    assert held_by_latency(lower, 350) == lower, "a lower limit stays"
    assert held_by_latency(limit, None) == limit and held_by_latency(None, 5) is None
