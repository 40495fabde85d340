"""The operator at fleet scale: `voicecap run` as a real process against the emulated API
(tests/support/kube.py) and a real Prometheus, with N VoiceCapacities.

    .venv/bin/python bench/operator_fleet.py [N ...]        (default: 1000 5000)

Prints, per fleet size:
- converge: seconds from operator start until every VoiceCapacity has its HPA and status;
- queries/cycle: Prometheus queries per fleet cycle (must not grow with N);
- writes/steady cycle: API writes per cycle once converged (must be 0);
- cycle s: seconds one fleet cycle takes (observe + plan + diff for every object);
- core plans/s: the pure core alone (plan_fleet) on the same objects;
- RSS MiB: the operator's resident memory once converged, and after the latency run;
- latency p50/p99: seconds from a spec change (kubectl patch) to the HPA patched.
"""

from __future__ import annotations

import copy
import random
import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.kube import EmulatedCluster, Kubectl, deployment, emulated_cluster, path_of  # noqa: E402
from support.objects import BASE_CAPACITY  # noqa: E402
from support.servers import OperatorProcess, Prometheus, SessionExporter, wait_until  # noqa: E402
from voicecap.api.models import VoiceCapacity  # noqa: E402
from voicecap.core.fleet import plan_fleet  # noqa: E402
from voicecap.core.plan import Observation  # noqa: E402

INTERVAL = 5.0
NAMESPACES = 20
LATENCY_SAMPLES = 100


def body(index: int) -> dict:
    vcap = copy.deepcopy(BASE_CAPACITY)
    vcap["metadata"] = {"name": f"vertical-{index}", "namespace": f"ns-{index % NAMESPACES}"}
    vcap["spec"]["targetRef"] = {"kind": "Deployment", "name": f"agent-{index}"}
    vcap["spec"].pop("model")
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


def operator_writes(cluster: EmulatedCluster, since: int) -> int:
    return sum(
        1
        for w in cluster.writes[since:]
        if w.resource in {"horizontalpodautoscalers", "events"}
        or (w.subresource == "status" and w.resource == "voicecapacities")
    )


def hpa_count(cluster: EmulatedCluster) -> int:
    return sum(
        1 for w in cluster.writes if w.resource == "horizontalpodautoscalers" and w.verb == "create"
    )


def hpa_min(kubectl: Kubectl, path: str) -> int | None:
    return (kubectl.get(path) or {}).get("spec", {}).get("minReplicas")


