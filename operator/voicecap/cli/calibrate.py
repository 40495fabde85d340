"""`voicecap calibrate`: what the operator would measure for each VoiceCapacity from the user's
Prometheus (per-pod capacity from latency, tokens per call-minute from real use, the weeks its
peaks' forecasts read that were served at their limit), with the evidence and the spec change it
suggests. An SRE runs it before turning Measured on."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from voicecap.adapters.calibration import PrometheusCalibration
from voicecap.adapters.history import PrometheusHistory
from voicecap.adapters.metrics import OperatorMetrics
from voicecap.adapters.prometheus_access import redact
from voicecap.api.models import VoiceCapacity
from voicecap.api.timefmt import iso
from voicecap.cli.args import UsageError
from voicecap.cli.history import connect_to, service_quiet, short, text
from voicecap.cli.offline import load_capacities
from voicecap.cli.output import STRUCTURED, structured
from voicecap.cli.report import columns
from voicecap.core.measured.calibration import Calibration, per_pod_verdict, verdict
from voicecap.core.numbers import num
from voicecap.core.peaks.forecast import PeakForecast
from voicecap.service.calibration import CalibrationCache
from voicecap.service.clock import Clock
from voicecap.service.history import HistoryCache


def calibrate(args: argparse.Namespace) -> int:
    """`voicecap calibrate`: measured per-pod capacity and tokens per call-minute, their
    evidence, and the spec changes they suggest."""
    capacities = load_capacities(args.files)
    if not any(c.spec.latency or c.spec.model or c.spec.peaks for c in capacities):
        raise UsageError(
            "nothing to calibrate: give VoiceCapacities with spec.latency (per-pod capacity), "
            "spec.model (tokens per call-minute) or spec.peaks (weeks served at their limit)"
        )
    at = args.at or datetime.now(UTC)
    clock = Clock(at, speed=0)  # time stands at --at
    measuring = connect_to(args, PrometheusCalibration)
    reading = connect_to(args, PrometheusHistory)
    calibrations = CalibrationCache(measuring, clock, OperatorMetrics())
    histories = HistoryCache(reading, clock, OperatorMetrics())
    try:
        with service_quiet():
            asyncio.run(calibrations.refresh(capacities))
            asyncio.run(histories.refresh([c for c in capacities if c.spec.peaks]))
    finally:
        measuring.close()
        reading.close()
    failures = calibrations.failures + histories.failures
    if failures:
        raise UsageError(f"Prometheus at {redact(args.prometheus_url)}: {short(failures[0])}")
    rows = [
        _row(capacity, calibrations.view(capacity), histories.view(capacity).forecasts)
        for capacity in capacities
    ]
    if args.output in STRUCTURED:
        print(structured(rows, args.output))
    else:
        print(_table(rows))
    return 0


def _row(
    capacity: VoiceCapacity, measured: Calibration, forecasts: Mapping[str, PeakForecast]
) -> dict[str, Any]:
    spec = capacity.spec
    row: dict[str, Any] = {
        "namespace": capacity.namespace,
        "name": capacity.metadata.name,
        "vertical": capacity.vertical,
        "perPod": None,
        "tokensPerSessionMinute": None,
    }
    suggestions = []
    estimate = measured.per_pod
    if spec.latency is not None and estimate is not None:
        found = per_pod_verdict(spec.sessions.per_pod, estimate)
        row["perPod"] = {
            "declared": spec.sessions.per_pod,
            "measured": _rounded(estimate.measured),
            "method": estimate.method,
            "samples": estimate.samples,
            "from": _rounded(estimate.load_from),
            "to": _rounded(estimate.load_to),
            "reason": found,
            "evidence": estimate.why,
        }
        if found in {"Overstated", "Understated"} and estimate.measured is not None:
            suggestions.append(
                f"set sessions.perPod to {int(estimate.measured)} (declared "
                f"{spec.sessions.per_pod}), or sessions.perPodFrom: Measured"
            )
    tokens = measured.tokens
    if spec.model is not None and tokens is not None:
        found = verdict(spec.model.tokens_per_session_minute, tokens.measured)
        row["tokensPerSessionMinute"] = {
            "declared": spec.model.tokens_per_session_minute,
            "measured": _rounded(tokens.measured),
            "callMinutes": _rounded(tokens.call_minutes),
            "reason": found,
            "evidence": tokens.why,
        }
        if found in {"Overstated", "Understated"} and tokens.measured is not None:
            suggestions.append(
                f"set model.tokensPerSessionMinute to {round(tokens.measured)} (declared "
                f"{spec.model.tokens_per_session_minute}), or model.tokensFrom: Measured"
            )
    row["censoredWeeks"] = [
        {"peak": name, "start": iso(week.start), "sessions": week.sessions}
        for name, forecast in forecasts.items()
        for week in forecast.weeks
        if week.censored and week.sessions is not None
    ]
    if row["censoredWeeks"]:
        suggestions.append(
            f"{len(row['censoredWeeks'])} weeks were served at their admission limit: count "
            "the calls refused (voice_calls_rejected_total, or sessions.rejectedQuery) so "
            "forecasts see the demand"
        )
    row["suggestion"] = "; ".join(suggestions) or "none"
    return row


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _table(rows: list[dict[str, Any]]) -> str:
    header = ("NAMESPACE/NAME", "PERPOD", "MEASURED", "REASON", "TOKENS/MIN", "MEASURED", "REASON")
    table: list[tuple[str, ...]] = [header]
    details = []
    for row in rows:
        per_pod, tokens = row["perPod"] or {}, row["tokensPerSessionMinute"] or {}
        table.append(
            (
                f"{row['namespace']}/{row['name']}",
                text(per_pod.get("declared")),
                _measured(per_pod),
                per_pod.get("reason", "-"),
                text(tokens.get("declared")),
                text(tokens.get("measured")),
                tokens.get("reason", "-"),
            )
        )
        evidence = [f"  perPod: {per_pod['evidence']}"] if per_pod else []
        evidence += [f"  tokens: {tokens['evidence']}"] if tokens else []
        evidence += [
            f"  censored: {week['peak']} week of {week['start']}: {text(week['sessions'])} calls "
            "served at the limit"
            for week in row["censoredWeeks"]
        ]
        details.append(
            "\n".join([f"{row['namespace']}/{row['name']}:", *evidence])
            + f"\n  suggestion: {row['suggestion']}"
        )
    return columns(table) + "\n\n" + "\n".join(details)


def _measured(per_pod: dict[str, Any]) -> str:
    measured = per_pod.get("measured")
    if measured is None:
        return "-"
    method = per_pod.get("method")
    return f"{num(measured)}" + (" (extrapolated)" if method == "Extrapolated" else "")
