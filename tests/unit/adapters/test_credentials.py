"""voicecap run's credentials: an unusable kubeconfig or a missing CRD is one line; an API
server that does not answer is waited for with a bounded back-off, a line per attempt."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import kubernetes.client
import pytest

from voicecap.adapters.credentials import (
    CredentialsError,
    Where,
    connection_info,
    load,
    wait_for_api,
)

KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- {name: a, cluster: {server: "http://127.0.0.1:6443"}}
- {name: b, cluster: {server: "http://127.0.0.1:7443"}}
users: [{name: u, user: {token: secret-token}}]
contexts:
- {name: first, context: {cluster: a, user: u}}
- {name: second, context: {cluster: b, user: u}}
current-context: first
"""


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)
    return path


def test_the_context_chooses_the_server_and_kopf_gets_the_same_credentials(
    kubeconfig: Path,
) -> None:
    assert load(Where(str(kubeconfig))).host == "http://127.0.0.1:6443"
    second = load(Where(str(kubeconfig), "second"))
    assert second.host == "http://127.0.0.1:7443"
    info = connection_info(second)
    assert (info.server, info.scheme, info.token) == (
        "http://127.0.0.1:7443",
        "Bearer",
        "secret-token",
    )


@pytest.mark.parametrize(
    ("text", "context", "named"),
    [
        (None, None, "no such file"),
        ("not: [yaml", None, "kubeconfig"),
        ("apiVersion: v1\nkind: Config\nclusters: []\n", None, "current-context"),
        (KUBECONFIG, "third", "third"),
    ],
    ids=["missing", "not-yaml", "no-context", "unknown-context"],
)
def test_an_unusable_kubeconfig_is_one_line_naming_it(
    tmp_path: Path, text: str | None, context: str | None, named: str
) -> None:
    path = tmp_path / "kubeconfig"
    if text is not None:
        path.write_text(text)
    with pytest.raises(CredentialsError) as raised:
        load(Where(str(path), context))
    message = str(raised.value)
    assert named in message and str(path) in message and "\n" not in message


class Discovery(BaseHTTPRequestHandler):
    """/apis/voicecap.io/v1alpha1 answering with `status` and the resources in `served`."""

    status = 200
    served: tuple[str, ...] = ("voicecapacities", "tokenbudgets")

    def do_GET(self) -> None:
        body = json.dumps({
            "kind": "APIResourceList", "groupVersion": "voicecap.io/v1alpha1",
            "resources": [{"name": name, "kind": name, "namespaced": True, "singularName": "",
                           "verbs": ["get"]} for name in self.served],
        }).encode()  # fmt: skip
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api() -> Iterator[tuple[ThreadingHTTPServer, kubernetes.client.Configuration]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Discovery)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    configuration = kubernetes.client.Configuration()
    configuration.host = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield server, configuration
    finally:
        server.shutdown()
        server.server_close()
        Discovery.status, Discovery.served = 200, ("voicecapacities", "tokenbudgets")


def test_a_served_api_with_both_crds_passes(
    api: tuple[object, kubernetes.client.Configuration],
) -> None:
    wait_for_api(Where(), api[1], sleep=pytest.fail)


@pytest.mark.parametrize(
    ("status", "served", "message"),
    [
        (404, (), "CRD voicecapacities.voicecap.io is not installed"),
        (200, ("voicecapacities",), "CRD tokenbudgets.voicecap.io is not installed"),
        (401, (), "refused the credentials"),
    ],
)
def test_a_missing_crd_or_refused_credentials_is_one_line(
    api: tuple[object, kubernetes.client.Configuration],
    status: int,
    served: tuple[str, ...],
    message: str,
) -> None:
    Discovery.status, Discovery.served = status, served
    with pytest.raises(CredentialsError, match=message):
        wait_for_api(Where(), api[1], sleep=pytest.fail)


def test_an_unreachable_api_server_is_retried_with_a_bounded_backoff(
    caplog: pytest.LogCaptureFixture,
) -> None:
    configuration = kubernetes.client.Configuration()
    configuration.host = "http://127.0.0.1:1"  # nothing listens on port 1
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 8:
            raise KeyboardInterrupt  # the test's way out of a wait that never ends by itself

    with pytest.raises(KeyboardInterrupt):
        wait_for_api(Where(), configuration, sleep=sleep)
    assert waits == [1, 2, 5, 10, 20, 30, 30, 30]
    lines = [r.getMessage() for r in caplog.records if "cannot reach" in r.getMessage()]
    assert len(lines) == 8 and "http://127.0.0.1:1" in lines[0] and "retrying in 1s" in lines[0]


def test_run_with_an_unusable_kubeconfig_exits_2_with_one_line(tmp_path: Path) -> None:
    """A process of its own: `run` configures Kopf's logging, which must not leak into tests."""
    missing = tmp_path / "nowhere"
    done = subprocess.run(
        [sys.executable, "-m", "voicecap.cli", "run", "--kubeconfig", str(missing),
         "--prometheus-url", "http://127.0.0.1:9"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and f"kubeconfig {missing}: no such file" in done.stderr
