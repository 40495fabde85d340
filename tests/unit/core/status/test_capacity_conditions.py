"""core/status/capacity_conditions.py: MetricsAvailable, HeadroomLow, NearCeiling,
CapacityLimited, BudgetGranted and PodUndersized, each from the plan's typed reasons."""

from __future__ import annotations

from decimal import Decimal

from support.planned import NOW, applied_capacity, evaluate
from voicecap.core.apply.outcome import Outcome
from voicecap.core.planner.observation import Observation
from voicecap.core.planner.plan import plan
from voicecap.core.planner.pod_fit import PodRequests
from voicecap.core.status import capacity_conditions as decide

OK = Outcome("Reconciled", "")
VCAP = applied_capacity()


def test_metrics_available_says_why_sessions_are_unknown() -> None:
    known = decide.metrics_available(evaluate(VCAP, 300), OK)
    assert (known.status, known.reason, known.message) == ("True", "SessionsKnown", "300 active")
    blind = decide.metrics_available(evaluate(VCAP, None), OK)
    assert (blind.status, blind.reason) == ("False", "NoData")
    assert blind.message == "unknown (NoData); never known"


def test_headroom_low_names_the_level_and_the_utilization() -> None:
    fine = decide.headroom_low(evaluate(VCAP, 300), OK)
    assert (fine.status, fine.reason) == ("False", "HeadroomOK")
    assert fine.message == "300 / 600 capacity of ready pods = 0.50"


def test_capacity_limited_says_what_the_plan_wants_and_what_caps_it() -> None:
    small = applied_capacity(replicas={"min": 2, "max": 4})
    capped = decide.capacity_limited(evaluate(small, 1000), OK)
    assert (capped.status, capped.reason) == ("True", "MaxReplicas")
    assert capped.message == "wants 8 replicas, ceiling 4: replicas.max 4"
    within = decide.capacity_limited(evaluate(VCAP, 300), OK)
    assert (within.status, within.reason) == ("False", "WithinCeiling")


def test_near_ceiling_unknown_while_calls_are() -> None:
    unknown = decide.near_ceiling(evaluate(VCAP, None), OK)
    assert (unknown.status, unknown.reason) == ("Unknown", "SessionsUnknown")
    below = decide.near_ceiling(evaluate(VCAP, 300), OK)
    assert (below.status, below.reason) == ("False", "BelowPlanningLevel")


def test_budget_granted_by_what_the_budget_said() -> None:
    granted = plan(VCAP, Observation(sessions=300, granted_tpm=4_800_000), NOW)
    made = decide.budget_granted(granted, OK)
    assert made is not None and (made.status, made.reason) == ("True", "Granted")
    short = plan(VCAP, Observation(sessions=300, granted_tpm=3_000_000), NOW)
    made = decide.budget_granted(short, OK)
    assert made is not None and (made.status, made.reason) == ("False", "PartiallyGranted")
    missing = decide.budget_granted(evaluate(VCAP, 300), Outcome("Reconciled", "", "NotFound"))
    assert missing is not None and (missing.status, missing.reason) == ("False", "BudgetNotFound")
    invalid = decide.budget_granted(short, Outcome("Reconciled", "", "Invalid"))
    assert invalid is not None and invalid.reason == "BudgetInvalid"
    assert "the grant in effect is kept" in invalid.message


def test_no_reservation_no_budget_condition() -> None:
    plain = applied_capacity()
    body = plain.model_dump(by_alias=True, exclude_none=True, mode="json")
    body["spec"].pop("model")
    assert decide.budget_granted(evaluate(type(plain).model_validate(body), 300), OK) is None


def test_pod_undersized_only_with_a_session_cost_and_known_requests() -> None:
    assert decide.pod_undersized(evaluate(VCAP, 300), OK) is None
    costly = applied_capacity(sessionCost={"cpu": "50m", "memory": "120Mi"})
    small = PodRequests(cpu=Decimal("0.5"), memory=Decimal(2**30))
    made = decide.pod_undersized(plan(costly, Observation(pod_requests=small), NOW), OK)
    assert made is not None and (made.status, made.reason) == ("True", "RequestsBelowCalls")
