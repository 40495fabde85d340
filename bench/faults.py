"""Faults of the real control plane at fleet scale, each injected and counted.

    .venv/bin/python bench/faults.py [--objects 500] [--only NAME ...]   (make bench-faults)

On the control plane of the tests (make cluster-build: etcd, kube-apiserver, the controllers,
kwok running every pod, Prometheus, prometheus-adapter), with the chart's RBAC, N VoiceCapacities
(each a Deployment whose pods carry 150 calls, spread over its Ready pods so that the real HPA
reads them through prometheus-adapter) and one `voicecap run` (--interval 5s, the HPA controller
at Kubernetes' 15 s sync). Each fault in turn:

- the fault is injected (components stopped by PID and started again with their data);
- 20 VoiceCapacities get a higher replicas.min during it (or as soon as the API answers again);
- every HPA's minReplicas is read every second: a decrease while the operator is blind counts;
- the API server's audit log counts the operator's writes from the fault to recovery, and 429s;
- recovery: seconds from the fault's end until the 20 changes are on their HPAs, every
  VoiceCapacity says MetricsAvailable=True and every HPA reads its metric again.

Objects use scaleDown.stabilization 0s, so a floor going down while blind is never an earlier
window running out.

Prints one table row per fault (docs/reliability.md has the table of a run).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from e2e.cluster import Cluster  # noqa: E402
from support.kube import deployment, path_of  # noqa: E402
from support.real_stack import WRITE_VERBS, RealStack  # noqa: E402
from support.servers import OperatorProcess, wait_until  # noqa: E402

NAMESPACES = 10
CALLS = 150  # per vertical: 3 pods at 100 per pod and a 0.5 target
CHANGED = 20  # VoiceCapacities changed during each fault
INTERVAL = "5s"


def capacity(index: int) -> dict[str, Any]:
    return {
        "apiVersion": "voicecap.io/v1alpha1",
        "kind": "VoiceCapacity",
        "metadata": {"name": f"vertical-{index}", "namespace": f"ns-{index % NAMESPACES}"},
        "spec": {
            "vertical": f"vertical-{index}",
            "targetRef": {"kind": "Deployment", "name": f"agent-{index}"},
            "sessions": {"perPod": 100, "targetUtilization": 0.5},
            "replicas": {"min": 1, "max": 20},
            # floors move at once: a decrease the floor watcher sees is then never a
            # stabilization window from an earlier fault running out
            "scaleDown": {"stabilization": "0s"},
        },
    }


@dataclass
class Row:
    fault: str
    blind: float = 0.0  # seconds the fault lasted
    decreases: int = 0  # HPAs whose minReplicas went down while the operator was blind
    writes: int = 0  # operator writes from the fault's start to recovery
    by_resource: Counter[str] = field(default_factory=Counter)
    throttled: int = 0  # operator requests answered 429
    lost: int = 0  # changes not on their HPA within the recovery timeout
    recovered: float | None = None  # seconds from the fault's end to everything right
    restarts: int = 0  # watch streams that failed and listed again (operator metric)
    pruned: int = 0  # objects a re-listing forgot (operator metric)
    note: str = ""


class Fleet:
    """The stack, N objects, the operator, a call spreader and an HPA floor watcher."""

    def __init__(self, workdir: Path, size: int) -> None:
        self.size = size
        self.stack = RealStack(
            workdir, interval=INTERVAL, start_operator=False, scrape_interval="5s",
            hpa_sync_period="15s",
        )  # fmt: skip
        self.api = Cluster(self.stack.plane.kubeconfig, real=True)
        self.operator: OperatorProcess | None = None
        self._stop = threading.Event()
        self._blind = threading.Event()
        self._floors: dict[str, int] = {}
        self.decreased: set[str] = set()
        self.next_change = 0

    # ---- set-up ------------------------------------------------------------------------------

    def populate(self) -> None:
        for namespace in range(NAMESPACES):
            self.api.ensure_namespace(f"ns-{namespace}")
        objects = []
        for index in range(self.size):
            objects.append(deployment(f"ns-{index % NAMESPACES}", f"agent-{index}", ready=1))
            objects.append(capacity(index))
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(self.api.create, objects))
        threading.Thread(target=self._spread_calls, daemon=True).start()
        threading.Thread(target=self._watch_floors, daemon=True).start()

    def start_operator(self, *extra: str) -> None:
        """(Re)start the operator: standalone, one replica, as `make demo` runs it."""
        if self.operator is not None:
            self.operator.stop()
        self.operator = self.stack.start_operator("operator", extra=("--standalone", *extra))

    def converge(self, timeout: float = 900) -> float:
        started = time.monotonic()
        wait_until(self.all_right, timeout=timeout, interval=2, what="every object reconciled")
        return time.monotonic() - started

    # ---- what runs in the background --------------------------------------------------------

    def _spread_calls(self) -> None:
        """CALLS per vertical, spread over its Ready pods by name, so the adapter has a series
        for every pod the HPA counts (what a voice platform's pods export)."""
        exporter = self.stack.exporter
        while not self._stop.is_set():
            try:
                pods = self.api.items(path_of("v1", "pods", None))
            except Exception:  # the API is down: keep the last series
                time.sleep(2)
                continue
            by_app: dict[tuple[str, str], list[str]] = {}
            for pod in pods:
                meta = pod["metadata"]
                app = meta.get("labels", {}).get("app", "")
                if app.startswith("agent-") and not meta.get("deletionTimestamp"):
                    by_app.setdefault((meta["namespace"], app), []).append(meta["name"])
            for (namespace, app), names in by_app.items():
                vertical = app.replace("agent-", "vertical-")
                each = CALLS / len(names)
                exporter.set_vertical(namespace, vertical, dict.fromkeys(names, each))
            time.sleep(2)

    def _watch_floors(self) -> None:
        while not self._stop.is_set():
            try:
                hpas = self.api.items(path_of("autoscaling/v2", "horizontalpodautoscalers", None))
            except Exception:
                time.sleep(1)
                continue
            for hpa in hpas:
                key = f"{hpa['metadata']['namespace']}/{hpa['metadata']['name']}"
                floor = int(hpa["spec"]["minReplicas"])
                if self._blind.is_set() and floor < self._floors.get(key, 0):
                    self.decreased.add(key)
                self._floors[key] = floor
            time.sleep(1)

    # ---- reads -------------------------------------------------------------------------------

    def all_right(self) -> bool:
        """Every VoiceCapacity says MetricsAvailable=True, and every HPA reads its metric."""
        items = self.api.items(path_of("voicecap.io/v1alpha1", "voicecapacities", None))
        hpas = self.api.items(path_of("autoscaling/v2", "horizontalpodautoscalers", None))
        metrics_known = all(
            any(
                c["type"] == "MetricsAvailable" and c["status"] == "True"
                for c in item.get("status", {}).get("conditions", [])
            )
            for item in items
        )
        hpas_read = all(
            any(
                c["type"] == "ScalingActive" and c["status"] == "True"
                for c in hpa.get("status", {}).get("conditions", [])
            )
            for hpa in hpas
        )
        return len(items) == self.size == len(hpas) and metrics_known and hpas_read

    def change(self) -> list[tuple[str, int]]:
        """Raise replicas.min of the next CHANGED objects; (HPA path, wanted) of each."""
        changed = []
        for _ in range(CHANGED):
            index = self.next_change % self.size
            self.next_change += 1
            namespace, name = f"ns-{index % NAMESPACES}", f"vertical-{index}"
            hpa = path_of("autoscaling/v2", "horizontalpodautoscalers", namespace, name)
            wanted = int((self.api.get(hpa) or {}).get("spec", {}).get("minReplicas", 1)) + 1
            self.api.patch(
                path_of("voicecap.io/v1alpha1", "voicecapacities", namespace, name),
                {"spec": {"replicas": {"min": wanted}}},
            )
            changed.append((hpa, wanted))
        return changed

    def applied(self, changes: list[tuple[str, int]]) -> bool:
        return all(
            (self.api.get(path) or {}).get("spec", {}).get("minReplicas") == wanted
            for path, wanted in changes
        )

    def metric(self, name: str) -> float:
        assert self.operator is not None
        total = 0.0
        for line in self.operator.metrics().splitlines():
            if line.startswith((name + " ", name + "{")):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def mark(self) -> int:
        return len(self.stack.plane.audit_events())

    def close(self) -> None:
        self._stop.set()
        self.api.close()
        self.stack.close()

    # ---- one fault ---------------------------------------------------------------------------

    def run(
        self,
        name: str,
        inject: Callable[[], None],
        heal: Callable[[], None],
        *,
        blind: float,
        change_during: bool = True,
        note: str = "",
    ) -> Row:
        """inject; `blind` seconds (changes made in the middle if the API answers); heal;
        then wait for the changes and MetricsAvailable everywhere."""
        row = Row(name, blind=blind, note=note)
        restarts, pruned = (
            self.metric("voicecap_watch_restarts_total"),
            self.metric("voicecap_watch_pruned_objects_total"),
        )
        since = self.mark()
        self.decreased.clear()
        self._blind.set()
        inject()
        time.sleep(blind / 2)
        changes = self.change() if change_during else []
        time.sleep(blind / 2)
        heal()
        healed = time.monotonic()
        self._blind.clear()
        if not change_during:
            changes = self.change()
        try:
            wait_until(
                lambda: self.applied(changes) and self.all_right(),
                timeout=600,
                interval=1,
                what=f"{name}: recovery",
            )
            row.recovered = time.monotonic() - healed
        except TimeoutError:
            row.lost = sum(
                1
                for path, wanted in changes
                if (self.api.get(path) or {}).get("spec", {}).get("minReplicas") != wanted
            )
        time.sleep(10)  # what a recovery writes after it is right counts too
        row.decreases = len(self.decreased)
        for event in self.stack.operator_requests(since):
            status = event.get("responseStatus", {}).get("code", 0)
            if status == 429:
                row.throttled += 1
            elif event.get("verb") in WRITE_VERBS and status < 400:
                row.writes += 1
                row.by_resource[event.get("objectRef", {}).get("resource", "?")] += 1
        row.restarts = int(self.metric("voicecap_watch_restarts_total") - restarts)
        row.pruned = int(self.metric("voicecap_watch_pruned_objects_total") - pruned)
        return row


def faults(fleet: Fleet, only: set[str]) -> list[Row]:  # noqa: PLR0915  (the faults, in order)
    plane = fleet.stack.plane
    rows: list[Row] = []

    def want(name: str) -> bool:
        return not only or name in only

    if want("adapter-blip-before"):
        # the debounce's "before": a grace shorter than one HPA sync acts on every failed sync
        fleet.start_operator("--hpa-metric-grace=1s")
        fleet.converge()
        rows.append(fleet.run(
            "prometheus-adapter down 10 s (grace 1 s: before)",
            lambda: plane.stop_component("prometheus-adapter"),
            lambda: plane.start_component("prometheus-adapter"),
            blind=10, note="--hpa-metric-grace=1s",
        ))  # fmt: skip
        fleet.start_operator()
        fleet.converge()
    if want("adapter-blip"):
        rows.append(fleet.run(
            "prometheus-adapter down 10 s",
            lambda: plane.stop_component("prometheus-adapter"),
            lambda: plane.start_component("prometheus-adapter"),
            blind=10,
        ))  # fmt: skip
    if want("adapter"):
        rows.append(fleet.run(
            "prometheus-adapter down 2 min",
            lambda: plane.stop_component("prometheus-adapter"),
            lambda: plane.start_component("prometheus-adapter"),
            blind=120,
        ))  # fmt: skip
    if want("prometheus"):
        rows.append(fleet.run(
            "Prometheus down 3 min",
            lambda: plane.stop_component("prometheus"),
            lambda: plane.start_component("prometheus"),
            blind=180,
        ))  # fmt: skip
    if want("apiserver"):
        rows.append(fleet.run(
            "kube-apiserver restart (60 s down)",
            lambda: plane.stop_component("kube-apiserver"),
            lambda: plane.start_component("kube-apiserver"),
            blind=60, change_during=False,
        ))  # fmt: skip
    if want("etcd"):
        rows.append(fleet.run(
            "etcd restart (30 s down, data kept)",
            lambda: plane.stop_component("etcd"),
            lambda: plane.start_component("etcd"),
            blind=30, change_during=False,
        ))  # fmt: skip
    if want("throttle"):

        def throttled(args: list[str]) -> list[str]:
            kept = [
                a
                for a in args
                if not a.startswith(("--max-requests-inflight", "--max-mutating-requests-inflight"))
            ]
            return [*kept, "--max-requests-inflight=4", "--max-mutating-requests-inflight=2",
                    "--enable-priority-and-fairness=false"]  # fmt: skip

        def throttle() -> None:
            plane.stop_component("kube-apiserver")
            plane.start_component("kube-apiserver", edit=throttled)

        def unthrottle() -> None:
            plane.stop_component("kube-apiserver")
            plane.start_component("kube-apiserver")

        rows.append(fleet.run(
            "API server throttling (4 inflight, 2 mutating, 90 s)",
            throttle, unthrottle, blind=90,
            note="apiserver restarted into and out of the limit",
        ))  # fmt: skip
    if want("gone"):
        deleted: list[int] = list(range(fleet.size - 10, fleet.size))

        def gone() -> None:
            """Deletions the operator cannot see (stopped), then an API server restart: its new
            watch cache starts after them, so the operator's watches get 410 Gone and re-list."""
            assert fleet.operator is not None
            fleet.operator.process.send_signal(signal.SIGSTOP)
            for index in deleted:
                fleet.api.delete(path_of("voicecap.io/v1alpha1", "voicecapacities",
                                         f"ns-{index % NAMESPACES}", f"vertical-{index}"))  # fmt: skip
            plane.stop_component("kube-apiserver")
            plane.start_component("kube-apiserver")

        def resume() -> None:
            assert fleet.operator is not None
            fleet.operator.process.send_signal(signal.SIGCONT)

        size = fleet.size
        fleet.size -= len(deleted)
        fleet.next_change = 0
        row = fleet.run("watch 410 Gone (10 deleted while away)", gone, resume, blind=20,
                        change_during=False)  # fmt: skip
        known = fleet.metric("voicecap_objects")
        row.note = f"operator knows {known:.0f} of {fleet.size} objects (was {size})"
        rows.append(row)
    if want("sigkill"):

        def kill() -> None:
            assert fleet.operator is not None
            fleet.operator.process.send_signal(signal.SIGKILL)
            fleet.operator.process.wait(timeout=10)

        def restart() -> None:
            fleet.operator = None  # already gone: start a new one
            fleet.start_operator()

        rows.append(fleet.run(
            "operator SIGKILLed mid-cycle (restarted after 10 s)",
            kill, restart, blind=10,
        ))  # fmt: skip
    return rows


def print_table(size: int, rows: list[Row]) -> None:
    print(
        f"\n{size} VoiceCapacities, --interval {INTERVAL}, HPA sync 15s; {CHANGED} changes per fault"
    )
    print("| fault | floor decreases while blind | operator writes (per object) | 429s | "
          "changes lost | s to recover | watch restarts / pruned | note |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        recovered = f"{row.recovered:.1f}" if row.recovered is not None else "timeout"
        top = ", ".join(f"{k} {v}" for k, v in row.by_resource.most_common(4))
        print(f"| {row.fault} | {row.decreases} | {row.writes} ({row.writes / size:.2f}; {top}) "
              f"| {row.throttled} | {row.lost} | {recovered} | {row.restarts} / {row.pruned} "
              f"| {row.note} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=500, help="VoiceCapacities (default 500)")
    parser.add_argument(
        "--only", action="append", default=[],
        help="run only these faults: adapter-blip-before adapter-blip adapter prometheus "
        "apiserver etcd throttle gone sigkill",
    )  # fmt: skip
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop everything by PID on kill
    with TemporaryDirectory(prefix="voicecap-faults-") as workdir:
        fleet = Fleet(Path(workdir), args.objects)
        try:
            fleet.populate()
            fleet.start_operator()
            print(f"converged in {fleet.converge():.0f}s", flush=True)
            rows = faults(fleet, set(args.only))
        finally:
            fleet.close()
    print_table(args.objects, rows)


if __name__ == "__main__":
    main()
