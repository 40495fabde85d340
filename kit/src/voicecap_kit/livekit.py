"""LiveKit Agents (livekit-agents 1.8.x): a worker that admits jobs against its share of the
vertical's limit.

    from livekit.agents import AgentServer, cli
    from voicecap_kit.livekit import LiveKitAdmission

    server = AgentServer(load_threshold=0.7)
    gate = LiveKitAdmission.from_file("/etc/voicecap/limits.json", "healthcare")
    gate.attach(server)                       # load_fnc: live calls / the worker's share

    @server.rtc_session(agent_name="healthcare", on_request=gate.request_fnc)
    async def entrypoint(ctx): ...

- `request_fnc` decides atomically (Admission) before accepting: two job requests in one load
  window cannot both take the last slot (livekit/agents#4884). A refusal is `reject(terminate=
  False)`, so LiveKit offers the job to another worker; a job no worker takes is the server's
  "no worker available" (logged there, not counted by this worker).
- The tier comes from the dispatch's metadata, JSON `{"tier": "vip"}`.
- `load_fnc` reports target_load x live calls / the worker's share. livekit-server offers a job
  only to workers whose load is below its `agents.target_load` (0.7 by default: the job's
  affinity is max(0, target_load - load), pkg/service/agentservice.go), so a worker at its
  share reports exactly target_load and is offered nothing more; the worker's own
  load_threshold is set to the same 0.7.
- A slot is released when its job leaves the server's active jobs (polled every 0.5 s), or when
  the assignment never comes. On SIGTERM, livekit-agents drains: no new job is admitted
  (`server.draining`), the running calls finish.
- The worker's share is the vertical's limits divided by the ready agent pods the operator
  published with them (`pods` in limits.json; `workers=` overrides) and rounded down, so the
  workers together never exceed the vertical's limit.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from livekit.agents import AgentServer, JobRequest

from voicecap_kit.admission import Admission, Observer, Ticket
from voicecap_kit.limits import LimitsFile, VerticalLimits

log = logging.getLogger("voicecap_kit")
TARGET_LOAD = 0.7  # livekit-server's default agents.target_load
ASSIGNMENT_GRACE = 30.0  # seconds an accepted job may take to appear among the active jobs
POLL = 0.5


def tier_from_metadata(request: JobRequest) -> str | None:
    """`{"tier": "vip"}` in the dispatch's metadata; anything else is the general pool."""
    return _metadata(request, "tier")


def tenant_from_metadata(request: JobRequest) -> str | None:
    """`{"tenant": "acme"}` in the dispatch's metadata (its cap in limits.json tenants)."""
    return _metadata(request, "tenant")


def _metadata(request: JobRequest, key: str) -> str | None:
    try:
        value = json.loads(request.job.metadata or "{}").get(key)
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and value else None


class LiveKitAdmission:
    """One agent worker's gate: request_fnc, load_fnc, and the release of ended jobs."""

    def __init__(
        self,
        admission: Admission,
        *,
        tier_of: Callable[[JobRequest], str | None] = tier_from_metadata,
        target_load: float = TARGET_LOAD,
    ) -> None:
        self.admission = admission
        self.tier_of = tier_of
        self.target_load = target_load  # livekit-server's agents.target_load
        self._server: AgentServer | None = None
        self._tickets: dict[str, tuple[Ticket, float, bool]] = {}  # job id -> (ticket, at, seen)
        self._reaper: asyncio.Task[None] | None = None

    @classmethod
    def from_file(
        cls,
        path: str,
        vertical: str,
        *,
        workers: int | Callable[[], int | None] | None = None,
        target_load: float = TARGET_LOAD,
        observer: Observer | None = None,
        on_read: Callable[[VerticalLimits | None, str | None], None] | None = None,
    ) -> LiveKitAdmission:
        """A gate on the share of a mounted limits.json: `workers` is how many workers share
        the vertical (a number, or a callable asked at each decision); None (the default)
        takes the ready pods the operator published with the limit (`pods`), so a worker on
        each agent pod needs no count of its own."""
        source = LimitsFile(path, vertical, on_read=on_read)
        count = workers if callable(workers) else (lambda: workers)

        def share() -> VerticalLimits | None:
            limits = source.current()
            return limits.worker_share(count()) if limits is not None else None

        return cls(Admission(share, observer=observer), target_load=target_load)

    def attach(self, server: AgentServer) -> None:
        """Report this worker's load as live calls over its share."""
        self._server = server
        server.load_fnc = self.load_fnc

    def load_fnc(self) -> float:
        """target_load x live / share: the server offers jobs only below target_load."""
        limits = self.admission.limits()
        if limits is None or limits.max_sessions <= 0:
            return 1.0  # no limit known, or none to take: full
        return min(self.target_load * self.admission.live / limits.max_sessions, 1.0)

    async def request_fnc(self, request: JobRequest) -> None:
        self._start_reaper()
        if self._server is not None and self._server.draining:
            self.admission.close()
        decision = self.admission.try_admit(
            self.tier_of(request), tenant=tenant_from_metadata(request), final=False
        )
        if decision.ticket is None:
            log.info("job %s refused: %s", request.id, decision.reason)
            await request.reject(terminate=False)
            return
        self._tickets[request.id] = (decision.ticket, time.monotonic(), False)
        try:
            await request.accept()
        except Exception:
            self._release(request.id)
            raise

    def _start_reaper(self) -> None:
        if self._reaper is None or self._reaper.done():
            self._reaper = asyncio.get_running_loop().create_task(self._reap())

    async def _reap(self) -> None:
        """Releases the slots of jobs that ended (or were never assigned)."""
        while self._tickets:
            await asyncio.sleep(POLL)
            self.reap_once(self._active_ids(), time.monotonic())

    def reap_once(self, active: set[str], now: float) -> None:
        for job_id, (ticket, accepted_at, seen) in list(self._tickets.items()):
            if job_id in active:
                self._tickets[job_id] = (ticket, accepted_at, True)
            elif seen or now - accepted_at > ASSIGNMENT_GRACE:
                self._release(job_id)

    def _active_ids(self) -> set[str]:
        server: Any = self._server
        if server is None:
            return set()
        return {info.job.id for info in server.active_jobs}

    def _release(self, job_id: str) -> None:
        entry = self._tickets.pop(job_id, None)
        if entry is not None:
            entry[0].release()
