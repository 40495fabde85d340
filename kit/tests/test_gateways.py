"""examples/gateways.py and examples/kamailio.cfg: limits.json applied to gateways that are not
Python. Kamailio is run for real (Debian's kamailio 5.6, `make system-deps`) on 127.0.0.1: INVITEs
past the limit get 486 Busy Here, and a raised limit admits the next one."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from voicecap_kit.limits import LimitsFile, VerticalLimits

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_gateways() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gateways", EXAMPLES / "gateways.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gateways = load_gateways()


def write(path: Path, version: int, max_sessions: int, pods: int | None = None) -> None:
    entry: dict[str, object] = {"maxSessions": max_sessions, "reason": "Pods"}
    if pods is not None:
        entry["pods"] = pods
    fresh = path.with_suffix(".new")
    fresh.write_text(json.dumps({"version": version, "verticals": {"healthcare": entry}}))
    os.replace(fresh, path)


def test_the_commands_carry_the_gateways_share() -> None:
    limits = VerticalLimits(1600, pods=4).worker_share()  # four switches: 400 each
    assert gateways.freeswitch_command(limits) == ["fs_cli", "-x", "fsctl max_sessions 400"]
    assert gateways.kamailio_command(limits, "unix:/run/k")[-4:] == [
        "pv.shvSet", "voicecap_max_sessions", "int", "400",
    ]  # fmt: skip


def test_the_envoy_layer_is_swapped_in_whole_per_version(tmp_path: Path) -> None:
    root = tmp_path / "runtime"
    root.mkdir()
    gateways.envoy_layer(VerticalLimits(800, version=3), root, "agents")
    gateways.envoy_layer(VerticalLimits(600, version=4), root, "agents")
    key = root / "current" / "circuit_breakers" / "agents" / "default" / "max_requests"
    assert key.read_text() == "600\n"
    assert os.readlink(root / "current") == "v4"


def test_follow_applies_each_version_once_and_nothing_without_limits(tmp_path: Path) -> None:
    path = tmp_path / "limits.json"
    applied: list[int] = []
    source = LimitsFile(path, "healthcare", interval=0)
    assert gateways.follow(source, lambda got: applied.append(got.max_sessions), watch=False) == 1
    write(path, 1, 40, pods=2)
    assert gateways.follow(source, lambda got: applied.append(got.max_sessions), watch=False) == 0
    assert applied == [20]  # this gateway's share: 40 // 2


def invite(port: int) -> str:
    """One INVITE from a fresh UDP socket; the first line of the first answer."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(5)
        me, call = sock.getsockname()[1], uuid.uuid4().hex
        message = (
            f"INVITE sip:agent@127.0.0.1:9 SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK{call}\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:caller@127.0.0.1>;tag={call[:8]}\r\n"
            f"To: <sip:agent@127.0.0.1>\r\nCall-ID: {call}\r\nCSeq: 1 INVITE\r\n"
            f"Contact: <sip:caller@127.0.0.1:{me}>\r\nX-Voice-Vertical: healthcare\r\n"
            "Content-Length: 0\r\n\r\n"
        )
        sock.sendto(message.encode(), ("127.0.0.1", port))
        return sock.recv(65535).decode().split("\r\n")[0]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def kamailio(tmp_path: Path) -> Iterator[tuple[int, str]]:
    binary = shutil.which("kamailio") or "/usr/sbin/kamailio"
    if not Path(binary).exists() or not shutil.which("kamcmd"):
        if os.environ.get("CI"):
            pytest.fail("kamailio is not installed: `make system-deps` installs it")
        pytest.skip("kamailio is not installed (`make system-deps` installs it)")
    port, run = free_udp_port(), tmp_path / "run"
    run.mkdir()
    log = (tmp_path / "kamailio.log").open("w")
    process = subprocess.Popen(
        [binary, "-DD", "-E", "-f", str(EXAMPLES / "kamailio.cfg"), "-l",
         f"udp:127.0.0.1:{port}", "-n", "1", "-Y", str(run), "-w", str(run)],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    control = run / "kamailio_ctl"
    try:
        deadline = time.monotonic() + 20
        while not control.exists():
            assert process.poll() is None, (tmp_path / "kamailio.log").read_text()
            assert time.monotonic() < deadline, "kamailio's control socket never appeared"
            time.sleep(0.1)
        yield port, f"unix:{control}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def test_kamailio_answers_busy_past_the_limit_it_was_given(
    kamailio: tuple[int, str], tmp_path: Path
) -> None:
    port, control = kamailio
    assert invite(port).startswith("SIP/2.0 486"), "no limit yet: nothing is admitted"
    path = tmp_path / "limits.json"
    write(path, 1, 2)
    assert gateways.main(["kamailio", str(path), "healthcare", "--socket", control]) == 0
    answers = [invite(port) for _ in range(3)]  # unanswered, each holds its dialog 5 s (fr_timer)
    assert [a.split()[1] for a in answers] == ["100", "100", "486"], answers
    write(path, 2, 3)  # a raised limit: the next call is admitted
    assert gateways.main(["kamailio", str(path), "healthcare", "--socket", control]) == 0
    assert invite(port).split()[1] == "100"
    assert invite(port).split()[1] == "486"
