"""A LiveKit agent worker that obeys its share of the vertical's limit (voicecap_kit.livekit).

    LIVEKIT_URL=ws://127.0.0.1:7880 LIVEKIT_API_KEY=devkey LIVEKIT_API_SECRET=secret \
    VOICECAP_LIMITS=/etc/voicecap/limits.json VOICECAP_VERTICAL=healthcare \
    POD_NAMESPACE=voice POD_NAME=healthcare-agent-0 METRICS_PORT=9100 \
        python livekit_agent.py start

The agent joins the room it is dispatched to and stays until the room goes (a real agent would
run its STT/LLM/TTS pipeline here). /metrics on METRICS_PORT serves the metrics contract.
Each worker takes limits // pods, the ready agent pods the operator published with the limit;
VOICECAP_WORKERS overrides that count (workers outside Kubernetes).
"""

from __future__ import annotations

import asyncio
import logging
import os

from livekit.agents import AgentServer, JobContext, JobExecutorType, cli
from prometheus_client import start_http_server
from voicecap_kit.livekit import LiveKitAdmission
from voicecap_kit.metrics import Identity, VoiceMetrics

logging.basicConfig(level=logging.INFO)
vertical = os.environ.get("VOICECAP_VERTICAL", "healthcare")
metrics = VoiceMetrics(Identity.from_environment(vertical))
gate = LiveKitAdmission.from_file(
    os.environ.get("VOICECAP_LIMITS", "/etc/voicecap/limits.json"),
    vertical,
    workers=lambda: (
        int(os.environ["VOICECAP_WORKERS"]) if "VOICECAP_WORKERS" in os.environ else None
    ),
    observer=metrics.observe,
    on_read=metrics.limits_read,
)
server = AgentServer(
    load_threshold=0.7,  # livekit-server's target load: load_fnc reports 0.7 at the share
    job_executor_type=JobExecutorType.THREAD,
    num_idle_processes=0,
    port=int(os.environ.get("HEALTH_PORT", "0")),
)
gate.attach(server)


@server.rtc_session(agent_name=vertical, on_request=gate.request_fnc)
async def entrypoint(ctx: JobContext) -> None:
    ended = asyncio.Event()
    ctx.room.on("disconnected", lambda *_: ended.set())
    await ctx.connect()
    await ended.wait()
    ctx.shutdown("the room went")


if __name__ == "__main__":
    if port := os.environ.get("METRICS_PORT"):
        start_http_server(int(port), registry=metrics.registry)
    cli.run_app(server)
