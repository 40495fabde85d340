"""livekit.py against livekit-agents' own JobRequest: a job is accepted only with a slot, a
refusal lets LiveKit offer it to another worker, the slot comes back when the job ends."""

from __future__ import annotations

import json
from typing import Any

import pytest
from livekit.agents import JobRequest
from livekit.protocol import agent
from voicecap_kit.admission import Admission
from voicecap_kit.limits import VerticalLimits
from voicecap_kit.livekit import ASSIGNMENT_GRACE, LiveKitAdmission, tier_from_metadata


def request(job_id: str, answers: list[tuple[str, Any]], metadata: str = "") -> JobRequest:
    async def on_reject(terminate: bool) -> None:
        answers.append(("reject", terminate))

    async def on_accept(arguments: Any) -> None:
        answers.append(("accept", arguments.identity))

    job = agent.Job(id=job_id, metadata=metadata)
    return JobRequest(job=job, on_reject=on_reject, on_accept=on_accept)


def test_the_tier_is_read_from_the_dispatch_metadata() -> None:
    answers: list[tuple[str, Any]] = []
    assert tier_from_metadata(request("j", answers, json.dumps({"tier": "vip"}))) == "vip"
    for metadata in ("", "not json", "[]", json.dumps({"tier": 3})):
        assert tier_from_metadata(request("j", answers, metadata)) is None


@pytest.mark.asyncio
async def test_jobs_past_the_workers_share_are_refused_for_another_worker() -> None:
    gate = LiveKitAdmission(Admission(lambda: VerticalLimits(2)))
    answers: list[tuple[str, Any]] = []
    for job_id in ("a", "b", "c"):
        await gate.request_fnc(request(job_id, answers))
    assert answers == [("accept", "agent-a"), ("accept", "agent-b"), ("reject", False)]
    assert gate.load_fnc() == 0.7  # livekit-server's target load: offered nothing more

    gate.reap_once({"a", "b"}, now=1.0)  # both running
    gate.reap_once({"b"}, now=2.0)  # a ended
    assert gate.admission.live == 1 and gate.load_fnc() == 0.35
    await gate.request_fnc(request("d", answers))
    assert answers[-1] == ("accept", "agent-d")
    gate.reap_once({"b"}, now=3.0)  # d not yet assigned: kept within the grace
    assert gate.admission.live == 2
    gate.reap_once({"b"}, now=3.0 + ASSIGNMENT_GRACE + 1e9)  # never assigned: released
    assert gate.admission.live == 1


def test_a_worker_without_limits_reports_itself_full() -> None:
    assert LiveKitAdmission(Admission(lambda: None)).load_fnc() == 1.0
    assert LiveKitAdmission(Admission(lambda: VerticalLimits(0))).load_fnc() == 1.0
