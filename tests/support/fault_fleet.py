"""Faults of the real control plane at fleet scale: the fleet, and one function per fault.

A Fleet is the control plane of the tests (etcd, kube-apiserver, the controllers, kwok running
every pod, Prometheus, prometheus-adapter), the chart's RBAC, N VoiceCapacities (each a
Deployment whose pods carry 150 calls, spread over its pods so that the real HPA reads them
through prometheus-adapter) and one `voicecap run` (--interval 5s, the HPA controller at
Kubernetes' 15 s sync). `Fleet.run` injects a fault and counts:

- `changed` VoiceCapacities get a higher replicas.min during it (or as soon as the API answers);
- every HPA's minReplicas is read every second: a decrease while the operator is blind counts;
- the API server's audit log counts the operator's writes from the fault to recovery, its LISTs
  and its 429s;
- recovery: seconds from the fault's end until the changes are on their HPAs, every
  VoiceCapacity says MetricsAvailable=True and every HPA reads its metric again.

Objects use scaleDown.stabilization 0s, so a floor going down while blind is never an earlier
window running out. bench/faults.py runs every fault at 500 objects; tests/e2e/test_faults.py
runs two at 20.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support.client import Client
from support.kube import deployment, path_of
from support.real_stack import WRITE_VERBS, RealStack
from support.servers import OperatorProcess, wait_until

NAMESPACES = 10
CALLS = 150  # per vertical: 3 pods at 100 per pod and a 0.5 target
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


def log(message: str) -> None:
    """Progress on stderr: a fault takes minutes."""
    sys.stderr.write(f"{time.strftime('%H:%M:%S')} {message}\n")
    sys.stderr.flush()


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
    objects: int = 0  # distinct objects the operator wrote to
    unread: int = 0  # HPAs that reported ScalingActive=False while blind
    known: int | None = None  # VoiceCapacities the operator knows afterwards (watch_gone)
    lists: int = 0  # operator LIST requests (a watch that re-lists)
    note: str = ""


class Fleet:
    """The stack, N objects, the operator, a call spreader and an HPA floor watcher."""

    def __init__(
        self,
        workdir: Path,
        size: int,
        *,
        changed: int = 20,
        interval: str = INTERVAL,
        hpa_sync: str = "15s",
    ) -> None:
        self.size = size
        self.interval = interval
        self.changed = changed  # VoiceCapacities changed during each fault
        self.stack = RealStack(
            workdir, interval=interval, start_operator=False, scrape_interval="1s",
            hpa_sync_period=hpa_sync,
        )  # fmt: skip
        self.api = Client.from_kubeconfig(self.stack.plane.kubeconfig, real=True)
        self.operator: OperatorProcess | None = None
        self._stop = threading.Event()
        self._blind = threading.Event()
        self._floors: dict[str, int] = {}
        self.decreased: set[str] = set()
        self.unread: set[str] = set()  # HPAs that said they could not read their metric
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
        """Until every object is right and the operator has written nothing for two cycles."""
        started = time.monotonic()
        wait_until(self.all_right, timeout=timeout, interval=2, what="every object reconciled")
        wait_until(self._quiet, timeout=timeout, interval=0, what="two cycles without a write")
        return time.monotonic() - started

    def _quiet(self) -> bool:
        mark = self.mark()
        time.sleep(2 * float(self.interval.rstrip("s")) + 1)
        return not any(e.get("verb") in WRITE_VERBS for e in self.stack.operator_requests(mark))

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
                if self._blind.is_set() and any(
                    c["type"] == "ScalingActive" and c["status"] == "False"
                    for c in hpa.get("status", {}).get("conditions", [])
                ):
                    self.unread.add(key)
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
        """Raise replicas.min of the next `changed` objects; (HPA path, wanted) of each."""
        changed = []
        for _ in range(self.changed):
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
        self.converge()  # the previous fault's recovery has settled
        log(f"{name}: injecting")
        row = Row(name, blind=blind, note=note)
        operator = self.operator  # a fault may replace it: its counters start again at 0
        restarts, pruned = (
            self.metric("voicecap_watch_restarts_total"),
            self.metric("voicecap_watch_pruned_objects_total"),
        )
        since = self.mark()
        self.decreased.clear()
        self.unread.clear()
        self._blind.set()
        inject()
        time.sleep(blind / 2)
        changes = self.change() if change_during else []
        time.sleep(blind / 2)
        heal()
        log(f"{name}: healed")
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
        log(f"{name}: recovered in {row.recovered}s")
        time.sleep(10)  # what a recovery writes after it is right counts too
        row.decreases = len(self.decreased)
        row.unread = len(self.unread)
        written: set[tuple[str | None, str | None]] = set()
        for event in self.stack.operator_requests(since):
            status = event.get("responseStatus", {}).get("code", 0)
            if status == 429:
                row.throttled += 1
            elif event.get("verb") == "list":
                row.lists += 1
            elif event.get("verb") in WRITE_VERBS and status < 400:
                ref = event.get("objectRef", {})
                row.writes += 1
                row.by_resource[ref.get("resource", "?")] += 1
                if ref.get("resource") != "events":
                    written.add((ref.get("namespace"), ref.get("name")))
        row.objects = len(written)
        if self.operator is not operator:
            restarts = pruned = 0.0
        row.restarts = int(self.metric("voicecap_watch_restarts_total") - restarts)
        row.pruned = int(self.metric("voicecap_watch_pruned_objects_total") - pruned)
        return row


# ---- the faults, one function each (bench/faults.py runs them all, tests/e2e some) ---------


def stopped(fleet: Fleet, component: str, seconds: float, *, name: str = "") -> Row:
    """A component stopped for `seconds`, then started with its data. Changes are made during
    it, or, when it is the API itself (kube-apiserver, etcd), as soon as the API answers."""
    plane = fleet.stack.plane
    return fleet.run(
        name or f"{component} down {seconds:g} s",
        lambda: plane.stop_component(component),
        lambda: plane.start_component(component),
        blind=seconds,
        change_during=component not in ("kube-apiserver", "etcd"),
    )


def metric_source_paused(fleet: Fleet, component: str, seconds: float, *, name: str = "") -> Row:
    """A blip: Prometheus (or prometheus-adapter) answers nothing for `seconds` (SIGSTOP), then
    goes on: the HPA syncs and the operator's queries in that window fail, the next succeed."""
    plane = fleet.stack.plane
    return fleet.run(
        name or f"{component} paused {seconds:g} s",
        lambda: plane.pause_component(component),
        lambda: plane.resume_component(component),
        blind=seconds,
    )


