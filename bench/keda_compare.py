"""voicecap and KEDA side by side, on the same real control plane and the same Prometheus.

    .venv/bin/python bench/keda_compare.py [N ...]     (default: 100 1000; `make bench-keda`)
        --only keda|voicecap   one system; --no-peak   skip waiting for a peak window (set-up check)

Builds KEDA first (bench/keda/build.sh: github.com/kedacore/keda/v2, the ordinary go build, its
CRDs from the same module) and the control plane (tests/cluster/build.sh). For each N, one fresh
control plane (kube-apiserver, controllers with Kubernetes' default 15 s HPA sync, kwok running
the pods, Prometheus, prometheus-adapter), then two phases on it, one after the other:

  voicecap  N Deployments, each with a VoiceCapacity: replicas 1-10, 140 calls planned per pod,
            one peak planned a few minutes ahead (a daily schedule, duration 3m, leadTime 1m,
            expectedSessions 280, factor 1.5: a floor of 3 pods from the lead start). The
            operator as installed by the chart (its ServiceAccount, --interval 15s).
  KEDA      N other Deployments, each with the closest ScaledObject: minReplicaCount 1,
            maxReplicaCount 10, a cron trigger (desiredReplicas 3 over the same 4 minutes from
            the lead start) and a prometheus trigger on the same session query with threshold
            140. KEDA's operator and metrics adapter with their defaults (pollingInterval 30 s).

Measured the same way for both:
  - converge s: from the operator's start (voicecap) or the ScaledObjects' creation (KEDA,
    already running) until all N HPAs exist and every object's status says Ready=True;
  - Prometheus queries/min at steady state: /api/v1/query and /query_range requests Prometheus
    served (its own counter), over 120 s: the operator's and those made on its HPAs' behalf
    (prometheus-adapter for voicecap's Pods metric, KEDA's adapter for its external metrics);
  - API writes/min at steady state: by the operator's identity, from the API server's audit log
    (authorization reviews, which write nothing, left out);
  - spec change -> HPA s: patch the minimum to 5 (VoiceCapacity replicas.min, ScaledObject
    minReplicaCount) until the HPA's minReplicas shows it; median of 10;
  - peak -> ready s: from the lead start (voicecap) or the window start (KEDA) until each
    Deployment has 3 Ready pods: median and the last (over the N - 10 not used for the spec
    change);
  - RSS MiB: the operator's resident memory at steady state (KEDA: operator + adapter).
Then the ratios KEDA / voicecap.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support import pki  # noqa: E402
from support.client import Client  # noqa: E402
from support.kube import deployment, path_of  # noqa: E402
from support.real_stack import OPERATOR_USER, WRITE_VERBS, RealStack  # noqa: E402
from support.servers import free_port, stop_process, wait_until  # noqa: E402

NAMESPACES = 10
PEAK_PODS = 3
# One peak per phase, planned when the phase starts: far enough ahead for the objects to converge
# and the steady-state and spec-change measurements to finish first, with every Deployment
# still at its one pod (a recurring window would leave them scaled up from the last one).
PEAK_MARGIN_SECONDS = (180, 0.45)  # + per workload
STEADY_SECONDS = 120
LATENCY_SAMPLES = 10
KEDA_NAMESPACE = "keda"
KEDA_USER = f"system:serviceaccount:{KEDA_NAMESPACE}:keda-operator"
PREFIX = {"voicecap": "vc-", "keda": "kd-"}  # namespaces of each system's workloads
SYSTEMS = ("voicecap", "keda")
OBJECTS = {
    "voicecap": ("voicecap.io/v1alpha1", "voicecapacities"),
    "keda": ("keda.sh/v1alpha1", "scaledobjects"),
}
# Authorization checks are "create" requests but write nothing (KEDA's adapter makes one per
# metrics request from the HPA controller; prometheus-adapter does the same for voicecap's).
REVIEWS = frozenset({"subjectaccessreviews", "tokenreviews", "selfsubjectaccessreviews"})
MEASURE_PEAK = True
HPA_NAME = {"voicecap": "{}", "keda": "keda-hpa-{}"}  # KEDA names its HPA after the ScaledObject


def session_query(namespace: str, vertical: str) -> str:
    return f'sum(voice_active_sessions{{namespace="{namespace}",vertical="{vertical}"}})'


def cron(moment: datetime) -> str:
    return f"{moment.minute} {moment.hour} * * *"


def voicecapacity(namespace: str, index: int, lead_start: datetime) -> dict[str, Any]:
    return {
        "apiVersion": "voicecap.io/v1alpha1",
        "kind": "VoiceCapacity",
        "metadata": {"name": f"vertical-{index}", "namespace": namespace},
        "spec": {
            "targetRef": {"kind": "Deployment", "name": f"agent-{index}"},
            "sessions": {"perPod": 200, "targetUtilization": 0.7},
            "replicas": {"min": 1, "max": 10},
            "peaks": [
                {
                    "name": "rush",
                    "schedule": cron(lead_start + timedelta(minutes=1)),
                    "duration": "3m",
                    "timeZone": "UTC",
                    "leadTime": "1m",
                    "factor": 1.5,
                    "expectedSessions": 280,
                }
            ],
        },
    }


def scaledobject(
    namespace: str, index: int, prometheus_url: str, start: datetime
) -> dict[str, Any]:
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": f"vertical-{index}", "namespace": namespace},
        "spec": {
            "scaleTargetRef": {"name": f"agent-{index}"},
            "minReplicaCount": 1,
            "maxReplicaCount": 10,
            "triggers": [
                {
                    "type": "cron",
                    "metadata": {
                        "timezone": "UTC",
                        "start": cron(start),
                        "end": cron(start + timedelta(minutes=4)),
                        "desiredReplicas": str(PEAK_PODS),
                    },
                },
                {
                    "type": "prometheus",
                    "metadata": {
                        "serverAddress": prometheus_url,
                        "query": session_query(namespace, f"vertical-{index}"),
                        "threshold": "140",
                    },
                },
            ],
        },
    }


def hpa_min(api: Client, path: str) -> int | None:
    return (api.get(path) or {}).get("spec", {}).get("minReplicas")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def build_keda() -> Path:
    result = subprocess.run(
        ["bash", str(ROOT / "bench" / "keda" / "build.sh")],
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"KEDA did not build:\n{result.stderr[-4000:]}")
    return Path(result.stdout.strip().splitlines()[-1])


class Keda:
    """KEDA's operator and metrics adapter as processes, registered like its manifests do:
    the adapter serves external.metrics.k8s.io through the aggregation layer, and the two talk
    gRPC over mutual TLS with one certificate pair (KEDA's own cert rotation is off)."""

    def __init__(self, stack: RealStack, bin_dir: Path, workdir: Path) -> None:
        self.plane = stack.plane
        self.processes: list[subprocess.Popen[bytes]] = []
        try:
            self._start(bin_dir, workdir)
        except BaseException:
            self.stop()  # whatever started, stopped by PID
            raise

    def _start(self, bin_dir: Path, workdir: Path) -> None:
        plane = self.plane
        plane.kubectl("apply", "--server-side", "-f", str(bin_dir / "crds"))
        plane.kubectl("create", "namespace", KEDA_NAMESPACE)
        plane.kubectl("create", "serviceaccount", "keda-operator", "-n", KEDA_NAMESPACE)
        plane.kubectl(  # the bench measures scaling, not least privilege
            "create", "clusterrolebinding", "keda-operator", "--clusterrole=cluster-admin",
            f"--serviceaccount={KEDA_NAMESPACE}:keda-operator",
        )  # fmt: skip
        token = plane.kubectl(
            "create", "token", "keda-operator", "-n", KEDA_NAMESPACE, "--duration=24h"
        ).strip()
        self.kubeconfig = plane.kubeconfig_for_token(workdir / "keda.kubeconfig", token)
        certs = workdir / "keda-certs"
        certs.mkdir()
        authority = pki.Authority(certs, "ca")
        pair = authority.issue(
            "tls", common_name="keda", hosts=("127.0.0.1", "localhost"), client_too=True
        )
        assert pair.cert == certs / "tls.crt"
        grpc, adapter = free_port(), free_port()
        self.metrics_port = free_port()
        env = {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "WATCH_NAMESPACE": "",
            "POD_NAMESPACE": KEDA_NAMESPACE,
            "KEDA_CLUSTER_OBJECT_NAMESPACE": KEDA_NAMESPACE,
        }
        env.pop("KUBERNETES_SERVICE_HOST", None)
        self.operator = self._spawn(
            workdir / "keda-operator.log",
            [
                str(bin_dir / "operator"),
                "--leader-elect=false",
                f"--metrics-bind-address=127.0.0.1:{self.metrics_port}",
                f"--health-probe-bind-address=127.0.0.1:{free_port()}",
                f"--metrics-service-bind-address=127.0.0.1:{grpc}",
                f"--cert-dir={certs}",
                f"--ca-dir={certs}",
                "--enable-cert-rotation=false",
                "--enable-webhook-patching=false",
                "--enable-apiservice-patching=false",
                "--zap-log-level=info",
            ],
            env,
        )
        self.adapter = self._spawn(
            workdir / "keda-adapter.log",
            [
                str(bin_dir / "adapter"),
                f"--secure-port={adapter}",
                "--bind-address=127.0.0.1",
                f"--cert-dir={certs}",
                f"--tls-cert-file={certs / 'tls.crt'}",
                f"--tls-private-key-file={certs / 'tls.key'}",
                f"--lister-kubeconfig={self.kubeconfig}",
                f"--authentication-kubeconfig={self.kubeconfig}",
                f"--authorization-kubeconfig={self.kubeconfig}",
                f"--metrics-service-address=127.0.0.1:{grpc}",
                f"--port={free_port()}",
                "--zap-log-level=error",
            ],
            env,
        )
        plane.register_api_service(
            "external.metrics.k8s.io", "v1beta1", "keda-metrics-apiserver", KEDA_NAMESPACE, adapter
        )
        wait_until(
            lambda: "external.metrics.k8s.io" in plane.kubectl("api-versions"),
            timeout=120,
            interval=1,
            what="external.metrics.k8s.io served by KEDA's adapter",
        )

    def _spawn(self, log: Path, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
        self.processes.append(process)
        time.sleep(1)
        if process.poll() is not None:
            raise RuntimeError(f"{argv[0]} exited at once:\n{log.read_text()[-3000:]}")
        return process

    def rss(self) -> float:
        return rss_mib(self.operator.pid) + rss_mib(self.adapter.pid)

    def stop(self) -> None:
        while self.processes:
            stop_process(self.processes.pop(), grace=15)


@dataclass
class Result:
    converge: float = 0.0
    queries_per_minute: float = 0.0
    writes_per_minute: float = 0.0
    spec_change: float = 0.0
    peak_median: float = 0.0
    peak_last: float = 0.0
    peak_ready: int = 0
    rss: float = 0.0


class Comparison:
    def __init__(self, size: int, workdir: Path, keda_bin: Path) -> None:
        self.size = size
        self.workdir = workdir
        self.keda_bin = keda_bin
        self.stack = RealStack(
            workdir,
            interval="15s",
            start_operator=False,
            scrape_interval="5s",
            hpa_sync_period="15s",  # Kubernetes' default, for both systems
        )
        self.api = Client.from_kubeconfig(self.stack.plane.kubeconfig, real=True)
        self.prometheus = self.stack.plane.prometheus_url
        self.stack.plane.kubectl(
            "apply", "--server-side", "-f", str(keda_bin / "crds")
        )  # both phases see the same API (voicecap watches ScaledObjects for conflicts)

    def close(self) -> None:
        self.api.close()
        self.stack.close()

    def namespaces(self, system: str) -> list[str]:
        return [f"{PREFIX[system]}{index}" for index in range(NAMESPACES)]

    def populate(self, system: str) -> None:
        objects = []
        for namespace in self.namespaces(system):
            self.api.ensure_namespace(namespace)
        for index in range(self.size):
            namespace = self.namespaces(system)[index % NAMESPACES]
            self.stack.exporter.set(namespace, f"vertical-{index}", "p1", 100 + index % 40)
            objects.append(deployment(namespace, f"agent-{index}", ready=1))
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(self.api.create, objects))

    def create(self, objects: list[dict[str, Any]]) -> None:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(self.api.create, objects))

    def hpas(self, system: str) -> list[dict[str, Any]]:
        return [
            hpa
            for hpa in self.api.items(path_of("autoscaling/v2", "horizontalpodautoscalers", None))
            if hpa["metadata"]["namespace"].startswith(PREFIX[system])
        ]

    def writes(self, user: str, since: int) -> int:
        return sum(
            1
            for event in self.stack.plane.audit_events()[since:]
            if event.get("user", {}).get("username") == user
            and event.get("stage") == "ResponseComplete"
            and event.get("verb") in WRITE_VERBS
            and event.get("objectRef", {}).get("resource") not in REVIEWS
        )

    def prometheus_queries(self) -> float:
        with urllib.request.urlopen(f"{self.prometheus}/metrics", timeout=10) as response:
            text = response.read().decode()
        pattern = re.compile(
            r'^prometheus_http_requests_total\{[^}]*handler="/api/v1/query(_range)?"[^}]*\} (\S+)$'
        )
        return sum(float(m.group(2)) for line in text.splitlines() if (m := pattern.match(line)))

    def ready(self, system: str) -> int:
        """Objects whose own status says Ready=True (VoiceCapacity, ScaledObject)."""
        path = path_of(*OBJECTS[system], None)
        return sum(
            1
            for item in self.api.items(path)
            if item["metadata"]["namespace"].startswith(PREFIX[system])
            and any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in (item.get("status") or {}).get("conditions") or []
            )
        )

    def converge(self, system: str, started: float) -> float:
        """Every object has its HPA and says Ready=True. (Not "no more writes": KEDA patches
        each ScaledObject's status on every poll while its trigger is active.)"""
        wait_until(
            lambda: len(self.hpas(system)) >= self.size and self.ready(system) >= self.size,
            timeout=2400,
            interval=3,
            what=f"{self.size} {system} HPAs and Ready objects",
        )
        return time.monotonic() - started

    def steady(self, user: str) -> tuple[float, float]:
        mark, queries = len(self.stack.plane.audit_events()), self.prometheus_queries()
        time.sleep(STEADY_SECONDS)
        minutes = STEADY_SECONDS / 60
        return (
            (self.prometheus_queries() - queries) / minutes,
            self.writes(user, mark) / minutes,
        )

    def spec_change(self, system: str, path_for: Any, patch_for: Any) -> float:
        seconds, wanted = [], PEAK_PODS + 2  # above the peak floor, so it shows in any window
        for index in self.sampled():
            namespace = self.namespaces(system)[index % NAMESPACES]
            changed = time.monotonic()
            self.api.patch(path_for(namespace, index), patch_for(wanted))
            name = HPA_NAME[system].format(f"vertical-{index}")
            hpa = path_of("autoscaling/v2", "horizontalpodautoscalers", namespace, name)
            wait_until(
                lambda hpa=hpa, wanted=wanted: hpa_min(self.api, hpa) == wanted,
                timeout=300,
                interval=0.05,
                what=f"{system} HPA minReplicas {wanted}",
            )
            seconds.append(time.monotonic() - changed)
        return statistics.median(seconds)

    def sampled(self) -> range:
        """The workloads whose minimum the spec-change samples raise (the last ones)."""
        return range(max(0, self.size - LATENCY_SAMPLES), self.size)

    def plan_peak(self) -> datetime:
        """The phase's one peak start (voicecap's lead start, KEDA's window start)."""
        base, per_workload = PEAK_MARGIN_SECONDS
        at = datetime.now(UTC) + timedelta(seconds=base + per_workload * self.size)
        return at.replace(second=0, microsecond=0) + timedelta(minutes=1)

    def peak(self, system: str, start: datetime) -> tuple[float, float, int]:
        """From `start` until every Deployment (but the spec-change samples) has PEAK_PODS
        ready pods, or 8 minutes."""
        late = (datetime.now(UTC) - start).total_seconds()
        if late > 0:
            print(f"  ({system}: the peak started {late:.0f}s before its measurement)", flush=True)
        time.sleep(max(0.0, (start - datetime.now(UTC)).total_seconds()))
        ready_at: dict[str, float] = {}
        deadline = time.monotonic() + 480
        untouched = {f"agent-{index}" for index in range(self.size)} - {
            f"agent-{index}" for index in self.sampled()
        }
        while len(ready_at) < len(untouched) and time.monotonic() < deadline:
            elapsed = (datetime.now(UTC) - start).total_seconds()
            for item in self.api.items(path_of("apps/v1", "deployments", None)):
                meta = item["metadata"]
                key = f"{meta['namespace']}/{meta['name']}"
                if (
                    meta["namespace"].startswith(PREFIX[system])
                    and meta["name"] in untouched
                    and key not in ready_at
                    and (item.get("status", {}).get("readyReplicas") or 0) >= PEAK_PODS
                ):
                    ready_at[key] = elapsed
            time.sleep(2)
        times = sorted(ready_at.values())
        if not times:
            return float("nan"), float("nan"), 0
        return statistics.median(times), times[-1], len(times)

    def voicecap(self) -> Result:
        result = Result()
        self.populate("voicecap")
        peak = self.plan_peak()
        self.create(
            [
                voicecapacity(self.namespaces("voicecap")[i % NAMESPACES], i, peak)
                for i in range(self.size)
            ]
        )
        started = time.monotonic()
        operator = self.stack.start_operator(name="operator")
        result.converge = self.converge("voicecap", started)
        result.queries_per_minute, result.writes_per_minute = self.steady(OPERATOR_USER)
        result.rss = rss_mib(operator.process.pid)
        result.spec_change = self.spec_change(
            "voicecap",
            lambda ns, i: path_of("voicecap.io/v1alpha1", "voicecapacities", ns, f"vertical-{i}"),
            lambda wanted: {"spec": {"replicas": {"min": wanted}}},
        )
        if MEASURE_PEAK:
            result.peak_median, result.peak_last, result.peak_ready = self.peak("voicecap", peak)
        operator.stop()
        # Leave the control plane to KEDA: the HPAs go with their VoiceCapacities (garbage
        # collection), so neither the HPA controller nor prometheus-adapter works for them.
        self.stack.plane.kubectl("delete", "voicecapacities", "--all", "-A", "--wait=false")
        wait_until(
            lambda: not self.hpas("voicecap"), timeout=600, interval=3, what="voicecap HPAs gone"
        )
        return result

    def keda(self) -> Result:
        result = Result()
        self.populate("keda")
        keda = Keda(self.stack, self.keda_bin, self.workdir)
        try:
            started, peak = time.monotonic(), self.plan_peak()
            self.create(
                [
                    scaledobject(self.namespaces("keda")[i % NAMESPACES], i, self.prometheus, peak)
                    for i in range(self.size)
                ]
            )
            result.converge = self.converge("keda", started)
            result.queries_per_minute, result.writes_per_minute = self.steady(KEDA_USER)
            result.rss = keda.rss()
            result.spec_change = self.spec_change(
                "keda",
                lambda ns, i: path_of("keda.sh/v1alpha1", "scaledobjects", ns, f"vertical-{i}"),
                lambda wanted: {"spec": {"minReplicaCount": wanted}},
            )
            if MEASURE_PEAK:
                result.peak_median, result.peak_last, result.peak_ready = self.peak("keda", peak)
        finally:
            keda.stop()
        return result


