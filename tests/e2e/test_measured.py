"""Measured inputs on the real control plane: the operator reads a real Prometheus that holds a
day and a half of per-pod latency and token use and fourteen weeks of calls (backfilled with
promtool, ending ten minutes ago) and scrapes the tests' session exporter for the live series.

- pods that reach the 800ms target at 120 calls, declared 200: PerPodCalibrated Overstated with
  the measured value; with perPodFrom: Measured the HPA's per-pod target follows it and the real
  HPA controller runs more pods for the same calls;
- calls using 9000 tokens a minute, declared 6000: TokensCalibrated Understated;
- a 429 counted by the voice stack: ModelRateLimited;
- weeks served at an admission limit: with the refused calls counted the forecast is the demand,
  above the limit; without, it is the limit, and the weeks and the forecast say censored.

The chart's operator is stopped meanwhile; one with its identity and flags runs against this
Prometheus.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from e2e.workloads import agent, eventually, voice_capacity
from support import history, measured_history
from support.client import Client, Sessions
from support.paths import path_of
from support.reads import condition, ready_pods, status
from support.real_stack import RealStack
from support.servers import OperatorProcess, Prometheus
from voicecap.api.types import parse_quantity as quantity

NS = "voice-measured"
MEASURED = "measured-check"  # pods full at 120 calls, declared 200
NOW = datetime.now(UTC).replace(second=0, microsecond=0)
HISTORY_END = NOW - timedelta(minutes=10)
WINDOW = NOW + timedelta(hours=2)  # the next window of the weekly peak, in UTC
CAPPED = history.Vertical(
    NS,
    "censored-check",
    "UTC",
    anchor=WINDOW.replace(tzinfo=None),
    minutes=60,
    bases=dict.fromkeys(range(1, 16), 300.0),
    weeks=14,
    limit=330.0,
    end=HISTORY_END,
)
COUNTED = history.Vertical(
    **{**CAPPED.__dict__, "vertical": "offered-check", "counts_refusals": True}
)


def _in_namespace(body: dict[str, Any]) -> dict[str, Any]:
    moved = copy.deepcopy(body)
    moved["metadata"]["namespace"] = NS
    return moved


def _capacity(name: str, **spec: Any) -> dict[str, Any]:
    return _in_namespace(voice_capacity(name, **spec))


def _weekly_peak() -> dict[str, Any]:
    day = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")[WINDOW.weekday()]
    return {
        "name": "weekly",
        "schedule": f"{WINDOW.minute} {WINDOW.hour} * * {day}",
        "duration": "1h",
        "timeZone": "UTC",
        "factor": 1.5,
    }


@pytest.fixture(scope="module")
def measuring(
    stack: RealStack, cluster: Client, sessions: Sessions, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    """A Prometheus with the history, scraping the stack's exporter; the chart's operator
    stopped, and one with its identity against that Prometheus."""
    folder = tmp_path_factory.mktemp("measured-e2e")
    pods = measured_history.MeasuredVertical(NS, MEASURED, capacity=120.0)
    files = [
        measured_history.write_openmetrics(folder / "calibration.om", [pods], HISTORY_END, 1.5),
        history.write_openmetrics(folder / "weeks.om", [CAPPED, COUNTED]),
    ]
    prometheus = Prometheus(folder, [f"127.0.0.1:{stack.exporter.port}"], history=files)
    cluster.ensure_namespace(NS)
    cluster.apply(_budget())
    for name in (MEASURED, CAPPED.vertical, COUNTED.vertical):
        cluster.apply(_in_namespace(agent(f"{name}-agent")))
    sessions.add("voice_model_rate_limited_total", NS, MEASURED, 0)
    stack.operator.stop()
    operator = OperatorProcess(
        folder,
        kubeconfig=stack.operator_kubeconfig,
        prometheus_url=prometheus.url,
        interval="1s",
        extra=["--standalone"],
        name="measuring-operator",  # every namespace, as the chart's (its RBAC is for that)
    )
    try:
        yield operator
    finally:
        operator.stop()
        stack.operator = stack.start_operator()
        for name in (MEASURED, CAPPED.vertical, COUNTED.vertical):
            cluster.delete(path_of("voicecap.io/v1alpha1", "voicecapacities", NS, name))
            cluster.delete(path_of("apps/v1", "deployments", NS, f"{name}-agent"))
            sessions.clear_vertical(NS, name)
        cluster.delete(path_of("voicecap.io/v1alpha1", "tokenbudgets", None, "measured-budget"))
        prometheus.stop()


def _budget() -> dict[str, Any]:
    return {
        "apiVersion": "voicecap.io/v1alpha1",
        "kind": "TokenBudget",
        "metadata": {"name": "measured-budget"},
        "spec": {"tokensPerMinute": 20_000_000},
    }


def _calls_on_ready_pods(cluster: Client, sessions: Sessions, total: float) -> int:
    """`total` calls spread over the measured vertical's Ready pods, each answering in 450ms;
    the number of those pods."""
    pods = ready_pods(cluster, NS, f"{MEASURED}-agent")
    sessions.clear_vertical(NS, MEASURED)
    for pod in pods:
        sessions.set(NS, MEASURED, pod, total / max(len(pods), 1))
        sessions.set_latency(NS, MEASURED, pod, 0.45)
    return len(pods)


def _hpa_target(cluster: Client) -> float:
    hpa = cluster.get(path_of("autoscaling/v2", "horizontalpodautoscalers", NS, MEASURED)) or {}
    (metric,) = hpa["spec"]["metrics"]
    return float(quantity(metric["pods"]["target"]["averageValue"]))


def test_per_pod_capacity_and_tokens_are_measured_and_measured_capacity_drives_the_hpa(
    cluster: Client, sessions: Sessions, measuring: OperatorProcess
) -> None:
    model = {
        "budgetRef": "measured-budget",
        "tokensPerSessionMinute": 6000,
        "reservedTPM": 6_000_000,
    }
    body = _capacity(
        MEASURED,
        sessions={"perPod": 200, "targetUtilization": 0.7},
        replicas={"min": 2, "max": 12},
        latency={"target": "800ms"},
        model=model,
        scaleDown={"stabilization": "0s"},
    )
    cluster.apply(body)
    per_pod = eventually(
        lambda: (
            (status(cluster, NS, MEASURED).get("calibration") or {})
            .get("perPod", {})
            .get("measured")
        ),
        "the calibration's first refresh",
        120,
    )
    assert per_pod == pytest.approx(120, rel=0.1)
    calibrated = condition(cluster, NS, MEASURED, "PerPodCalibrated")
    assert (calibrated["status"], calibrated["reason"]) == ("False", "Overstated")
    assert "sessions.perPodFrom: Measured" in calibrated["message"]
    tokens = eventually(
        lambda: condition(cluster, NS, MEASURED, "TokensCalibrated").get("reason"), "tokens"
    )
    assert tokens == "Understated"
    measured_tokens = status(cluster, NS, MEASURED)["calibration"]["tokensPerSessionMinute"]
    assert measured_tokens["measured"] == pytest.approx(9000, rel=0.05)

    # Declared: 300 calls at 140 a pod (200 x 0.7) are 3 pods.
    assert _hpa_target(cluster) == 140
    eventually(
        lambda: _calls_on_ready_pods(cluster, sessions, 300) == 3,
        "the HPA runs 3 pods for 300 calls at the declared 200 a pod",
        120,
    )
    within = condition(cluster, NS, MEASURED, "LatencyAboveTarget")
    assert (within["status"], within["reason"]) == ("False", "WithinTarget")

    # Measured: about 115 a pod, 80 at the target: the same calls need 4.
    body["spec"]["sessions"]["perPodFrom"] = "Measured"
    cluster.apply(body)
    target = eventually(lambda: (t := _hpa_target(cluster)) < 140 and t, "the HPA re-targeted")
    assert target == pytest.approx(0.7 * math.floor(per_pod), abs=1)
    eventually(
        lambda: _calls_on_ready_pods(cluster, sessions, 300) == 4,
        "the HPA runs 4 pods for the same 300 calls at the measured capacity",
        120,
    )
    counted = condition(cluster, NS, MEASURED, "PerPodCalibrated")["message"]
    assert "(sessions.perPodFrom: Measured)" in counted


def test_a_429_from_the_model_provider_is_model_rate_limited(
    cluster: Client, sessions: Sessions, measuring: OperatorProcess
) -> None:
    eventually(
        lambda: (
            condition(cluster, NS, MEASURED, "ModelRateLimited").get("reason") == "NotRateLimited"
        ),
        "the provider's refusals read as none",
        90,
    )
    sessions.add("voice_model_rate_limited_total", NS, MEASURED, 5)
    limited = eventually(
        lambda: (
            (c := condition(cluster, NS, MEASURED, "ModelRateLimited"))["status"] == "True" and c
        ),
        "a 429 counted",
        60,
    )
    assert limited["reason"] == "RateLimited"


def test_refused_calls_raise_the_forecast_and_weeks_at_the_limit_are_censored(
    cluster: Client, measuring: OperatorProcess
) -> None:
    for item in (CAPPED, COUNTED):
        cluster.apply(
            _capacity(
                item.vertical,
                peaks=[_weekly_peak()],
                sessions={"perPod": 100, "targetUtilization": 0.7},
            )
        )

    def forecast(name: str) -> dict[str, Any] | None:
        found = status(cluster, NS, name).get("forecast") or [{}]
        return found[0] if found[0].get("reason") not in {None, "Pending"} else None

    censored = eventually(lambda: forecast(CAPPED.vertical), "the forecast from served calls", 90)
    offered = eventually(lambda: forecast(COUNTED.vertical), "the forecast from offered calls")
    assert (censored["reason"], censored["sessions"]) == ("CensoredHistory", CAPPED.limit)
    assert censored["weeks"] and all(week["censored"] for week in censored["weeks"])
    ready = condition(cluster, NS, CAPPED.vertical, "ForecastReady")
    assert ready["reason"] == "CensoredHistory" and "a lower bound" in ready["message"]
    assert offered["reason"] == "Forecast"
    assert offered["sessions"] > CAPPED.limit + 20  # the demand: about 356
    assert all(week["offered"] and not week["censored"] for week in offered["weeks"])