def measure(size: int, workdir: Path) -> dict[str, float]:  # noqa: PLR0915  (one scenario, read top to bottom)
    exporter = SessionExporter()
    for index in range(size):
        exporter.set(f"ns-{index % NAMESPACES}", f"vertical-{index}", "p1", 100 + index % 700)
    prometheus = Prometheus(workdir, [f"127.0.0.1:{exporter.port}"], scrape_interval="5s")
    try:
        with emulated_cluster() as cluster:
            k = cluster.kubectl
            for index in range(size):
                namespace = f"ns-{index % NAMESPACES}"
                k.create(deployment(namespace, f"agent-{index}"))
                k.patch(
                    path_of("apps/v1", "deployments", namespace, f"agent-{index}") + "/status",
                    {"status": {"readyReplicas": 6}},
                )
                k.create(body(index))
            wait_until(
                lambda: (
                    urllib.request.urlopen(
                        f"{prometheus.url}/api/v1/query?query=count(voice_active_sessions)",
                        timeout=5,
                    )
                    .read()
                    .find(str(size).encode())
                    > 0
                ),
                timeout=60,
                what="Prometheus has scraped every vertical",
            )
            started = time.monotonic()
            operator = OperatorProcess(
                workdir,
                kubeconfig=cluster.kubeconfig(workdir),
                prometheus_url=prometheus.url,
                interval=f"{INTERVAL:g}s",
                name=f"operator-{size}",
            )
            try:
                wait_until(
                    lambda: hpa_count(cluster) >= size, timeout=1800, interval=1, what="all HPAs"
                )
                # Converged: two full cycles in a row without a write.
                last = len(cluster.writes)
                quiet_since = time.monotonic()
                while time.monotonic() - quiet_since < 2 * INTERVAL + 1:
                    time.sleep(1)
                    if len(cluster.writes) != last:
                        last, quiet_since = len(cluster.writes), time.monotonic()
                    if time.monotonic() - started > 1800:
                        raise TimeoutError("no steady state within 1800s")
                converged = quiet_since - started
                before = operator.metrics()
                since = len(cluster.writes)
                steady_cycles = 3
                time.sleep(steady_cycles * INTERVAL)
                after = operator.metrics()
                cycles = metric(after, "voicecap_cycle_duration_seconds_count") - metric(
                    before, "voicecap_cycle_duration_seconds_count"
                )
                queries = metric(
                    after, "voicecap_prometheus_query_duration_seconds_count"
                ) - metric(before, "voicecap_prometheus_query_duration_seconds_count")
                cycle_seconds = (
                    metric(after, "voicecap_cycle_duration_seconds_sum")
                    - metric(before, "voicecap_cycle_duration_seconds_sum")
                ) / max(cycles, 1)
                writes = operator_writes(cluster, since) / max(cycles, 1)
                rss = rss_mib(operator.process.pid)

                latencies = []
                rng = random.Random(7)
                for sample in range(LATENCY_SAMPLES):
                    index = rng.randrange(size)
                    namespace, name = f"ns-{index % NAMESPACES}", f"vertical-{index}"
                    wanted = (
                        41 + sample
                    )  # always higher: a lower floor would wait for stabilization
                    changed = time.monotonic()
                    k.patch(
                        path_of("voicecap.io/v1alpha1", "voicecapacities", namespace, name),
                        {"spec": {"replicas": {"min": wanted, "max": 200}}},
                    )
                    hpa_path = path_of(
                        "autoscaling/v2", "horizontalpodautoscalers", namespace, name
                    )
                    wait_until(
                        lambda path=hpa_path, wanted=wanted: hpa_min(k, path) == wanted,
                        timeout=60,
                        interval=0.005,
                        what="HPA patched",
                    )
                    latencies.append(time.monotonic() - changed)
                rss_after = rss_mib(operator.process.pid)
            finally:
                operator.stop()
    finally:
        prometheus.stop()
        exporter.stop()

    capacities = [VoiceCapacity.model_validate(body(i)) for i in range(size)]
    now = datetime.now(UTC)
    observations = {
        c.key: Observation(sessions=300, sampled_at=now, ready_replicas=6) for c in capacities
    }
    plan_started = time.perf_counter()
    plan_fleet(capacities, [], observations, now)
    plans_per_second = size / (time.perf_counter() - plan_started)

    latencies.sort()
    return {
        "converge": converged,
        "queries": queries / max(cycles, 1),
        "writes": writes,
        "cycle": cycle_seconds,
        "plans": plans_per_second,
        "rss": rss,
        "rss_after": rss_after,
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
    }


def main(sizes: list[int]) -> None:
    print(
        f"{'objects':>8} {'converge s':>10} {'queries/cycle':>13} {'writes/steady cycle':>19} "
        f"{'cycle s':>8} {'core plans/s':>12} {'RSS MiB':>15} {'latency p50':>11} {'p99':>7}"
    )
    for size in sizes:
        with tempfile.TemporaryDirectory() as workdir:
            r = measure(size, Path(workdir))
        print(
            f"{size:>8} {r['converge']:>10.1f} {r['queries']:>13.1f} {r['writes']:>19.1f} "
            f"{r['cycle']:>8.2f} {r['plans']:>12,.0f} {r['rss']:>7.0f} -> {r['rss_after']:<5.0f} "
            f"{r['p50']:>11.3f} {r['p99']:>7.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [1000, 5000])
