"""Real servers on 127.0.0.1 for integration tests: every wait is bounded, every process stopped by PID."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

from support.session_exporter import SessionExporter, free_port

TESTS = Path(__file__).resolve().parents[1]

__all__ = ["SessionExporter", "free_port"]  # re-exported: tests import them from here

T = TypeVar("T")


def wait_until(
    check: Callable[[], T], *, timeout: float, interval: float = 0.2, what: str = "condition"
) -> T:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise TimeoutError(f"{what} not reached within {timeout}s (last: {last!r})")


def stop_process(process: subprocess.Popen[bytes], *, grace: float, kill: bool = False) -> None:
    """SIGTERM (or SIGKILL), wait up to `grace` seconds, then SIGKILL; always reaped."""
    if process.poll() is not None:
        return
    if kill:
        process.kill()
    else:
        process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


class Stops:
    """What a stack started, stopped newest first; every stop runs, even after one fails."""

    def __init__(self) -> None:
        self._stops: list[Callable[[], None]] = []

    def add(self, stop: Callable[[], None]) -> None:
        self._stops.append(stop)

    def close(self) -> None:
        while self._stops:
            stop = self._stops.pop()
            with contextlib.suppress(Exception):
                stop()


def alive(pid: int) -> bool:
    """Whether a process with this PID still exists (a stopped server's must not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def answers_healthz(port: int) -> bool:
    """An operator's /healthz on 127.0.0.1 answers 200 (a refused connection is not yet)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


class ReadyServer:
    """A server binary started by PID, its output in a log: ready when `ready_path` answers 200
    (Prometheus-project binaries: /-/ready)."""

    url: str
    process: subprocess.Popen[bytes]
    ready_path = "/-/ready"

    def _launch(self, command: list[str], log_path: Path, what: str) -> None:
        self.what = what
        self.log = log_path.open("w")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT)
        try:
            wait_until(self._ready, timeout=30, what=f"{what} ready")
        except BaseException:
            self.stop()
            raise

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.what} exited with {self.process.returncode}")
        try:
            with urllib.request.urlopen(f"{self.url}{self.ready_path}", timeout=1) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def stop(self) -> None:
        stop_process(self.process, grace=10)
        self.log.close()


class Prometheus(ReadyServer):
    """The Debian package's Prometheus, scraping the given targets every `scrape_interval`."""

    def __init__(
        self,
        workdir: Path,
        targets: list[str],
        scrape_interval: str = "1s",
        port: int | None = None,  # reuse a port to restart "the same" Prometheus
        rule_files: list[Path] | None = None,
        alertmanager: str | None = None,  # host:port
        history: Path | list[Path] | None = None,  # OpenMetrics backfilled (promtool) first
        web_config: Path | None = None,  # --web.config.file: TLS and basic auth on its API
    ) -> None:
        binary = shutil.which("prometheus")
        if binary is None:
            raise RuntimeError("prometheus is not installed: `make test` installs it (apt-get)")
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = workdir / "prometheus.yml"
        target_list = ", ".join(f"'{target}'" for target in targets)
        text = (
            f"global: {{scrape_interval: {scrape_interval}, evaluation_interval: {scrape_interval}}}\n"
            f"scrape_configs:\n  - job_name: voice\n    static_configs: [{{targets: [{target_list}]}}]\n"
        )
        if rule_files:
            quoted = ", ".join(f"'{path}'" for path in rule_files)
            text += f"rule_files: [{quoted}]\n"
        if alertmanager:
            text += (
                "alerting:\n  alertmanagers:\n"
                f"    - static_configs: [{{targets: ['{alertmanager}']}}]\n"
            )
        config.write_text(text)
        for item in [history] if isinstance(history, Path) else history or []:
            backfill(item, workdir / "data")
        self._launch(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--web.enable-lifecycle",
                # Backfilled weeks are far older than an hour; retention counts from the newest.
                f"--storage.tsdb.retention.time={'3650d' if history else '1h'}",
                *([f"--web.config.file={web_config}"] if web_config else []),
            ],
            workdir / "prometheus.log",
            "Prometheus",
        )


def scraped(prometheus_url: str, namespace: str, vertical: str) -> bool:
    """Whether Prometheus has scraped the vertical's sessions yet (tests that need the operator
    to see calls from its first cycle wait for this before starting it)."""
    query = urllib.parse.urlencode(
        {"query": f'voice_active_sessions{{namespace="{namespace}", vertical="{vertical}"}}'}
    )
    try:
        with urllib.request.urlopen(f"{prometheus_url}/api/v1/query?{query}", timeout=5) as answer:
            return bool(json.load(answer)["data"]["result"])
    except OSError:
        return False


