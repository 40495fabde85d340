"""The conditions about measured inputs: PerPodCalibrated, TokensCalibrated, ModelRateLimited and
LatencyAboveTarget (their rows are in core/status/condition_types.py). Each is shown only where
its input is declared (spec.latency, spec.model), and says what is missing while nothing is
measured: absent metrics leave today's behaviour and raise no alarm."""

from __future__ import annotations

from typing import Literal

from voicecap.api.models import Condition
from voicecap.core.apply.outcome import Outcome
from voicecap.core.measured.calibration import Counted, per_pod_verdict, verdict
from voicecap.core.numbers import num
from voicecap.core.planner.plan import Plan

Status = Literal["True", "False", "Unknown"]
_STATUS: dict[str, Status] = {
    "Matches": "True",
    "Overstated": "False",
    "Understated": "False",
    "InsufficientData": "Unknown",
}


def per_pod_calibrated(plan: Plan, outcome: Outcome) -> Condition | None:
    """sessions.perPod against the capacity measured from latency."""
    estimate = plan.inputs.calibration.per_pod
    if plan.spec_latency_target is None:
        return None
    declared = plan.declared_per_pod
    if estimate is None:
        return Condition(
            type="PerPodCalibrated",
            status="Unknown",
            reason="InsufficientData",
            message="not measured yet: the calibration runs in the background, hourly",
        )
    found = per_pod_verdict(declared, estimate)
    measured = (
        f"measured {num(round(estimate.measured, 1))} ({estimate.method})"
        if estimate.measured is not None
        else "no measurement"
    )
    return Condition(
        type="PerPodCalibrated",
        status=_STATUS[found],
        reason=found,
        message=f"perPod {declared} declared, {measured}: {estimate.why}"
        + _what_to_do(found, plan.inputs.per_pod, "sessions.perPod", "sessions.perPodFrom"),
    )


def tokens_calibrated(plan: Plan, outcome: Outcome) -> Condition | None:
    """model.tokensPerSessionMinute against the tokens per call-minute measured from use."""
    declared = plan.declared_tokens_per_session_minute
    if declared is None:
        return None
    estimate = plan.inputs.calibration.tokens
    if estimate is None:
        return Condition(
            type="TokensCalibrated",
            status="Unknown",
            reason="InsufficientData",
            message="not measured yet: the calibration runs in the background, hourly",
        )
    found = verdict(declared, estimate.measured)
    return Condition(
        type="TokensCalibrated",
        status=_STATUS[found],
        reason=found,
        message=f"tokensPerSessionMinute {declared} declared: {estimate.why}"
        + _what_to_do(
            found,
            plan.inputs.tokens_per_session_minute,
            "model.tokensPerSessionMinute",
            "model.tokensFrom",
        ),
    )


def _what_to_do(found: str, counted: Counted | None, field: str, source: str) -> str:
    """What the plan counts, and the spec change a wrong declaration asks for."""
    if counted is not None and counted.source == "Measured":
        return f"; planning with {counted.value} ({source}: Measured)"
    if found in {"Overstated", "Understated"}:
        return f"; planning with the declared value: correct {field}, or set {source}: Measured"
    return ""


def model_rate_limited(plan: Plan, outcome: Outcome) -> Condition | None:
    """Any 429 from the provider in the last 5 minutes is an incident: calls fail mid-way."""
    if plan.declared_tokens_per_session_minute is None:
        return None
    refused = plan.pressure.rate_limited
    if refused is None:
        return Condition(
            type="ModelRateLimited",
            status="Unknown",
            reason="NotMeasured",
            message="no rate-limit counter for this vertical (model.rateLimitedQuery, default "
            "voice_model_rate_limited_total)",
        )
    if refused > 0:
        return Condition(
            type="ModelRateLimited",
            status="True",
            reason="RateLimited",
            message=f"the provider refused {num(round(refused, 1))} requests (HTTP 429) in the "
            "last 5 minutes: calls fail mid-way; lower the admission limit (model.tokensFrom: "
            "Measured, a smaller reservation) or raise the provider's cap",
        )
    return Condition(
        type="ModelRateLimited",
        status="False",
        reason="NotRateLimited",
        message="no refusal (HTTP 429) from the provider in the last 5 minutes",
    )


def latency_above_target(plan: Plan, outcome: Outcome) -> Condition | None:
    """The live guard: the pods answer too slowly whatever perPod says."""
    verdict_ = plan.pressure.latency
    if verdict_.target is None:
        return None
    target = f"{num(round(verdict_.target * 1000))}ms"
    if verdict_.seconds is None and not verdict_.guarding:
        return Condition(
            type="LatencyAboveTarget",
            status="Unknown",
            reason="NotMeasured",
            message=f"no latency quantile for this vertical (spec.latency.query, default "
            f"voice_ttfb_seconds); target {target}",
        )
    now = f"{num(round(verdict_.seconds * 1000))}ms" if verdict_.seconds is not None else "unknown"
    if verdict_.guarding:
        return Condition(
            type="LatencyAboveTarget",
            status="True",
            reason="AboveTarget",
            message=f"latency {now} against a {target} target: the floor holds "
            f"{verdict_.state.guard_pods} pods and admission stops at the live calls until it "
            "stays under 90 % of the target",
        )
    return Condition(
        type="LatencyAboveTarget",
        status="False",
        reason="WithinTarget",
        message=f"latency {now} against a {target} target",
    )
