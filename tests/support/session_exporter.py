"""The series a voice stack exports, served the way voice pods would serve them (docs/api.md
"Metrics the operator reads"): voice_active_sessions{namespace, vertical, pod}; per pod a time to
first audio histogram, voice_ttfb_seconds, observed at the latency a test sets (one answer a
second); per vertical the counters voice_calls_rejected_total, voice_model_tokens_total,
voice_model_rate_limited_total and voice_call_duration_seconds_{sum,count}.

Stdlib only, so the same file runs in-process for tests, as a process for the local stack, and in
a python:3.11-slim pod on a kind cluster (`make e2e-kind` mounts it from a ConfigMap):

    python session_exporter.py --port 9100
    curl -X PUT --data 120 localhost:9100/sessions/voice/healthcare/pod-a   # set one series
    curl -X DELETE localhost:9100/sessions/voice/healthcare                  # clear one vertical
    curl -X DELETE localhost:9100/sessions                                   # clear every series
    curl -X PUT --data 0.45 localhost:9100/latency/voice/healthcare/pod-a   # answers take 450ms
    curl -X POST --data 3 localhost:9100/counters/voice_model_rate_limited_total/voice/healthcare
"""

from __future__ import annotations

import argparse
import math
import random
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

COUNTERS = (
    "voice_calls_rejected_total",
    "voice_model_tokens_total",
    "voice_model_rate_limited_total",
    "voice_call_duration_seconds_sum",
    "voice_call_duration_seconds_count",
)
BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.5, 2.0, 3.0, 5.0, math.inf)


class LatencyHistogram:
    """One pod's time to first audio: one answer a second at the latency last set."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.counts = [0.0] * len(BUCKETS)
        self.total = 0.0
        self._since = time.monotonic()

    def advance(self) -> None:
        now = time.monotonic()
        answers, self._since = now - self._since, now
        for index, bound in enumerate(BUCKETS):
            if self.seconds <= bound:
                self.counts[index] += answers
        self.total += answers * self.seconds


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A loopback port nobody listens on, for a server a test starts next. Chosen below the
    kernel's ephemeral range: a port from that range can be taken, before the server binds it,
    as the local port of any outgoing connection (seen as EADDRINUSE in a LiveKit worker). Never
    the same port twice in one process."""
    low, high = 10000, _ephemeral_start() - 1
    for _ in range(500):
        port = random.randint(low, high)
        if port in _HANDED_OUT:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    raise RuntimeError(f"no free port between {low} and {high}")


def _ephemeral_start() -> int:
    try:
        first = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        first = 32768  # Linux's default range starts here
    return max(first, 20000)


class SessionExporter:
    """A /metrics endpoint whose series tests (or the demo's traffic) set over HTTP or directly."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.sessions: dict[tuple[str, str, str], float] = {}
        self.latency: dict[tuple[str, str, str], LatencyHistogram] = {}
        self.counters: dict[tuple[str, str, str], float] = {}  # (metric, namespace, vertical)
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

    def set_latency(self, namespace: str, vertical: str, pod: str, seconds: float) -> None:
        """From now on the pod answers in `seconds` (its histogram keeps what it counted)."""
        with self._lock:
            histogram = self.latency.get((namespace, vertical, pod))
            if histogram is None:
                self.latency[(namespace, vertical, pod)] = LatencyHistogram(seconds)
            else:
                histogram.advance()
                histogram.seconds = seconds

    def add(self, metric: str, namespace: str, vertical: str, amount: float) -> None:
        """Count `amount` more on one of COUNTERS for the vertical."""
        if metric not in COUNTERS:
            raise KeyError(metric)
        with self._lock:
            key = (metric, namespace, vertical)
            self.counters[key] = self.counters.get(key, 0.0) + amount

    def clear(self) -> None:
        with self._lock:
            self.sessions.clear()
            self.latency.clear()
            self.counters.clear()

    def render(self) -> str:
        lines = ["# TYPE voice_active_sessions gauge"]
        with self._lock:
            for (namespace, vertical, pod), value in sorted(self.sessions.items()):
                text = "NaN" if math.isnan(value) else repr(float(value))
                lines.append(
                    f'voice_active_sessions{{namespace="{namespace}",vertical="{vertical}",pod="{pod}"}} {text}'
                )
            if self.latency:
                lines.append("# TYPE voice_ttfb_seconds histogram")
            for (namespace, vertical, pod), histogram in sorted(self.latency.items()):
                histogram.advance()
                where = f'namespace="{namespace}",vertical="{vertical}",pod="{pod}"'
                for bound, count in zip(BUCKETS, histogram.counts, strict=True):
                    le = "+Inf" if math.isinf(bound) else repr(bound)
                    lines.append(f'voice_ttfb_seconds_bucket{{{where},le="{le}"}} {count!r}')
                lines.append(f"voice_ttfb_seconds_sum{{{where}}} {histogram.total!r}")
                lines.append(f"voice_ttfb_seconds_count{{{where}}} {histogram.counts[-1]!r}")
            for metric in COUNTERS:
                series = sorted((k, v) for k, v in self.counters.items() if k[0] == metric)
                if series and metric.endswith("_total"):
                    lines.append(f"# TYPE {metric} counter")
                for (_, namespace, vertical), value in series:
                    where = f'namespace="{namespace}",vertical="{vertical}"'
                    lines.append(f"{metric}{{{where}}} {value!r}")
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
                value = self._number()
                if value is None:
                    return
                if len(parts) != 4 or parts[0] not in {"sessions", "latency"}:
                    self._answer(404, b"PUT /sessions|latency/NAMESPACE/VERTICAL/POD\n")
                    return
                if parts[0] == "latency":
                    exporter.set_latency(parts[1], parts[2], parts[3], value)
                else:
                    exporter.set(parts[1], parts[2], parts[3], value)
                self._answer(204, b"")

            def do_POST(self) -> None:
                parts = self.path.strip("/").split("/")
                value = self._number()
                if value is None:
                    return
                if len(parts) != 4 or parts[0] != "counters" or parts[1] not in COUNTERS:
                    self._answer(404, b"POST /counters/METRIC/NAMESPACE/VERTICAL\n")
                    return
                exporter.add(parts[1], parts[2], parts[3], value)
                self._answer(204, b"")

            def _number(self) -> float | None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    return float(self.rfile.read(length).decode())
                except ValueError:
                    self._answer(400, b"the body must be a number\n")
                    return None

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
    print(f"serving the voice series on {exporter.url}/metrics", flush=True)  # noqa: T201
    threading.Event().wait()


if __name__ == "__main__":
    main()
