"""The voice side obeys the published limits: a real LiveKit server (v1.13.5, built from Go
modules) and real livekit-agents 1.8 workers using voicecap_kit, callers as rooms with an agent
dispatch each. What is admitted is counted from LiveKit's own room list (agent participants in
rooms), never from the kit's metrics.

Each worker stands in for one Ready pod of the vertical's Deployment (a process here: no
container runs on these machines); the limits file stands in for the mounted admission
ConfigMap, swapped as the kubelet swaps it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.livekit import AgentWorker, LiveKitServer, callers, write_limits
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
    worker = AgentWorker(server, tmp_path, "healthcare-agent-0", limits, workers=1)
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
    write_limits(limits, 1, 6)
    workers = [AgentWorker(server, tmp_path, f"agent-{i}", limits, workers=2) for i in range(2)]
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
    worker = AgentWorker(server, tmp_path, "healthcare-agent-0", limits, workers=1)
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
    worker = AgentWorker(server, tmp_path, "healthcare-agent-0", limits, workers=1)
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
