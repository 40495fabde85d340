"""admission.py: reserved pools, a lowered limit, atomic decisions under threads, the queue."""

from __future__ import annotations

import asyncio
import threading

import pytest
from voicecap_kit.admission import Admission, Decision
from voicecap_kit.limits import VerticalLimits


class Limits:
    def __init__(self, limits: VerticalLimits | None) -> None:
        self.value = limits

    def __call__(self) -> VerticalLimits | None:
        return self.value


def admitted(decisions: list[Decision]) -> int:
    return sum(1 for decision in decisions if decision.admitted)


def test_general_callers_cannot_take_the_reserved_pool_and_vip_callers_can() -> None:
    limits = Limits(VerticalLimits(10, reserve={"vip": 3}))
    gate = Admission(limits)
    general = [gate.try_admit() for _ in range(9)]
    assert admitted(general) == 7 and general[-1].reason == "Full"
    assert general[-1].sip_status == 486
    vips = [gate.try_admit("vip") for _ in range(4)]
    assert admitted(vips) == 3 and gate.live == 10  # the pool, then the limit
    unknown_tier = gate.try_admit("gold")  # a tier without a pool is general traffic
    assert not unknown_tier.admitted


def test_a_tier_past_its_pool_takes_general_slots() -> None:
    gate = Admission(Limits(VerticalLimits(5, reserve={"vip": 1})))
    vips = [gate.try_admit("vip") for _ in range(3)]
    assert admitted(vips) == 3  # one in its pool, two in general
    assert admitted([gate.try_admit() for _ in range(3)]) == 2  # 4 general slots - 2
    assert gate.live == 5


def test_a_lowered_limit_admits_nothing_until_calls_end_and_ends_none() -> None:
    limits = Limits(VerticalLimits(4))
    gate = Admission(limits)
    tickets = [gate.try_admit().ticket for _ in range(4)]
    limits.value = VerticalLimits(2)
    assert gate.live == 4 and not gate.try_admit().admitted
    for ticket in tickets[:2]:
        assert ticket is not None
        ticket.release()
        ticket.release()  # twice is harmless
    assert gate.live == 2 and not gate.try_admit().admitted
    tickets[2].release()  # type: ignore[union-attr]
    assert gate.try_admit().admitted


def test_no_limits_and_a_closed_gate_admit_nothing() -> None:
    gate = Admission(Limits(None))
    refused = gate.try_admit()
    assert (refused.admitted, refused.reason, refused.sip_status) == (False, "NoLimits", 503)
    gate = Admission(Limits(VerticalLimits(5)))
    gate.close()
    assert gate.try_admit().reason == "Closed"


def test_many_threads_at_once_never_take_more_than_the_limit() -> None:
    """The last-slot race, 200 times: 16 threads released together on 8 slots."""
    for _ in range(200):
        gate = Admission(Limits(VerticalLimits(8, reserve={"vip": 2})))
        start = threading.Barrier(16)
        results: list[Decision] = []

        def call(
            index: int,
            gate: Admission = gate,
            start: threading.Barrier = start,
            results: list[Decision] = results,
        ) -> None:
            start.wait()
            results.append(gate.try_admit("vip" if index % 4 == 0 else None))

        threads = [threading.Thread(target=call, args=(i,)) for i in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=5)
        assert admitted(results) == 8 and gate.live == 8


@pytest.mark.asyncio
async def test_a_queued_call_is_admitted_when_a_call_ends_or_refused_after_the_wait() -> None:
    gate = Admission(Limits(VerticalLimits(1, overflow="Queue")))
    first = gate.try_admit()
    assert first.ticket is not None
    waiting = asyncio.create_task(gate.admit(wait=2.0))
    await asyncio.sleep(0.05)
    first.ticket.release()
    second = await waiting
    assert second.admitted and 0 < second.waited < 1
    late = await gate.admit(wait=0.1)
    assert (late.admitted, late.reason, late.sip_status) == (False, "QueueTimeout", 486)
    rejecting = Admission(Limits(VerticalLimits(0)))
    assert (await rejecting.admit(wait=5)).reason == "Full"  # Reject: no wait


def test_a_tenant_at_its_cap_is_refused_while_others_are_admitted() -> None:
    gate = Admission(Limits(VerticalLimits(10, tenants={"acme": 2, "globex": 0})))
    acme = [gate.try_admit(tenant="acme") for _ in range(3)]
    assert admitted(acme) == 2
    assert (acme[-1].reason, acme[-1].sip_status) == ("TenantCap", 486)
    assert not gate.try_admit(tenant="globex").admitted  # a cap of 0 closes a tenant
    assert gate.try_admit(tenant="initech").admitted  # no cap: only the vertical's limit
    assert acme[0].ticket is not None
    acme[0].ticket.release()
    assert gate.try_admit(tenant="acme").admitted
