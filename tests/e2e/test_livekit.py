"""The voice side obeys the published limits: a real LiveKit server (v1.13.5, built from Go
modules) and real livekit-agents 1.8 workers using voicecap_kit, callers as rooms with an agent
dispatch each. What is admitted is counted from LiveKit's own room list (agent participants in
rooms), never from the kit's metrics.

The first four tests run workers by hand against a limits file written by the test. The last
runs the whole loop on the real control plane: a worker per Ready kwok pod of the vertical's
Deployment (support.livekit.AgentPods stands in for the kubelet: no container runs on these
machines), Prometheus scraping the workers, voicecap scaling the Deployment and publishing the
limits the workers read.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e.workloads import NAMESPACE, agent, eventually, vcap_path, voice_capacity
from support.client import Client
from support.control_plane import KubectlError
from support.livekit import AgentPods, AgentWorker, LiveKitServer, callers, write_limits
from support.objects import ROOT
from support.real_stack import RealStack, service_account_kubeconfig
from support.servers import wait_until

SPACING = 1.0  # seconds between dispatches: LiveKit offers jobs one worker status at a time
STATUS_EVERY = 2.5  # livekit-agents tells the server its load this often (UPDATE_STATUS_INTERVAL)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveKitServer]:
    started = LiveKitServer(tmp_path_factory.mktemp("livekit"))
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def limits(tmp_path: Path) -> Path:
    return tmp_path / "limits.json"


def agents(server: LiveKitServer, prefix: str = "") -> int:
    """Agents LiveKit says are in the rooms whose name starts with `prefix`."""
    rooms = callers(server, "agents")["byRoom"]
    return sum(count for room, count in rooms.items() if room.startswith(prefix))


def dispatch_one_by_one(server: LiveKitServer, prefix: str, count: int, tier: str = "") -> None:
    for index in range(count):
        extra = ("--tier", tier) if tier else ()
        callers(server, "dispatch", "--count", "1", "--prefix", f"{prefix}{index}", *extra)
        time.sleep(SPACING)


def settled(server: LiveKitServer, prefix: str, expected: int) -> int:
    """The agents in `prefix` rooms once they stop changing (a joining agent takes ~1 s)."""
    wait_until(lambda: agents(server, prefix) >= expected, timeout=20, what=f"{expected} agents")
    time.sleep(2 * SPACING)
    return agents(server, prefix)


def end(server: LiveKitServer, prefix: str) -> None:
    """Hang up: delete the rooms (again while an agent still shows in one)."""

    def gone() -> bool:
        callers(server, "end", "--prefix", prefix)
        return agents(server, prefix) == 0

    wait_until(gone, timeout=30, interval=1.0, what=f"{prefix} rooms gone")


def freed(worker: AgentWorker, live: int) -> None:
    """The worker saw its calls end (its slots are back) and told LiveKit its new load."""
    wait_until(lambda: worker.metric("voice_active_sessions") == live, timeout=10,
               what=f"{live} calls live on {worker.name}")  # fmt: skip
    time.sleep(STATUS_EVERY + SPACING)  # until the server has heard the lower load


def test_a_worker_admits_its_limit_and_vip_callers_take_their_pool(
    server: LiveKitServer, limits: Path, tmp_path: Path
) -> None:
    """maxSessions 4 with 2 kept for vip: general callers get 2, vip callers the other 2, a
    fifth caller of either kind none; a general call that ends frees a general slot."""
    write_limits(limits, 1, 4, reserve={"vip": 2})
    worker = AgentWorker(server, tmp_path, "healthcare-agent-0", limits)
    try:
        dispatch_one_by_one(server, "general", 3)
        assert settled(server, "general", 2) == 2
        dispatch_one_by_one(server, "vip", 3, tier="vip")
        assert settled(server, "vip", 2) == 2  # the general pool is full; vip's is not
        assert agents(server) == 4
        end(server, "general0")
        freed(worker, 3)
        dispatch_one_by_one(server, "later", 1)
        assert settled(server, "later", 1) == 1
        assert agents(server) == 4
        assert worker.metric("voice_active_sessions") == 4
    finally:
        end(server, "")  # hang up while the agents are alive: they leave their rooms
        worker.stop()


def test_calls_arriving_together_never_exceed_the_limit_across_workers(
    server: LiveKitServer, limits: Path, tmp_path: Path
) -> None:
    """Two workers share maxSessions 6 (3 each); 5 rounds of 10 callers dispatched in the same
    instant (the race of livekit/agents#4884): LiveKit never holds more than 6 agents."""
    write_limits(limits, 1, 6, pods=2)  # each worker's share: 6 // 2
    workers = [AgentWorker(server, tmp_path, f"agent-{i}", limits) for i in range(2)]
    try:
        most = 0
        for round_ in range(5):
            callers(server, "dispatch", "--count", "10", "--prefix", f"burst{round_}")
            time.sleep(4 * SPACING)
            for _ in range(3):
                most = max(most, agents(server))
                time.sleep(SPACING)
            end(server, f"burst{round_}")
        assert 0 < most <= 6
    finally:
        end(server, "")
        for worker in workers:
            worker.stop()


def test_a_lowered_limit_is_obeyed_within_a_second_and_ends_no_call(
    server: LiveKitServer, limits: Path, tmp_path: Path
) -> None:
    """4 calls live; the limit drops to 2 (a new version): the worker applies it within a
    second of the file changing, admits nothing more, and all 4 calls go on until they end."""
    write_limits(limits, 1, 4)
    worker = AgentWorker(server, tmp_path, "healthcare-agent-0", limits)
    try:
        dispatch_one_by_one(server, "live", 4)
        assert settled(server, "live", 4) == 4
        changed = time.monotonic()
        write_limits(limits, 2, 2)
        dispatch_one_by_one(server, "probe", 1)  # a decision reads the changed file
        wait_until(lambda: worker.metric("voicecap_kit_limits_version") == 2, timeout=10,
                   what="version 2 applied")  # fmt: skip
        applied = time.monotonic() - changed
        assert applied < SPACING + 1.0, f"the lowered limit took {applied:.2f}s"
        assert agents(server, "probe") == 0 and agents(server, "live") == 4  # none ended
        end(server, "live0")
        end(server, "live1")
        end(server, "live2")
        freed(worker, 1)
        dispatch_one_by_one(server, "again", 2)  # 1 live: one more fits under 2
        assert settled(server, "again", 1) == 1
    finally:
        end(server, "")  # hang up while the agents are alive: they leave their rooms
        worker.stop()


def test_a_draining_worker_takes_no_call_and_ends_none(
    server: LiveKitServer, limits: Path, tmp_path: Path
) -> None:
    """SIGTERM (a scale-down) on a worker with 2 calls: it takes no new call and its calls go
    on (livekit-agents drains for up to drain_timeout, 30 minutes by default)."""
    write_limits(limits, 1, 4)
    worker = AgentWorker(server, tmp_path, "healthcare-agent-0", limits)
    try:
        dispatch_one_by_one(server, "held", 2)
        assert settled(server, "held", 2) == 2
        worker.terminate()
        time.sleep(2 * SPACING)
        dispatch_one_by_one(server, "new", 1)
        time.sleep(2 * SPACING)
        assert agents(server, "new") == 0 and agents(server, "held") == 2
        assert worker.process.poll() is None  # draining, not gone
    finally:
        end(server, "")  # hang up while the agents are alive: they leave their rooms
        worker.stop()


def published_limit(pods: AgentPods) -> dict[str, Any]:
    """The vertical's entry in the newest limits.json the operator wrote."""
    return dict(json.loads(pods.published[-1])["verticals"]["livekit"]) if pods.published else {}


def test_voicecap_scales_the_workers_and_they_never_admit_past_its_limit(
    server: LiveKitServer, cluster: Client, stack: RealStack, tmp_path: Path
) -> None:
    """The whole loop on the real control plane: one worker per Ready kwok pod of the
    vertical's Deployment, Prometheus scraping the workers' own /metrics, voicecap's HPA (the
    chart's RBAC) scaling the Deployment, limits.json copied to the workers as the kubelet
    would. 2 calls per pod, target 1 per pod, 1-3 pods: callers past the first pod's 2 are
    admitted as pods become Ready; at 3 pods a seventh caller is refused; LiveKit never holds
    more agents than the published limit; when the calls end but one, the scale-down to 1 pod
    ends no call."""
    cluster.ensure_namespace(NAMESPACE)
    cluster.apply(agent("livekit-agent"))
    cluster.apply(voice_capacity(
        "livekit",
        sessions={"perPod": 2, "targetUtilization": 0.5},
        replicas={"min": 1, "max": 3},
        scaleDown={"stabilization": "0s", "protectBusyPods": True},
        admission={"configMapRef": {"name": "livekit-admission"}},
    ))  # fmt: skip
    pods = AgentPods(
        server, stack.plane.kubeconfig, tmp_path, app="livekit-agent", vertical="livekit",
        config_map="livekit-admission", ports=stack.agent_ports,
    )  # fmt: skip
    most = 0

    def within_the_limit() -> int:
        nonlocal most
        live, limit = agents(server), published_limit(pods).get("maxSessions", 0)
        assert live <= limit, f"{live} agents in LiveKit above the published limit {limit}"
        most = max(most, live)
        return live

    try:
        eventually(lambda: len(pods.workers()) == 1 and published_limit(pods).get("pods") == 1,
                   "one worker registered, the limit of one pod published", 120)  # fmt: skip
        for index in range(2):
            callers(server, "dispatch", "--agent", "livekit", "--prefix", f"call{index}")
            time.sleep(SPACING)
        eventually(lambda: within_the_limit() == 2, "2 calls on the first pod")
        # 2 calls on 1 pod at 1 planned per pod: the HPA asks for 2, then the calls that come
        # find the new worker; each new pod raises the limit by its 2 calls
        for index in range(2, 6):
            eventually(lambda: published_limit(pods).get("pods", 0) * 2 > within_the_limit(),
                       "room for another call", 150)  # fmt: skip
            eventually(lambda: len(pods.workers()) == published_limit(pods)["pods"],
                       "a worker on every Ready pod", 90)  # fmt: skip
            time.sleep(STATUS_EVERY + SPACING)  # the new worker's load has reached the server
            callers(server, "dispatch", "--agent", "livekit", "--prefix", f"call{index}")
            calls = index + 1
            eventually(lambda: within_the_limit() == calls, f"call {index} admitted", 30)  # noqa: B023
        assert most == 6 and published_limit(pods)["pods"] == 3  # the ceiling: 3 pods x 2
        callers(server, "dispatch", "--agent", "livekit", "--prefix", "call6")  # one too many
        time.sleep(STATUS_EVERY + 2 * SPACING)
        assert within_the_limit() == 6 and agents(server, "call6") == 0
        for index in range(1, 7):  # all hang up but call0
            end(server, f"call{index}")
        eventually(lambda: published_limit(pods).get("pods") == 1, "scaled down to 1 pod", 180)
        assert agents(server, "call0") == 1, "the scale-down ended a call"
        within_the_limit()
        pods.check()
    finally:
        end(server, "")
        pods.stop()
        cluster.delete(vcap_path("livekit"))
    assert stack.forbidden() == []


def test_the_documented_role_reads_and_watches_only_the_admission_config_map(
    cluster: Client, stack: RealStack, tmp_path: Path
) -> None:
    """docs/instrument.md's Role, applied as written: the agents' ServiceAccount may get, list
    and watch (by name) the admission ConfigMap, and no other ConfigMap."""
    page = (ROOT / "docs" / "instrument.md").read_text()
    role = page.split("kind: Role\n", 1)[0].rsplit("```yaml\n", 1)[1]
    role += "kind: Role\n" + page.split("kind: Role\n", 1)[1].split("```", 1)[0]
    # in a namespace of its own: the suite's operator owns voice/voice-admission
    namespace = "role-check"
    role = role.replace(f"namespace: {NAMESPACE}", f"namespace: {namespace}")
    cluster.ensure_namespace(namespace)
    objects = [
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": "healthcare-agent", "namespace": namespace}},
        *({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace},
           "data": {"limits.json": "{}"}} for name in ("voice-admission", "someone-else")),
    ]  # fmt: skip
    stack.plane.kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(objects))
    stack.plane.kubectl("apply", "-f", "-", stdin=role)
    agent_config = service_account_kubeconfig(
        stack.plane, tmp_path / "agent.kubeconfig", namespace, "healthcare-agent"
    )
    as_agent = {"kubeconfig": agent_config}

    def allowed() -> bool:
        try:
            stack.plane.kubectl("get", "configmap", "voice-admission", "-n", namespace, **as_agent)
        except KubectlError:
            return False
        return True

    eventually(allowed, "the Role bound (the authorizer's cache)", 30)
    listed = stack.plane.kubectl(
        "get", "configmaps", "-n", namespace, "--field-selector=metadata.name=voice-admission",
        "-o", "name", **as_agent,
    )  # fmt: skip
    assert listed.strip() == "configmap/voice-admission"
    watch = (
        f"/api/v1/namespaces/{namespace}/configmaps?watch=true&timeoutSeconds=1"
        "&fieldSelector=metadata.name%3Dvoice-admission"
    )
    watched = stack.plane.kubectl("get", "--raw", watch, **as_agent)  # a real watch, 1 s long
    assert '"name":"voice-admission"' in watched and "someone-else" not in watched
    with pytest.raises(KubectlError, match=r"[Ff]orbidden"):
        stack.plane.kubectl("get", "configmap", "someone-else", "-n", namespace, **as_agent)
