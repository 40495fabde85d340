"""Plans as people read them: a JSON document per plan, or one table row per vertical."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from voicecap.api.timefmt import iso
from voicecap.api.types import format_duration
from voicecap.core.planner.plan import Plan


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """A plan as `voicecap plan -o json` prints it (the contract in docs/api.md)."""
    return {
        "namespace": plan.namespace,
        "name": plan.name,
        "vertical": plan.vertical,
        "mode": plan.mode,
        "floor": plan.floor,
        "ceiling": plan.ceiling,
        "wanted": plan.wanted,
        "capacityLimited": plan.capacity_limited,
        "ceilingSource": plan.ceiling_source,
        "sessionReplicas": plan.session_replicas,
        "peakFloor": plan.peak_floor,
        "headroomFloor": plan.headroom_floor,
        "outageHold": plan.outage_hold,
        "activePeak": plan.active_peak,
        "nextPeak": (
            {"name": plan.next_peak[0], "startsAt": iso(plan.next_peak[1])}
            if plan.next_peak
            else None
        ),
        "sessions": {
            "active": plan.sessions,
            "state": plan.sessions_state,
            "capacity": plan.capacity,
        },
        "utilization": None if plan.utilization is None else round(plan.utilization, 4),
        "utilizationBasis": plan.utilization_basis,
        "headroom": {"level": plan.headroom_level, "now": plan.headroom_now},
        "tpm": {
            "requested": plan.tpm.requested,
            "granted": plan.tpm.granted,
            "projected": plan.tpm.projected,
            "ceilingSessions": plan.tpm.ceiling_sessions,
        },
        "admission": _admission_json(plan),
        "exclusions": {
            forecast.peak: {
                "skippedBeforeNext": [
                    day.isoformat() for day in plan.skipped.get(forecast.peak, ())
                ],
                "replacedWeeks": [day.isoformat() for day in forecast.replaced],
            }
            for forecast in plan.forecasts
            if forecast.peak in plan.skipped or forecast.replaced
        },
        "podFit": None
        if plan.pod_fit is None
        else {
            "undersized": plan.pod_fit.undersized,
            "reason": plan.pod_fit.reason,
            "message": plan.pod_fit.message,
        },
        "sizing": {
            "cpuPerPod": _cores(plan.sizing.cpu_per_pod),
            "memoryPerPod": _gibibytes(plan.sizing.memory_per_pod),
            "cpuAtFloor": _cores(plan.sizing.cpu_at_floor),
            "memoryAtFloor": _gibibytes(plan.sizing.memory_at_floor),
            "extended": {
                name: {
                    "perPod": units,
                    "atFloor": plan.sizing.extended_at_floor[name],
                    "atCeiling": plan.sizing.extended_at_ceiling[name],
                }
                for name, units in plan.sizing.extended_per_pod.items()
            },
        },
        "leadTimes": {
            used.peak: {
                "leadTime": format_duration(used.lead),
                "source": used.source,
                "reason": used.reason,
            }
            for used in plan.lead_times
        },
        "reasons": dict(plan.reasons),
    }


_COLUMNS = (
    "NAMESPACE",
    "VERTICAL",
    "MODE",
    "SESSIONS",
    "UTIL",
    "FLOOR",
    "CEILING",
    "PEAK",
    "NEXT-PEAK",
    "TPM-GRANTED",
    "TPM-CALLS",
    "ADMIT",
)


def plans_table(plans: Sequence[Plan]) -> str:
    """Plans as `voicecap plan` prints them: one row per vertical, then notes and warnings."""
    table = columns([_COLUMNS] + [_row(plan) for plan in plans])
    if any(plan.capacity_limited for plan in plans):
        table += "\n* capped at the ceiling: the plan wants more (see --output json reasons)"
    if any(plan.admission is None and plan.admission_bound is not None for plan in plans):
        table += "\n<= ready pods not given (--ready): the limit is at most this"
    for plan in plans:
        for peak, days in plan.skipped.items():
            table += (
                f"\nexcluded: {plan.namespace}/{plan.name} {peak} does not open on "
                + ", ".join(day.isoformat() for day in days)
            )
    for plan in plans:
        sized = plan.sizing
        for name, units in sized.extended_per_pod.items():
            table += (
                f"\n{name}: {plan.namespace}/{plan.name} {units} a pod, "
                f"{sized.extended_at_floor[name]} at the floor, "
                f"{sized.extended_at_ceiling[name]} at the ceiling"
            )
    for plan in plans:
        for used in plan.lead_times:
            if used.source != "Declared":
                table += (
                    f"\nlead time: {plan.namespace}/{plan.name} {used.peak} "
                    f"{format_duration(used.lead)} ({used.reason})"
                )
    for plan in plans:
        table += _tiers_line(plan)
    for warning in (text for plan in plans for text in plan_warnings(plan)):
        table += f"\nwarning: {warning}"
    return table


def plan_warnings(plan: Plan) -> list[str]:
    """What an SRE must not miss in a plan: a gateway told to admit nothing, calls on no pods."""
    name = f"{plan.namespace}/{plan.name}"
    warnings = []
    limit = plan.admission or plan.admission_bound
    if limit is not None and limit.max_sessions == 0:
        why = plan.reasons.get("tpm", "") if limit.reason == "TPM" else ""
        warnings.append(
            f"{name}: admission limit 0 ({limit.reason}): the gateway rejects every call"
            + (f" ({why})" if why else "")
        )
    warnings += [f"{name}: calendar: {problem}" for problem in plan.calendars.problems]
    caps = plan.tenant_caps
    if plan.tenant_caps_map is not None and caps is not None and not caps.found:
        warnings.append(f"{name}: tenant caps: ConfigMap {plan.tenant_caps_map} not in the files")
    if caps is not None:
        warnings += [f"{name}: tenant caps: {problem}" for problem in caps.problems]
    if plan.pod_fit is not None and plan.pod_fit.undersized:
        warnings.append(f"{name}: pods too small: {plan.pod_fit.message}")
    if plan.over_capacity:
        warnings.append(
            f"{name}: over capacity: {plan.sessions:g} calls on {plan.ready_replicas} ready pods "
            f"of {plan.per_pod}"
        )
    return warnings


def _admission_json(plan: Plan) -> dict[str, Any] | None:
    limit = plan.admission or plan.admission_bound
    if limit is None:
        return None
    admission: dict[str, Any] = {
        "maxSessions": limit.max_sessions,
        "headroomSessions": limit.headroom_sessions,
        "reason": limit.reason,
        "bound": plan.admission is None,  # ready pods unknown: at most this
    }
    tiers = plan.tiers
    if tiers is not None:
        pace = tiers.pace
        admission |= {
            "reserve": [{"name": name, "sessions": kept} for name, kept in tiers.reserve],
            "generalSessions": tiers.general,
            "overflow": tiers.overflow,
            "outbound": {
                "callsPerSecond": pace.calls_per_second,
                "callSeconds": pace.call_seconds,
                "from": pace.source,
            }
            if pace is not None
            else None,
            "tenants": dict(tiers.tenants.caps)
            if tiers.tenants is not None and tiers.tenants.found
            else None,
        }
    return admission


def _tiers_line(plan: Plan) -> str:
    """`admission: voice/healthcare vip 50, general 1550, overflow Queue, outbound 6.458/s
    (calls of 240s, Declared)`, for a vertical with tiers beyond the plain limit."""
    tiers = plan.tiers
    if tiers is None or not (
        tiers.reserve or tiers.pace or tiers.overflow != "Reject" or tiers.tenants
    ):
        return ""
    parts = [f"{name} {kept}" for name, kept in tiers.reserve]
    parts += [f"general {tiers.general}", f"overflow {tiers.overflow}"]
    if tiers.tenants is not None and tiers.tenants.found:
        parts.append(f"{len(tiers.tenants.caps)} tenant caps ({tiers.tenants.total} calls)")
    if tiers.pace is not None:
        pace = tiers.pace
        parts.append(
            f"outbound {pace.calls_per_second:g}/s (calls of {pace.call_seconds:g}s, {pace.source})"
        )
    at_most = "at most " if plan.admission is None else ""
    return f"\nadmission: {plan.namespace}/{plan.name} {at_most}" + ", ".join(parts)


def _admit(plan: Plan) -> str:
    if plan.admission is not None:
        return f"{plan.admission.max_sessions} ({plan.admission.reason})"
    if plan.admission_bound is not None:
        return f"<={plan.admission_bound.max_sessions} ({plan.admission_bound.reason})"
    return "-"


def columns(rows: Sequence[tuple[str, ...]]) -> str:
    """Rows as left-aligned columns three spaces apart, as kubectl prints them."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _row(plan: Plan) -> tuple[str, ...]:
    floor = f"{plan.floor}*" if plan.capacity_limited else str(plan.floor)
    return (
        plan.namespace,
        plan.vertical,
        plan.mode,
        "?" if plan.sessions is None else f"{plan.sessions:g}",
        "over" if plan.over_capacity and plan.utilization is None else _percent(plan.utilization),
        floor,
        f"{plan.ceiling} ({plan.ceiling_source})"
        if plan.ceiling_source != "MaxReplicas"
        else str(plan.ceiling),
        plan.active_peak or "-",
        f"{plan.next_peak[0]} {iso(plan.next_peak[1])}" if plan.next_peak else "-",
        _tpm(plan.tpm.granted),
        "-" if plan.tpm.ceiling_sessions is None else str(plan.tpm.ceiling_sessions),
        _admit(plan),
    )


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _tpm(value: int | None) -> str:
    if value is None:
        return "-"
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1000:
        return f"{value / 1000:g}k"
    return str(value)


def _cores(value: Decimal | None) -> str | None:
    return None if value is None else f"{value.normalize():f}"


def _gibibytes(value: Decimal | None) -> str | None:
    return None if value is None else f"{(value / 2**30).quantize(Decimal('0.01'))}Gi"