ROWS = (
    ("converge s", "converge", "{:.0f}"),
    ("Prometheus queries/min", "queries_per_minute", "{:.0f}"),
    ("API writes/min (steady)", "writes_per_minute", "{:.1f}"),
    ("spec change -> HPA s (p50)", "spec_change", "{:.2f}"),
    ("peak -> ready s (p50)", "peak_median", "{:.0f}"),
    ("peak -> ready s (last)", "peak_last", "{:.0f}"),
    ("deployments ready at peak", "peak_ready", "{:.0f}"),
    ("RSS MiB", "rss", "{:.0f}"),
)


def report(size: int, results: dict[str, Result]) -> None:
    print(f"\nN = {size} workloads")
    for system in SYSTEMS:
        results.setdefault(system, Result())
    print(f"{'':<28} {'voicecap':>10} {'KEDA':>10} {'KEDA/voicecap':>14}")
    for label, attribute, form in ROWS:
        ours, theirs = getattr(results["voicecap"], attribute), getattr(results["keda"], attribute)
        ratio = f"{theirs / ours:.2f}" if ours else ("inf" if theirs else "-")
        print(
            f"{label:<28} {form.format(ours):>10} {form.format(theirs):>10} {ratio:>14}", flush=True
        )


def main(arguments: list[str]) -> None:
    global MEASURE_PEAK  # noqa: PLW0603  (a command-line switch, set once)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100, 1000],
                        help="objects per run (default: 100 1000)")  # fmt: skip
    parser.add_argument("--no-peak", action="store_true",
                        help="a quick check of the set-up: no wait for a peak window")  # fmt: skip
    parser.add_argument("--only", choices=SYSTEMS, help="run one system only")
    args = parser.parse_args(arguments)
    if args.no_peak:
        MEASURE_PEAK = False
    systems = (args.only,) if args.only else SYSTEMS
    sizes = args.sizes
    began = time.monotonic()
    keda_bin = build_keda()
    print(f"KEDA built (or cached) in {time.monotonic() - began:.0f}s: {keda_bin}", flush=True)
    for size in sizes:
        with tempfile.TemporaryDirectory() as workdir:
            comparison = Comparison(size, Path(workdir), keda_bin)
            results: dict[str, Result] = {}
            try:
                for system in systems:
                    results[system] = (
                        comparison.voicecap() if system == "voicecap" else comparison.keda()
                    )
                    print(f"N = {size}, {system}: {results[system]}", flush=True)  # kept if stopped
            finally:
                comparison.close()
        report(size, results)


if __name__ == "__main__":
    # SIGTERM unwinds like Ctrl-C, so every `finally` stops what the run started, by PID
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    main(sys.argv[1:])
