"""The operator at fleet scale: `voicecap run` as a real process against a real Prometheus and
N VoiceCapacities (each with its Deployment), on one of two API servers:

    .venv/bin/python bench/operator_fleet.py [N ...]          the kmock emulator (tests/support/kube.py)
    .venv/bin/python bench/operator_fleet.py --real [N ...]   the real control plane (make cluster-build):
        kube-apiserver, controllers, kwok running every Deployment's pod; the chart's RBAC, the
        operator authenticated as the chart's ServiceAccount; writes counted from the audit log
    (default sizes: 1000 5000; `make bench-operator` runs both)
    --profile DIR   run the operator under pyinstrument; one text report per run in DIR
    --measured      every object also watches its latency (spec.latency) and model tokens
                    (spec.model, a TokenBudget): the live latency and 429 queries each cycle,
                    the calibration in the background; the session exporter serves a latency
                    histogram per pod and the 429 counter per vertical

Each object wants one pod (replicas.min 1, 100-139 calls at 140 planned per pod), so N objects
are N Deployments with N pods on the real control plane.

Prints, per fleet size:
- populate: seconds to create the N Deployments and N VoiceCapacities (before the operator starts);
- converge: seconds from operator start until every VoiceCapacity has its HPA and status;
- queries/cycle: Prometheus queries per fleet cycle (must not grow with N), and per calibration
  refresh with --measured (hourly; must not grow with N either);
- writes/steady cycle: API writes per cycle once converged (must be 0);
- cycle s: seconds one fleet cycle takes (observe + plan + diff for every object);
- core plans/s: the pure core alone (plan_fleet) on the same objects;
- RSS MiB: the operator's resident memory once converged, and after the latency run;
- requests/cycle: API requests by the operator per steady cycle (real: from the audit log; the
  emulator does not count reads);
- latency p50/p99: seconds from a spec change (kubectl patch) to the HPA patched.
"""

from __future__ import annotations

import argparse
import copy
import random
import signal
import statistics
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.client import Client  # noqa: E402
from support.kube import deployment, emulated_cluster, path_of  # noqa: E402
from support.objects import BASE_CAPACITY  # noqa: E402
from support.real_stack import WRITE_VERBS  # noqa: E402
from support.servers import OperatorProcess, Prometheus, SessionExporter, wait_until  # noqa: E402
from voicecap.api.models import VoiceCapacity  # noqa: E402
from voicecap.core.budgets.fleet import plan_fleet  # noqa: E402
from voicecap.core.planner.observation import Observation  # noqa: E402

INTERVAL = 5.0
NAMESPACES = 20
LATENCY_SAMPLES = 100
# /metrics at 10,000 objects is ~130,000 samples, seconds to render: read it every 5 s, not
# every 0.5 s, or the bench itself becomes the operator's main load.
METRICS_POLL = 5.0


PROFILES: Path | None = None  # --profile DIR: a pyinstrument report per run
MEASURED = False  # --measured: latency and model tokens on every object
BUDGET = {
    "apiVersion": "voicecap.io/v1alpha1",
    "kind": "TokenBudget",
    "metadata": {"name": "fleet-budget"},
    "spec": {"tokensPerMinute": 2_000_000_000},
}


def profile_path(backend: str, size: int) -> Path | None:
    return PROFILES / f"operator-{backend}-{size}.txt" if PROFILES is not None else None


def body(index: int) -> dict:
    vcap = copy.deepcopy(BASE_CAPACITY)
    vcap["metadata"] = {"name": f"vertical-{index}", "namespace": f"ns-{index % NAMESPACES}"}
    vcap["spec"]["targetRef"] = {"kind": "Deployment", "name": f"agent-{index}"}
    vcap["spec"]["replicas"]["min"] = 1
    vcap["spec"].pop("model")
    if MEASURED:
        vcap["spec"]["latency"] = {"target": "800ms"}
        vcap["spec"]["model"] = {
            "budgetRef": BUDGET["metadata"]["name"],
            "tokensPerSessionMinute": 6000,
            "reservedTPM": 1_000_000,
        }
    return vcap