def backfill(openmetrics: Path, data_dir: Path) -> None:
    """History into a TSDB directory, as users backfill: promtool tsdb create-blocks-from."""
    promtool = shutil.which("promtool")
    if promtool is None:
        raise RuntimeError("promtool is not installed: `make test` installs it (apt-get)")
    data_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        # A week per block: the default (2h) makes ~1,300 blocks of 15 weeks and takes minutes.
        [
            promtool,
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--max-block-duration=168h",
            str(openmetrics),
            str(data_dir),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )


class WebhookReceiver:
    """Records what Alertmanager posts to a webhook receiver (one JSON document per POST)."""

    def __init__(self) -> None:
        self.posts: list[dict[str, object]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                document = json.loads(self.rfile.read(length) or b"{}")
                with receiver._lock:
                    receiver.posts.append(document)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/alerts"
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def alerts(self, status: str | None = None) -> list[dict[str, Any]]:
        """Every alert in every notification so far, optionally only `firing` or `resolved`."""
        with self._lock:
            posts = list(self.posts)
        found = [alert for post in posts for alert in post.get("alerts", [])]  # type: ignore[attr-defined]
        return [a for a in found if status is None or a.get("status") == status]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class Alertmanager(ReadyServer):
    """The Debian package's Alertmanager, routing everything to one webhook, quickly."""

    def __init__(self, workdir: Path, webhook_url: str) -> None:
        binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
        if binary is None:
            raise RuntimeError(
                "alertmanager is not installed: `make test` installs prometheus-alertmanager"
            )
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.address}"
        config = workdir / "alertmanager.yml"
        config.write_text(
            "route:\n"
            "  receiver: test\n"
            "  group_by: [alertname, namespace, vertical]\n"
            "  group_wait: 1s\n"
            "  group_interval: 1s\n"
            "  repeat_interval: 1h\n"
            "receivers:\n"
            "  - name: test\n"
            f"    webhook_configs: [{{url: '{webhook_url}', send_resolved: true}}]\n"
        )
        (workdir / "alertmanager-data").mkdir(exist_ok=True)
        self._launch(
            [
                binary,
                f"--config.file={config}",
                f"--storage.path={workdir / 'alertmanager-data'}",
                f"--web.listen-address={self.address}",
                "--cluster.listen-address=",  # no gossip
            ],
            workdir / "alertmanager.log",
            "Alertmanager",
        )


@dataclass(frozen=True)
class Request:
    """What a scripted server was asked."""

    method: str
    path: str  # with its query string
    body: bytes


Reply = tuple[int, dict[str, str], bytes]  # status, headers, body


@contextmanager
def scripted(answer: Callable[[Request], Reply]) -> Iterator[tuple[str, list[Request]]]:
    """An HTTP server on 127.0.0.1 that answers each request as `answer` says, and records the
    requests: a Prometheus or an API server whose every answer a test chooses."""
    asked: list[Request] = []

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(self.command, self.path, self.rfile.read(length) if length else b"")
            asked.append(request)
            status, headers, body = answer(request)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PATCH = do_DELETE = _reply  # noqa: N815 (http.server's names)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def answering(status: int, body: bytes = b"") -> Iterator[str]:
    """An HTTP server that answers every request with `status`: a broken Prometheus."""
    with scripted(lambda request: (status, {}, body)) as (url, _):
        yield url


