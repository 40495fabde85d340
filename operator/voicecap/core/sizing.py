"""Replica arithmetic in exact rationals.

Floats would make `ceil(280 / (200 * 0.7))` come out as 3 (0.7 * 200 = 140.00000000000003);
every ratio here goes through Fraction built from the decimal text a user wrote.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache


def exact(value: float | int | Fraction) -> Fraction:
    """The number a person means: 0.7 is 7/10, not 0.6999999999999999555910790149937."""
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


@lru_cache(maxsize=1024)  # a handful of distinct (perPod, utilization) pairs, every cycle
def planned_per_pod(per_pod: int, target_utilization: float) -> Fraction:
    """Sessions a pod is planned to carry: perPod x targetUtilization."""
    return per_pod * exact(target_utilization)


def session_replicas(active: float, per_pod: int, target_utilization: float) -> int:
    """ceil(active / plannedPerPod): the pods that keep utilization at the target."""
    return math.ceil(exact(active) / planned_per_pod(per_pod, target_utilization))


def peak_floor(baseline: float, per_pod: int, target_utilization: float, factor: float) -> int:
    """ceil(factor x ceil(baseline / plannedPerPod)): baseline pods times the burst factor."""
    baseline_pods = session_replicas(baseline, per_pod, target_utilization)
    return math.ceil(exact(factor) * baseline_pods)


def headroom_replicas(active: float, per_pod: int, warning: float) -> int:
    """The fewest pods that bring utilization strictly under `warning`.

    utilization = active / (n x perPod) < warning  <=>  n > active / (perPod x warning).
    """
    return math.floor(exact(active) / (per_pod * exact(warning))) + 1


def tpm_ceiling_sessions(granted_tpm: int, tokens_per_session_minute: int) -> int:
    """Concurrent calls a grant can carry: floor(grantedTPM / tokensPerSessionMinute)."""
    return granted_tpm // tokens_per_session_minute


def pods_for_sessions(sessions: int, per_pod: int) -> int:
    """Pods that carry `sessions` at 100 % utilization."""
    return math.ceil(Fraction(sessions, per_pod))


def utilization(active: float, ready_replicas: int, per_pod: int) -> float | None:
    """active / (ready x perPod); None when there is no capacity to divide by."""
    capacity = ready_replicas * per_pod
    if capacity == 0:
        return None
    return float(exact(active) / capacity)
