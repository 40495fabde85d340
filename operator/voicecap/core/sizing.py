"""Replica arithmetic in exact rationals.

Floats would make `ceil(280 / (200 * 0.7))` come out as 3 (0.7 * 200 = 140.00000000000003);
every ratio here goes through Fraction built from the decimal text a user wrote.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from fractions import Fraction
from functools import lru_cache

from voicecap.api.base import HPA_TOLERANCE


def exact(value: float | int | Fraction) -> Fraction:
    """The number a person means: 0.7 is 7/10, not 0.6999999999999999555910790149937."""
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


@lru_cache(maxsize=1024)  # a handful of distinct (perPod, utilization) pairs, every cycle
def planned_per_pod(per_pod: int, target_utilization: float) -> Fraction:
    """Sessions a pod is planned to carry: perPod x targetUtilization."""
    return per_pod * exact(target_utilization)


def hpa_target_per_pod(per_pod: int, target_utilization: float, blocking: float | None) -> Fraction:
    """The HPA's per-pod target: plannedPerPod; perPod (a backstop for full pods) when the floor
    is sized for a blocking target, so that the HPA does not hold more pods than Erlang B."""
    if blocking is not None:
        return Fraction(per_pod)
    return planned_per_pod(per_pod, target_utilization)


def session_replicas(
    active: float, per_pod: int, target_utilization: float, *, blocking: float | None = None
) -> int:
    """The pods for the calls now: ceil(active / plannedPerPod), or with a blocking target the
    pods whose pooled slots carry that load at that blocking probability (Erlang B)."""
    if blocking is not None:
        return math.ceil(Fraction(slots_for_blocking(active, blocking), per_pod))
    return math.ceil(exact(active) / planned_per_pod(per_pod, target_utilization))


def tolerant_session_replicas(
    active: float,
    previous: int | None,
    per_pod: int,
    target_utilization: float,
    *,
    blocking: float | None = None,
) -> int:
    """session_replicas with the HPA's tolerance: the previous count stands while it is what
    calls within HPA_TOLERANCE of now would need. Without it a vertical hovering at a pod
    boundary (420 calls at 140 per pod) moves the floor 3 <-> 4 where the HPA holds still."""
    wanted = session_replicas(active, per_pod, target_utilization, blocking=blocking)
    if previous is None or previous == wanted:
        return wanted
    low = session_replicas(
        active / (1 + HPA_TOLERANCE), per_pod, target_utilization, blocking=blocking
    )
    high = session_replicas(
        active * (1 + HPA_TOLERANCE), per_pod, target_utilization, blocking=blocking
    )
    return previous if low <= previous <= high else wanted


def peak_floor(calls: float, per_pod: int, *, factor: float, blocking: float | None = None) -> int:
    """The pods that carry factor x the forecast calls at perPod (docs/api.md "Semantics"): the
    factor is the headroom over the forecast, not stacked on targetUtilization. With a blocking
    target, the slots for that load at that blocking probability."""
    load = exact(factor) * exact(calls)
    if blocking is not None:
        return math.ceil(Fraction(slots_for_blocking(float(load), blocking), per_pod))
    return math.ceil(load / per_pod)


def _inverse_blocking(load: float) -> Iterator[float]:
    """1/B(n, A) for n = 1, 2, ...: Erlang B by the stable recurrence 1/B(n) = 1 + n/A x 1/B(n-1),
    from 1/B(0) = 1 (B falls with every slot added, towards 0)."""
    inverse = 1.0
    for n in itertools.count(1):
        inverse = 1.0 + inverse * n / load
        yield inverse


def erlang_b(slots: int, load: float) -> float:
    """The probability that a call offered `load` Erlangs finds all `slots` busy (Erlang B)."""
    if load <= 0:
        return 0.0
    if slots == 0:
        return 1.0
    return 1.0 / next(itertools.islice(_inverse_blocking(load), slots - 1, None))


@lru_cache(maxsize=8192)  # sessions repeat from cycle to cycle
def slots_for_blocking(load: float, blocking: float) -> int:
    """The fewest slots with Erlang B(slots, load) <= blocking. `load` is the offered calls in
    Erlangs (concurrent calls: arrival rate x mean duration), here the calls carried now."""
    if load <= 0:
        return 0
    return next(
        slots
        for slots, inverse in enumerate(_inverse_blocking(load), start=1)
        if inverse >= 1.0 / blocking
    )


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
