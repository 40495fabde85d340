"""voice_active_sessions{namespace, vertical, pod}, served the way voice pods would serve it.

Stdlib only, so the same file runs in-process for tests, as a process for the local stack, and in
a python:3.11-slim pod on a kind cluster (`make e2e-kind` mounts it from a ConfigMap):

    python session_exporter.py --port 9100
    curl -X PUT --data 120 localhost:9100/sessions/voice/healthcare/pod-a   # set one series
    curl -X DELETE localhost:9100/sessions/voice/healthcare                  # clear one vertical
    curl -X DELETE localhost:9100/sessions                                   # clear every series
"""

from __future__ import annotations

import argparse
import math
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SessionExporter:
    """A /metrics endpoint whose series tests (or the demo's traffic) set over HTTP or directly."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.sessions: dict[tuple[str, str, str], float] = {}
        self._lock = threading.Lock()
        self.port = port or free_port()
        self.url = f"http://{host}:{self.port}"
        self._server = ThreadingHTTPServer((host, self.port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def set(self, namespace: str, vertical: str, pod: str, value: float) -> None:
        with self._lock:
            self.sessions[(namespace, vertical, pod)] = value

    def set_vertical(self, namespace: str, vertical: str, pods: dict[str, float]) -> None:
        """Replace every series of one vertical (pods come and go as it scales)."""
        with self._lock:
            for key in [key for key in self.sessions if key[:2] == (namespace, vertical)]:
                del self.sessions[key]
            for pod, value in pods.items():
                self.sessions[(namespace, vertical, pod)] = value

    def pod_total(self, namespace: str, pod_prefix: str) -> float | None:
        """Sessions on the pods whose names start with `pod_prefix` (a workload's pods)."""
        with self._lock:
            values = [
                value
                for (series_namespace, _, pod), value in self.sessions.items()
                if series_namespace == namespace and pod.startswith(pod_prefix)
            ]
        return sum(values) if values else None

    def clear(self) -> None:
        with self._lock:
            self.sessions.clear()

    def render(self) -> str:
        lines = ["# TYPE voice_active_sessions gauge"]
        with self._lock:
            for (namespace, vertical, pod), value in sorted(self.sessions.items()):
                text = "NaN" if math.isnan(value) else repr(float(value))
                lines.append(
                    f'voice_active_sessions{{namespace="{namespace}",vertical="{vertical}",pod="{pod}"}} {text}'
                )
        return "\n".join(lines) + "\n"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path not in {"/metrics", "/"}:
                    self._answer(404, b"not found\n")
                    return
                self._answer(200, exporter.render().encode(), "text/plain; version=0.0.4")

            def do_PUT(self) -> None:
                parts = self.path.strip("/").split("/")
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    value = float(self.rfile.read(length).decode())
                except ValueError:
                    self._answer(400, b"the body must be a number\n")
                    return
                if len(parts) != 4 or parts[0] != "sessions":
                    self._answer(404, b"PUT /sessions/NAMESPACE/VERTICAL/POD\n")
                    return
                exporter.set(parts[1], parts[2], parts[3], value)
                self._answer(204, b"")

            def do_DELETE(self) -> None:
                parts = self.path.strip("/").split("/")
                if parts == ["sessions"]:
                    exporter.clear()
                elif len(parts) == 3 and parts[0] == "sessions":
                    exporter.set_vertical(parts[1], parts[2], {})
                else:
                    self._answer(404, b"DELETE /sessions[/NAMESPACE/VERTICAL]\n")
                    return
                self._answer(204, b"")

            def _answer(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=9100)
    args = parser.parse_args()
    exporter = SessionExporter(args.host, args.port)
    print(f"serving voice_active_sessions on {exporter.url}/metrics", flush=True)  # noqa: T201
    threading.Event().wait()


if __name__ == "__main__":
    main()
