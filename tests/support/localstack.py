"""The embedded local stack: what `make demo` and the local e2e run instead of a cluster.

- the Kubernetes API emulator (support.kube), with our CRDs;
- a session exporter (voice pods' `voice_active_sessions`) and a real Prometheus scraping it;
- `voicecap run` as a real process against both;
- a stand-in for the two controllers a cluster would run for us: the HPA controller (it sizes each
  Deployment from its HPA: desired = ceil(sessions on the target's pods / AverageValue), clamped
  to [minReplicas, maxReplicas]) and the Deployment controller (every wanted pod is ready at
  once; there are no pods, so no start-up delay).

Everything it starts it stops by PID in `close()`, in reverse order, even after a failure.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import urllib3
from kubernetes.client.exceptions import ApiException

from support.client import Client
from support.kube import EmulatedCluster, path_of
from support.servers import OperatorProcess, Prometheus, SessionExporter, Stops
from voicecap.api.types import parse_quantity

HPAS = "/apis/autoscaling/v2/horizontalpodautoscalers"
DEPLOYMENTS = "/apis/apps/v1/deployments"


def hpa_replicas(hpa: dict[str, Any], sessions: float | None, current: int) -> int:
    """The HPA's arithmetic for one AverageValue Pods metric (no tolerance band: no flapping
    pods to smooth here). Without data it keeps the current size inside the bounds."""
    spec = hpa["spec"]
    low, high = int(spec.get("minReplicas", 1)), int(spec["maxReplicas"])
    target = _average_value(spec)
    wanted = current if sessions is None or target is None else math.ceil(sessions / target)
    return max(low, min(high, wanted))


def _average_value(spec: dict[str, Any]) -> float | None:
    for metric in spec.get("metrics", []):
        if metric.get("type") == "Pods":
            return float(parse_quantity(metric["pods"]["target"]["averageValue"]))
    return None


class ControllerStandIn:
    """Applies every HPA to its Deployment every `period` seconds, as kube-controller-manager would."""

    def __init__(
        self, client: Client, load: Callable[[str, str], float | None], period: float
    ) -> None:
        self._client = client
        self._load = load
        self._period = period
        self._stop = threading.Event()
        self.errors = 0
        self._thread = threading.Thread(target=self._run, daemon=True, name="controllers")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._period):
            try:
                self.step()
            except (OSError, ApiException, urllib3.exceptions.HTTPError, KeyError, ValueError):
                self.errors += 1  # an object mid-deletion; the next step sees it settled

    def step(self) -> None:
        deployments = {
            (body["metadata"]["namespace"], body["metadata"]["name"]): body
            for body in self._client.items(DEPLOYMENTS)
        }
        for hpa in self._client.items(HPAS):
            target = hpa["spec"]["scaleTargetRef"]
            namespace = hpa["metadata"]["namespace"]
            deployment = deployments.get((namespace, target["name"]))
            if target.get("kind") != "Deployment" or deployment is None:
                continue
            path = path_of("apps/v1", "deployments", namespace, target["name"])
            current = int(deployment.get("spec", {}).get("replicas", 1))
            wanted = hpa_replicas(hpa, self._load(namespace, f"{target['name']}-"), current)
            if wanted != current:
                self._client.patch(path, {"spec": {"replicas": wanted}})
            ready = int(deployment.get("status", {}).get("readyReplicas", -1))
            if ready != wanted:
                self._client.patch(
                    path + "/status",
                    {
                        "status": {
                            "replicas": wanted,
                            "readyReplicas": wanted,
                            "availableReplicas": wanted,
                        }
                    },
                )
            hpa_status = hpa.get("status", {})
            if hpa_status.get("desiredReplicas") != wanted:
                self._client.patch(
                    path_of(
                        "autoscaling/v2",
                        "horizontalpodautoscalers",
                        namespace,
                        hpa["metadata"]["name"],
                    )
                    + "/status",
                    {"status": {"currentReplicas": current, "desiredReplicas": wanted}},
                )

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


class LocalStack:
    """Emulated API + session exporter + real Prometheus + the operator + controller stand-in."""

    def __init__(
        self,
        workdir: Path,
        *,
        interval: str = "1s",
        scrape_interval: str = "1s",
        controller_period: float = 0.5,
        clock_start: datetime | None = None,
        clock_speed: float = 1.0,
        clock_origin: float | None = None,
        history: Path | None = None,  # OpenMetrics backfilled into Prometheus before it starts
    ) -> None:
        self.workdir = workdir
        self._stops = Stops()
        try:
            self.cluster = EmulatedCluster()
            self._stops.add(self.cluster.close)
            self.client = self.cluster.client
            self.kubeconfig = self.cluster.kubeconfig(workdir)
            self.exporter = SessionExporter()
            self._stops.add(self.exporter.stop)
            self.prometheus = Prometheus(
                workdir,
                [f"127.0.0.1:{self.exporter.port}"],
                scrape_interval=scrape_interval,
                history=history,
            )
            self._stops.add(self.prometheus.stop)
            clock = []
            if clock_start is not None:
                clock = [f"--clock-start={clock_start.isoformat()}", f"--clock-speed={clock_speed}"]
                if clock_origin is not None:
                    clock.append(f"--clock-origin={clock_origin}")
            self.operator = OperatorProcess(
                workdir,
                kubeconfig=self.kubeconfig,
                prometheus_url=self.prometheus.url,
                interval=interval,
                extra=["--standalone", *clock],
            )
            self._stops.add(self.operator.stop)
            self.controllers = ControllerStandIn(
                self.client, self.exporter.pod_total, controller_period
            )
            self._stops.add(self.controllers.stop)
        except BaseException:
            self.close()
            raise

    def pids(self) -> list[int]:
        return [self.prometheus.process.pid, self.operator.process.pid]

    def close(self) -> None:
        self._stops.close()


@contextmanager
def local_stack(workdir: Path, **options: Any) -> Iterator[LocalStack]:
    stack = LocalStack(workdir, **options)
    try:
        yield stack
    finally:
        stack.close()