@contextmanager
def silent_listener() -> Iterator[str]:
    """Accepts TCP connections and never answers: a Prometheus that hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


class OperatorProcess:
    """`voicecap run` as a real process against an emulated cluster; stopped by PID."""

    def __init__(
        self,
        workdir: Path,
        *,
        kubeconfig: Path,
        prometheus_url: str,
        interval: str = "1s",
        extra: list[str] | None = None,
        name: str = "operator",
        namespaces: list[str] | None = None,  # None: --all-namespaces
        profile: Path | None = None,  # a pyinstrument report, written on SIGUSR1
    ) -> None:
        binary = [str(Path(sys.executable).with_name("voicecap"))]
        if profile is not None:  # the bench's --profile (support/profiled.py; SIGUSR1 writes)
            binary = [sys.executable, "-m", "support.profiled", str(profile)]
        self.metrics_port = free_port()
        self.health_port = free_port()
        self.log_path = workdir / f"{name}.log"
        self._log = self.log_path.open("w")
        env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
        if profile is not None:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), env.get("PYTHONPATH")]))
        env.pop("KUBERNETES_SERVICE_HOST", None)
        self.process = subprocess.Popen(
            [
                *binary,
                "run",
                *([f"--namespace={n}" for n in namespaces] if namespaces else ["--all-namespaces"]),
                f"--prometheus-url={prometheus_url}",
                f"--interval={interval}",
                f"--metrics-port={self.metrics_port}",
                f"--health-port={self.health_port}",
                "--bind-address=127.0.0.1",
                *(extra or []),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            wait_until(self._healthy, timeout=30, what="operator healthy")
        except BaseException:
            self.stop()
            raise

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"voicecap run exited with {self.process.returncode}:\n{self.log()}")
        return answers_healthz(self.health_port)

    def write_profile(self, profile: Path, timeout: float = 60) -> None:
        """Ask a profiled operator (profile=...) for its report so far; wait until written."""
        profile.unlink(missing_ok=True)
        self.process.send_signal(signal.SIGUSR1)
        wait_until(lambda: profile.exists() and profile.stat().st_size > 0, timeout=timeout,
                   interval=0.5, what=f"profile {profile.name}")  # fmt: skip

    def metrics(self, timeout: float = 60) -> str:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=timeout
        ) as response:
            return str(response.read().decode())

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text()

    def stop(self, *, kill: bool = False) -> None:
        stop_process(self.process, grace=20, kill=kill)
        self._log.close()


class SecuredPrometheus(Prometheus):
    """Prometheus as many in-cluster set-ups serve it: TLS only, a client certificate required
    (signed by `authority`), and basic auth, all by its own --web.config.file."""

    def __init__(
        self,
        workdir: Path,
        targets: list[str],
        *,
        authority: Any,  # support.pki.Authority
        username: str,
        password: str,
    ) -> None:
        import bcrypt  # noqa: PLC0415 (only the tests that secure a Prometheus need it)

        self.server = authority.issue("prometheus", common_name="prometheus", hosts=("127.0.0.1",))
        self.client = authority.issue("voicecap-client", common_name="voicecap")
        self.ca = authority.pair.cert
        self.username, self.password = username, password
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
        config = workdir / "web.yml"
        config.write_text(
            "tls_server_config:\n"
            f"  cert_file: {self.server.cert}\n"
            f"  key_file: {self.server.key}\n"
            "  client_auth_type: RequireAndVerifyClientCert\n"
            f"  client_ca_file: {self.ca}\n"
            f"basic_auth_users:\n  {username}: '{hashed}'\n"
        )
        super().__init__(workdir, targets, web_config=config)
        self.url = f"https://127.0.0.1:{self.port}"

    def _ready(self) -> bool:
        import base64  # noqa: PLC0415
        import ssl  # noqa: PLC0415

        if self.process.poll() is not None:
            raise RuntimeError(f"{self.what} exited with {self.process.returncode}")
        context = ssl.create_default_context(cafile=str(self.ca))
        context.load_cert_chain(str(self.client.cert), str(self.client.key))
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        request = urllib.request.Request(
            f"https://127.0.0.1:{self.port}/-/ready", headers={"Authorization": f"Basic {token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=1, context=context) as response:
                return bool(response.status == 200)
        except OSError:
            return False


def tool(name: str) -> Path:
    """A Go test tool built by tests/tools/build.sh (cached: instant after the first build)."""
    built = subprocess.run(
        ["bash", str(Path(__file__).resolve().parents[1] / "tools" / "build.sh")],
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
        env={**os.environ, "PATH": os.environ.get("PATH", "") + os.pathsep + "/usr/local/go/bin"},
    )
    return Path(built.stdout.strip()) / name


class LabelProxy:
    """prom-label-proxy in front of a Prometheus: every query must carry the tenant header,
    and only sees series whose `label` equals it (as a Mimir or Cortex gateway scopes tenants)."""

    def __init__(self, workdir: Path, upstream: str, *, header: str, label: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (workdir / "prom-label-proxy.log").open("w")
        self.process = subprocess.Popen(
            [
                str(tool("prom-label-proxy")),
                f"-upstream={upstream}",
                f"-insecure-listen-address=127.0.0.1:{self.port}",
                f"-header-name={header}",
                f"-label={label}",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(self._listening, timeout=30, what="prom-label-proxy listening")
        except BaseException:
            self.stop()
            raise

    def _listening(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"prom-label-proxy exited with {self.process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 1):
            return True
        return False

    def stop(self) -> None:
        stop_process(self.process, grace=10)
        self.log.close()
