"""A real LiveKit server (livekit-server v1.13.5, built from Go modules by tests/tools/build.sh)
and real LiveKit agent workers (livekit-agents 1.8 in .venv-kit, running
kit/examples/livekit_agent.py with voicecap_kit), each started and stopped by PID on 127.0.0.1.

Callers are kit/examples/callers.py: rooms with an explicit agent dispatch each, and LiveKit's
own count of the agents in them (its room service), not the kit's.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import urllib.request
from pathlib import Path
from typing import Any

from support.client import Client
from support.paths import path_of
from support.reads import ready_pods
from support.servers import free_port, stop_process, tool, wait_until

ROOT = Path(__file__).resolve().parents[2]
KIT_PYTHON = ROOT / ".venv-kit" / "bin" / "python"
AGENT = ROOT / "kit" / "examples" / "livekit_agent.py"
CALLERS = ROOT / "kit" / "examples" / "callers.py"
KEY, SECRET = "voicecap", "voicecap-e2e-secret-0123456789abcdef0123"


class LiveKitServer:
    """livekit-server on loopback ports of its own (HTTP, RTC over TCP and one UDP port)."""

    def __init__(self, workdir: Path) -> None:
        if not KIT_PYTHON.exists():
            raise RuntimeError(f"{KIT_PYTHON} is missing: `make kit-test` creates it")
        self.port = free_port()
        self.url = f"ws://127.0.0.1:{self.port}"
        config = workdir / "livekit.yaml"
        config.write_text(
            f"port: {self.port}\nbind_addresses: [127.0.0.1]\n"
            f"rtc:\n  tcp_port: {free_port()}\n  udp_port: {free_port()}\n"
            "  use_external_ip: false\n  node_ip: 127.0.0.1\n"
            f"keys:\n  {KEY}: {SECRET}\n"
        )
        self.log = (workdir / "livekit-server.log").open("w")
        self.process = subprocess.Popen(
            [str(tool("livekit-server")), "--config", str(config)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(self._ready, timeout=30, what="livekit-server answering")
        except BaseException:
            self.stop()
            raise

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"livekit-server exited with {self.process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=1) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "LIVEKIT_URL": self.url,
            "LIVEKIT_API_KEY": KEY,
            "LIVEKIT_API_SECRET": SECRET,
            "VOICECAP_VERTICAL": "healthcare",
        }

    def stop(self) -> None:
        stop_process(self.process, grace=10)
        self.log.close()


class AgentWorker:
    """One agent worker process, as a Ready pod of the vertical's Deployment would run it."""

    def __init__(
        self,
        server: LiveKitServer,
        workdir: Path,
        name: str,
        limits: Path,
        *,
        vertical: str = "healthcare",
        metrics_port: int | None = None,
        wait: bool = True,
    ) -> None:
        """`wait`: until LiveKit registered it (else `registered()` tells, for a harness that
        starts several at once). Its share of the limit is limits // the `pods` published."""
        self.name = name
        self.metrics_port = metrics_port or free_port()
        self.log_path = workdir / f"{name}.log"
        self.log = self.log_path.open("w")
        env = server.env() | {
            "VOICECAP_LIMITS": str(limits),
            "VOICECAP_VERTICAL": vertical,
            "POD_NAMESPACE": "voice",
            "POD_NAME": name,
            "METRICS_PORT": str(self.metrics_port),
        }
        self.process = subprocess.Popen(
            [str(KIT_PYTHON), str(AGENT), "start"],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its job threads and children are stopped with it
        )
        if not wait:
            return
        try:
            wait_until(self.registered, timeout=60, what=f"{name} registered")
        except BaseException:
            self.stop()
            raise

    def registered(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited: {self.log_path.read_text()[-2000:]}")
        return "registered worker" in self.log_path.read_text()

    def metric(self, name: str) -> float | None:
        """One series of the worker's /metrics (None: not exported)."""
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=2) as answer:
            for line in answer.read().decode().splitlines():
                if line.startswith(name + "{") or line.startswith(name + " "):
                    return float(line.rsplit(" ", 1)[1])
        return None

    def terminate(self) -> None:
        """SIGTERM, as the kubelet does on a scale-down: livekit-agents drains."""
        os.kill(self.process.pid, signal.SIGTERM)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        stop_process(self.process, grace=5, kill=True)
        self.log.close()


