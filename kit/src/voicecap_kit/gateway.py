"""A generic call gateway: ASGI middleware that admits each call before the app sees it.

A call is a WebSocket session (a media stream, a SIP-over-WebSocket leg) or, for HTTP, one
request to the call path (`POST /calls`): it holds its slot until the socket closes or the
request's response ends. Past the limit, with overflow Queue, the call waits up to `queue_wait`
seconds for a call to end (the caller hears a ring, not busy); otherwise, or after the wait, it
is refused with what docs/operating.md names:

- WebSocket: closed before accept with code 1013 (Try Again Later) and reason
  "SIP 486 Busy Here" (full) or "SIP 503 Service Unavailable" (no limits, draining);
- HTTP: 503 with Retry-After and `X-SIP-Status: 486` or `503`.

The caller's tier (VIP, emergency: the reserved pools) and tenant (its cap) come from headers,
`x-voice-tier` and `x-voice-tenant` by default, which the edge must set and strip from
untrusted callers. A tenant at its cap is refused with 486 like a full vertical.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from voicecap_kit.admission import Admission, Decision

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TRY_AGAIN_LATER = 1013  # RFC 6455 close code
SIP_REASONS = {486: "SIP 486 Busy Here", 503: "SIP 503 Service Unavailable"}


class AdmissionMiddleware:
    """Wraps an ASGI app: every WebSocket, and HTTP requests to `call_path`, are calls."""

    def __init__(
        self,
        app: ASGIApp,
        admission: Admission,
        *,
        queue_wait: float = 5.0,
        tier_header: str = "x-voice-tier",
        tenant_header: str = "x-voice-tenant",
        call_path: str = "/calls",
        retry_after: int = 30,
    ) -> None:
        self.app = app
        self.admission = admission
        self.queue_wait = queue_wait  # seconds a queued call may wait (overflow Queue)
        self.tier_header = tier_header.lower().encode()
        self.tenant_header = tenant_header.lower().encode()
        self.call_path = call_path
        self.retry_after = retry_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        is_call = scope["type"] == "websocket" or (
            scope["type"] == "http" and scope.get("path") == self.call_path
        )
        if not is_call:
            await self.app(scope, receive, send)
            return
        decision = await self.admission.admit(
            self._header(scope, self.tier_header),
            tenant=self._header(scope, self.tenant_header),
            wait=self.queue_wait,
        )
        if decision.ticket is None:
            await self._refuse(scope, decision, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            decision.ticket.release()

    @staticmethod
    def _header(scope: Scope, wanted: bytes) -> str | None:
        for name, value in scope.get("headers", []):
            if name.lower() == wanted:
                return bytes(value).decode("latin-1").strip() or None
        return None

    async def _refuse(self, scope: Scope, decision: Decision, send: Send) -> None:
        status = decision.sip_status or 503
        if scope["type"] == "websocket":
            await send(
                {"type": "websocket.close", "code": TRY_AGAIN_LATER, "reason": SIP_REASONS[status]}
            )
            return
        body = f"{SIP_REASONS[status]} ({decision.reason})\n".encode()
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"retry-after", str(self.retry_after).encode()),
                    (b"x-sip-status", str(status).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
