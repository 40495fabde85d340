"""gateway.py: the ASGI middleware admits a WebSocket call before the app sees it, holds the
slot while it lasts, and refuses past the limit with the SIP answer docs/operating.md names."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from voicecap_kit.admission import Admission
from voicecap_kit.gateway import AdmissionMiddleware
from voicecap_kit.limits import VerticalLimits


class Call:
    """One ASGI connection: what the server sent back, and a switch to hang up."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.hang_up = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        await self.hang_up.wait()
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(self, message: Any) -> None:
        self.sent.append(dict(message))


async def media_app(scope: Any, receive: Any, send: Any) -> None:
    """An agent's media socket: accept, then hold the call until the caller hangs up."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.accept"})
        await receive()
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def ws(tier: str | None = None) -> dict[str, Any]:
    headers = [(b"x-voice-tier", tier.encode())] if tier else []
    return {"type": "websocket", "path": "/media", "headers": headers}


@pytest.mark.asyncio
async def test_calls_hold_their_slot_and_the_next_is_refused_with_486() -> None:
    gate = Admission(lambda: VerticalLimits(2, reserve={"vip": 1}))
    app = AdmissionMiddleware(media_app, gate, queue_wait=0)
    first, vip, refused, other = Call(), Call(), Call(), Call()
    running = [asyncio.create_task(app(ws(), first.receive, first.send)),
               asyncio.create_task(app(ws("vip"), vip.receive, vip.send))]  # fmt: skip
    await asyncio.sleep(0.01)
    assert gate.live == 2 and first.sent[0]["type"] == "websocket.accept"
    await app(ws(), refused.receive, refused.send)
    assert refused.sent == [
        {"type": "websocket.close", "code": 1013, "reason": "SIP 486 Busy Here"}
    ]
    first.hang_up.set()
    await running[0]
    assert gate.live == 1  # the slot goes back when the call ends
    vip.hang_up.set()
    await running[1]
    other.hang_up.set()
    await app({"type": "http", "path": "/health", "headers": []}, other.receive, other.send)
    assert other.sent[0]["status"] == 200  # not a call: not admitted, not counted


@pytest.mark.asyncio
async def test_http_calls_are_refused_with_503_and_the_sip_status() -> None:
    gate = Admission(lambda: None)  # no limits read yet: refuse, never guess
    app = AdmissionMiddleware(media_app, gate, retry_after=15)
    call = Call()
    await app({"type": "http", "path": "/calls", "headers": []}, call.receive, call.send)
    start = call.sent[0]
    assert start["status"] == 503
    assert (b"retry-after", b"15") in start["headers"]
    assert (b"x-sip-status", b"503") in start["headers"]
    assert b"NoLimits" in call.sent[1]["body"]


@pytest.mark.asyncio
async def test_with_overflow_queue_a_call_waits_for_one_to_end() -> None:
    gate = Admission(lambda: VerticalLimits(1, overflow="Queue"))
    app = AdmissionMiddleware(media_app, gate, queue_wait=2.0)
    first, queued = Call(), Call()
    holding = asyncio.create_task(app(ws(), first.receive, first.send))
    await asyncio.sleep(0.01)
    waiting = asyncio.create_task(app(ws(), queued.receive, queued.send))
    await asyncio.sleep(0.05)
    assert queued.sent == []  # ringing, not refused
    first.hang_up.set()
    await holding
    await asyncio.sleep(0.05)
    assert queued.sent[0]["type"] == "websocket.accept"
    queued.hang_up.set()
    await waiting


@pytest.mark.asyncio
async def test_a_tenant_at_its_cap_is_refused_by_header() -> None:
    gate = Admission(lambda: VerticalLimits(10, tenants={"acme": 1}))
    app = AdmissionMiddleware(media_app, gate, queue_wait=0)
    first, second = Call(), Call()
    scope = {"type": "websocket", "path": "/media", "headers": [(b"X-Voice-Tenant", b"acme")]}
    holding = asyncio.create_task(app(scope, first.receive, first.send))
    await asyncio.sleep(0.01)
    await app(scope, second.receive, second.send)
    assert second.sent == [{"type": "websocket.close", "code": 1013, "reason": "SIP 486 Busy Here"}]
    first.hang_up.set()
    await holding