def callers(server: LiveKitServer, *args: str) -> dict[str, Any]:
    """kit/examples/callers.py against `server`: its one line of JSON."""
    done = subprocess.run(
        [str(KIT_PYTHON), str(CALLERS), *args],
        env=server.env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"callers.py {' '.join(args)}: {done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def write_limits(path: Path, version: int, max_sessions: int, **entry: Any) -> None:
    """limits.json as the operator writes it, swapped in as the kubelet swaps a ConfigMap."""
    body = {"version": version, "verticals": {"healthcare": {
        "maxSessions": max_sessions, "reason": "Pods", "overflow": "Reject", **entry}}}  # fmt: skip
    swap_in(path, json.dumps(body))


def swap_in(path: Path, text: str) -> None:
    fresh = path.with_suffix(".new")
    fresh.write_text(text)
    os.replace(fresh, path)


class AgentPods:
    """Stands in for the kubelet of the agent pods (no container runs on these machines): every
    half second, one AgentWorker per Ready pod of the Deployment's app label, named after the
    pod and exporting /metrics on one of `ports` (the ports Prometheus scrapes); a pod that is
    deleted or no longer Ready gets SIGTERM (its worker drains, its calls go on: the pod's
    terminationGracePeriodSeconds covers a call); the admission ConfigMap's limits.json copied
    into the file the workers read, as the kubelet syncs a ConfigMap volume."""

    def __init__(
        self,
        server: LiveKitServer,
        kubeconfig: Path,
        workdir: Path,
        *,
        app: str,
        vertical: str,
        config_map: str,
        ports: list[int],
    ) -> None:
        self.server, self.workdir = server, workdir
        self.app, self.vertical, self.config_map = app, vertical, config_map
        self.limits = workdir / "limits.json"
        self.free_ports = list(ports)
        self.running: dict[str, AgentWorker] = {}
        self.draining: list[AgentWorker] = []
        self.published: list[str] = []  # every limits.json copied, in order
        self.errors: list[str] = []
        self._cluster = Client.from_kubeconfig(kubeconfig, real=True)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="agent-pods", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            try:
                self.tick()
            except Exception as error:
                self.errors.append(repr(error))

    def tick(self) -> None:
        self._copy_limits()
        ready = set(ready_pods(self._cluster, "voice", self.app))
        with self._lock:
            for name in sorted(ready - set(self.running)):
                if not self.free_ports or not self.limits.exists():
                    break
                self.running[name] = AgentWorker(
                    self.server, self.workdir, name, self.limits, vertical=self.vertical,
                    metrics_port=self.free_ports.pop(0), wait=False,
                )  # fmt: skip
            for name in sorted(set(self.running) - ready):
                worker = self.running.pop(name)
                worker.terminate()
                self.draining.append(worker)

    def _copy_limits(self) -> None:
        found = self._cluster.get(path_of("v1", "configmaps", "voice", self.config_map))
        text = ((found or {}).get("data") or {}).get("limits.json")
        if text and (not self.published or self.published[-1] != text):
            swap_in(self.limits, text)
            self.published.append(text)

    def workers(self) -> list[AgentWorker]:
        """The registered workers of Ready pods now."""
        with self._lock:
            return [worker for worker in self.running.values() if worker.registered()]

    def check(self) -> None:
        assert not self.errors, self.errors

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        with self._lock:
            for worker in [*self.running.values(), *self.draining]:
                worker.stop()
            self.running.clear()
            self.draining.clear()
        self._cluster.close()