def metric(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class EmulatedFleet:
    """The kmock API emulator (tests/support/kube.py); readyReplicas is set by hand, no pods."""

    name = "emulator"

    def __init__(self, workdir: Path) -> None:
        self.exporter = SessionExporter()
        self._context = emulated_cluster()
        self.cluster = self._context.__enter__()
        self.kubeconfig = self.cluster.kubeconfig(workdir)
        self.prometheus = Prometheus(
            workdir, [f"127.0.0.1:{self.exporter.port}"], scrape_interval="5s"
        )
        self.prometheus_url = self.prometheus.url
        self.k: Client = self.cluster.client

    def populate(self, size: int) -> None:
        if MEASURED:
            self.k.create(copy.deepcopy(BUDGET))
        for index in range(size):
            namespace = f"ns-{index % NAMESPACES}"
            self.k.create(deployment(namespace, f"agent-{index}", ready=1))
            self.k.patch(
                path_of("apps/v1", "deployments", namespace, f"agent-{index}") + "/status",
                {"status": {"readyReplicas": 1}},
            )
            self.k.create(body(index))

    def start_operator(self, workdir: Path, size: int) -> OperatorProcess:
        return OperatorProcess(
            workdir,
            kubeconfig=self.kubeconfig,
            prometheus_url=self.prometheus.url,
            interval=f"{INTERVAL:g}s",
            name=f"operator-{size}",
            profile=profile_path(self.name, size),
        )

    def hpas(self) -> int:
        return sum(
            1
            for w in self.cluster.writes
            if w.resource == "horizontalpodautoscalers" and w.verb == "create"
        )

    def mark(self) -> int:
        return len(self.cluster.writes)

    def writes_since(self, mark: int) -> int:
        return sum(
            1
            for w in self.cluster.writes[mark:]
            if w.resource in {"horizontalpodautoscalers", "events"}
            or (w.subresource == "status" and w.resource == "voicecapacities")
        )

    def requests_since(self, mark: int) -> float:
        return float("nan")  # the emulator records writes only

    def get(self, path: str) -> dict | None:
        return self.k.get(path)

    def patch(self, path: str, patch: dict) -> None:
        self.k.patch(path, patch)

    def close(self) -> None:
        self.prometheus.stop()
        self._context.__exit__(None, None, None)
        self.exporter.stop()


class RealFleet:
    """The real control plane (tests/support/control_plane.py): Deployments whose pods kwok runs,
    the chart's RBAC, the operator with the chart's ServiceAccount token; writes and requests
    counted from the API server's audit log."""

    name = "real"

    def __init__(self, workdir: Path) -> None:
        from support.real_stack import RealStack  # noqa: PLC0415  (needs the Go-built binaries)

        self.stack = RealStack(
            workdir, interval=f"{INTERVAL:g}s", start_operator=False, scrape_interval="5s"
        )
        self.exporter = self.stack.exporter
        self.prometheus_url = self.stack.plane.prometheus_url
        self.api = Client.from_kubeconfig(self.stack.plane.kubeconfig, real=True)

    def populate(self, size: int) -> None:
        for namespace in range(NAMESPACES):
            self.api.ensure_namespace(f"ns-{namespace}")
        objects = [copy.deepcopy(BUDGET)] if MEASURED else []
        for index in range(size):
            namespace = f"ns-{index % NAMESPACES}"
            objects.append(deployment(namespace, f"agent-{index}", ready=1))
            objects.append(body(index))
        with ThreadPoolExecutor(8) as pool:  # kubectl create at a few hundred objects/s
            list(pool.map(self.api.create, objects))

    def start_operator(self, workdir: Path, size: int) -> OperatorProcess:
        return self.stack.start_operator(
            name=f"operator-{size}", profile=profile_path(self.name, size)
        )

    def hpas(self) -> int:
        path = path_of("autoscaling/v2", "horizontalpodautoscalers", None) + "?limit=1"
        answer = self.api.request("GET", path)
        remaining = answer.get("metadata", {}).get("remainingItemCount", 0)
        return len(answer.get("items", [])) + int(remaining or 0)

    def mark(self) -> int:
        return len(self.stack.plane.audit_events())

    def writes_since(self, mark: int) -> int:
        return sum(1 for e in self.stack.operator_requests(mark) if e.get("verb") in WRITE_VERBS)

    def requests_since(self, mark: int) -> float:
        return float(len(self.stack.operator_requests(mark)))

    def get(self, path: str) -> dict | None:
        return self.api.get(path)

    def patch(self, path: str, patch: dict) -> None:
        self.api.patch(path, patch)

    def close(self) -> None:
        self.api.close()
        self.stack.close()


def hpa_min(fleet: EmulatedFleet | RealFleet, path: str) -> int | None:
    return (fleet.get(path) or {}).get("spec", {}).get("minReplicas")


def measure(backend: str, size: int, workdir: Path) -> dict[str, float]:  # noqa: PLR0915  (one scenario, read top to bottom)
    fleet: EmulatedFleet | RealFleet = (RealFleet if backend == "real" else EmulatedFleet)(workdir)
    for index in range(size):
        namespace, vertical = f"ns-{index % NAMESPACES}", f"vertical-{index}"
        fleet.exporter.set(namespace, vertical, "p1", 100 + index % 40)
        if MEASURED:
            fleet.exporter.set_latency(namespace, vertical, "p1", 0.45)
            fleet.exporter.add("voice_model_rate_limited_total", namespace, vertical, 0)
    try:
        populate_started = time.monotonic()
        fleet.populate(size)
        populated = time.monotonic() - populate_started
        wait_until(
            lambda: (
                urllib.request.urlopen(
                    f"{fleet.prometheus_url}/api/v1/query?query=count(voice_active_sessions)",
                    timeout=5,
                )
                .read()
                .find(str(size).encode())
                > 0
            ),
            timeout=120,
            what="Prometheus has scraped every vertical",
        )
        started = time.monotonic()
        operator = fleet.start_operator(workdir, size)
        try:
            wait_until(lambda: fleet.hpas() >= size, timeout=1800, interval=2, what="all HPAs")

            # Converged: two completed fleet cycles in a row without a write by the operator
            # (counted in cycles, not seconds: a cycle at thousands of objects can take longer
            # than the interval, and a quiet stretch inside one long cycle proves nothing).
            def cycles_done() -> float:
                return metric(operator.metrics(), "voicecap_cycle_duration_seconds_count")

            quiet = 0
            while quiet < 2:
                mark, count = fleet.writes_since(0), cycles_done()
                wait_until(
                    lambda count=count: cycles_done() > count,
                    timeout=max(1.0, 1800 - (time.monotonic() - started)),
                    interval=METRICS_POLL,
                    what="steady state (two fleet cycles without a write) within 1800s",
                )
                quiet = quiet + 1 if fleet.writes_since(0) == mark else 0
            converged = time.monotonic() - started
            before = operator.metrics()
            since = fleet.mark()
            steady_cycles = 3
            first = cycles_done()
            wait_until(
                lambda: cycles_done() >= first + steady_cycles,
                timeout=600,
                interval=METRICS_POLL,
                what=f"{steady_cycles} steady cycles",
            )
            after = operator.metrics()
            cycles = metric(after, "voicecap_cycle_duration_seconds_count") - metric(
                before, "voicecap_cycle_duration_seconds_count"
            )
            queries = metric(after, "voicecap_prometheus_query_duration_seconds_count") - metric(
                before, "voicecap_prometheus_query_duration_seconds_count"
            )
            cycle_seconds = (
                metric(after, "voicecap_cycle_duration_seconds_sum")
                - metric(before, "voicecap_cycle_duration_seconds_sum")
            ) / max(cycles, 1)
            writes = fleet.writes_since(since) / max(cycles, 1)
            requests = fleet.requests_since(since) / max(cycles, 1)
            rss = rss_mib(operator.process.pid)
            profile = profile_path(fleet.name, size)
            if profile is not None:  # start-up, convergence and the steady cycles
                operator.write_profile(profile)

            latencies = []
            rng = random.Random(7)
            for sample in range(LATENCY_SAMPLES):
                index = rng.randrange(size)
                namespace, name = f"ns-{index % NAMESPACES}", f"vertical-{index}"
                wanted = 41 + sample  # always higher: a lower floor would wait for stabilization
                changed = time.monotonic()
                fleet.patch(
                    path_of("voicecap.io/v1alpha1", "voicecapacities", namespace, name),
                    {"spec": {"replicas": {"min": wanted, "max": 200}}},
                )
                hpa_path = path_of("autoscaling/v2", "horizontalpodautoscalers", namespace, name)
                wait_until(
                    lambda path=hpa_path, wanted=wanted: hpa_min(fleet, path) == wanted,
                    timeout=60,
                    interval=0.005,
                    what="HPA patched",
                )
                latencies.append(time.monotonic() - changed)
            rss_after = rss_mib(operator.process.pid)
            calibration_queries = metric(
                operator.metrics(),
                'voicecap_prometheus_query_duration_seconds_count{kind="calibration"}',
            )
        finally:
            operator.stop()
    finally:
        fleet.close()

    capacities = [VoiceCapacity.model_validate(body(i)) for i in range(size)]
    now = datetime.now(UTC)
    observations = {
        c.key: Observation(sessions=120, sampled_at=now, ready_replicas=1) for c in capacities
    }
    plan_started = time.perf_counter()
    plan_fleet(capacities, [], observations, now)
    plans_per_second = size / (time.perf_counter() - plan_started)

    latencies.sort()
    return {
        "populate": populated,
        "converge": converged,
        "queries": queries / max(cycles, 1),
        "calibration": calibration_queries,
        "writes": writes,
        "requests": requests,
        "cycle": cycle_seconds,
        "plans": plans_per_second,
        "rss": rss,
        "rss_after": rss_after,
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
    }


def main(arguments: list[str]) -> None:
    global PROFILES, MEASURED  # noqa: PLW0603  (command-line switches, set once)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 5000],
                        help="VoiceCapacities per run (default: 1000 5000)")  # fmt: skip
    parser.add_argument("--real", action="store_true",
                        help="on the real control plane built from Go modules (default: the emulator)")  # fmt: skip
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="write a pyinstrument profile of the operator per run into DIR")  # fmt: skip
    parser.add_argument("--measured", action="store_true",
                        help="latency and model tokens on every object (measured inputs)")  # fmt: skip
    args = parser.parse_args(arguments)
    MEASURED = args.measured
    backend = "real" if args.real else "emulator"
    if args.profile is not None:
        PROFILES = args.profile.resolve()
        PROFILES.mkdir(parents=True, exist_ok=True)
    sizes = args.sizes
    print(f"backend: {backend} (INTERVAL {INTERVAL:g}s){' measured inputs' if MEASURED else ''}")
    print(
        f"{'objects':>8} {'populate s':>10} {'converge s':>10} {'queries/cycle':>13} "
        f"{'writes/steady cycle':>19} {'requests/cycle':>14} {'cycle s':>8} {'core plans/s':>12} "
        f"{'RSS MiB':>15} {'latency p50':>11} {'p99':>7}"
    )
    for size in sizes:
        with tempfile.TemporaryDirectory() as workdir:
            r = measure(backend, size, Path(workdir))
        print(
            f"{size:>8} {r['populate']:>10.1f} {r['converge']:>10.1f} {r['queries']:>13.1f} "
            f"{r['writes']:>19.1f} {r['requests']:>14.1f} {r['cycle']:>8.2f} {r['plans']:>12,.0f} "
            f"{r['rss']:>7.0f} -> {r['rss_after']:<5.0f} {r['p50']:>11.3f} {r['p99']:>7.3f}",
            flush=True,
        )
        if MEASURED:
            print(f"{'':>8} calibration queries since start: {r['calibration']:.0f}", flush=True)


if __name__ == "__main__":
    # SIGTERM unwinds like Ctrl-C, so every `finally` stops what the run started, by PID
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    main(sys.argv[1:])