def throttling(fleet: Fleet, seconds: float) -> Row:
    """The API server restarted with 4 requests in flight (2 mutating) and no priority and
    fairness, so the operator's requests beyond that are answered 429; then restored."""
    plane = fleet.stack.plane

    def throttled(args: list[str]) -> list[str]:
        limits = ("--max-requests-inflight", "--max-mutating-requests-inflight")
        kept = [arg for arg in args if not arg.startswith(limits)]
        return [*kept, "--max-requests-inflight=4", "--max-mutating-requests-inflight=2",
                "--enable-priority-and-fairness=false"]  # fmt: skip

    def throttle() -> None:
        plane.stop_component("kube-apiserver")
        plane.start_component("kube-apiserver", edit=throttled)

    def unthrottle() -> None:
        plane.stop_component("kube-apiserver")
        plane.start_component("kube-apiserver")

    return fleet.run(
        f"API server throttling (4 inflight, 2 mutating, {seconds:g} s)",
        throttle, unthrottle, blind=seconds,
        note="API server restarted into the limit and out of it",
    )  # fmt: skip


def watch_gone(fleet: Fleet, deleted: int) -> Row:
    """The operator stopped (SIGSTOP) while the API server restarts (its watches end), then
    `deleted` VoiceCapacities deleted where it cannot see, and etcd compacted past them (the API
    server runs with a 5 s compaction interval from then on): its watches resume from a
    revision that is gone, get 410 Gone and list again."""
    plane = fleet.stack.plane
    gone = list(range(fleet.size - deleted, fleet.size))
    operator = fleet.operator
    assert operator is not None

    def inject() -> None:
        operator.process.send_signal(signal.SIGSTOP)
        plane.stop_component("kube-apiserver")
        plane.start_component(
            "kube-apiserver", edit=lambda args: [*args, "--etcd-compaction-interval=5s"]
        )
        for index in gone:
            fleet.api.delete(path_of("voicecap.io/v1alpha1", "voicecapacities",
                                     f"ns-{index % NAMESPACES}", f"vertical-{index}"))  # fmt: skip
        fleet.size -= deleted
        time.sleep(12)  # two compactions

    before = fleet.size
    fleet.next_change = 0  # never one of the deleted
    row = fleet.run(
        f"watch 410 Gone ({deleted} deleted while away)",
        inject,
        lambda: operator.process.send_signal(signal.SIGCONT),
        blind=20,
        change_during=False,
    )
    row.known = int(fleet.metric("voicecap_objects"))
    row.note = f"operator knows {row.known} of {fleet.size} objects (was {before})"
    return row


def operator_killed(fleet: Fleet, seconds: float) -> Row:
    """SIGKILL at a random point of the cycle; a new operator `seconds` later."""

    def kill() -> None:
        assert fleet.operator is not None
        fleet.operator.process.send_signal(signal.SIGKILL)
        fleet.operator.process.wait(timeout=10)

    def start() -> None:
        fleet.operator = None  # already gone: start a new one
        fleet.start_operator()

    return fleet.run(
        f"operator SIGKILLed mid-cycle (restarted after {seconds:g} s)",
        kill, start, blind=seconds,
    )  # fmt: skip
