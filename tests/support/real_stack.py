"""The operator on the real control plane, installed the way a user installs it.

- the control plane of support.control_plane, with Prometheus scraping a session exporter;
- the chart installed by the real helm (`helm install voicecap-operator`), its CRDs (templates),
  ServiceAccount and RBAC included; the chart's own Deployment gets a kwok pod, which runs nothing;
- `voicecap run` as a process authenticated with a token of the chart's ServiceAccount
  (`kubectl create token`), so every call it makes is authorized by the chart's RBAC.

Everything it starts it stops by PID, newest first, even after a failure.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from support.control_plane import HPA_SYNC_PERIOD, ControlPlane, binaries
from support.servers import OperatorProcess, SessionExporter, Stops, free_port

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "voicecap-operator"
HELM = Path(sys.executable).with_name("helm")
RELEASE = "voicecap-operator"
OPERATOR_NAMESPACE = "voicecap-system"
OPERATOR_USER = f"system:serviceaccount:{OPERATOR_NAMESPACE}:{RELEASE}"
WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
AGENT_PORTS = 4  # /metrics ports kept for agent workers (tests/e2e/test_livekit.py), scraped


def helm(plane: ControlPlane, home: Path, *args: str) -> str:
    """The real helm against the control plane, with its caches in `home`."""
    env = {
        **os.environ,
        "KUBECONFIG": str(plane.kubeconfig),
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }
    result = subprocess.run(
        [str(HELM), *args], env=env, capture_output=True, text=True, timeout=180, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"helm {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def wait_for_crds(plane: ControlPlane) -> None:
    """The chart's CRDs (templates since chart 0.2.0) Established: objects can be created."""
    plane.kubectl(
        "wait", "--for=condition=Established", "--timeout=60s",
        "crd/voicecapacities.voicecap.io", "crd/tokenbudgets.voicecap.io",
    )  # fmt: skip


def forbidden_lines(logs: list[Path]) -> list[str]:
    """The lines of these operator logs that report a 403 (RBAC refused a request)."""
    return [
        f"{path.name}: {line}"
        for path in logs
        if path.exists()
        for line in path.read_text().splitlines()
        if re.search(r"[Ff]orbidden|\" 403 ", line)  # not ",403]": a timestamp's milliseconds
    ]


def service_account_kubeconfig(
    plane: ControlPlane, path: Path, namespace: str, account: str
) -> Path:
    """A kubeconfig that acts as the ServiceAccount, with a token the API server issued."""
    token = plane.kubectl("create", "token", account, "-n", namespace, "--duration=24h").strip()
    return plane.kubeconfig_for_token(path, token)


class RealStack:
    """The control plane, the chart, and the operator with the chart's identity."""

    def __init__(
        self,
        workdir: Path,
        *,
        interval: str = "1s",
        start_operator: bool = True,
        scrape_interval: str = "1s",
        hpa_sync_period: str = HPA_SYNC_PERIOD,
    ) -> None:
        self.workdir = workdir
        self._stops = Stops()
        self.starts = 0
        self.logs: list[Path] = []
        try:
            self.exporter = SessionExporter()
            self._stops.add(self.exporter.stop)
            # Prometheus' targets are fixed at its start: ports agent workers take later
            self.agent_ports = [free_port() for _ in range(AGENT_PORTS)]
            self.plane = ControlPlane(
                state=workdir / "cluster",
                bin=binaries(),
                scrape_targets=[
                    f"127.0.0.1:{port}" for port in (self.exporter.port, *self.agent_ports)
                ],
                scrape_interval=scrape_interval,
                hpa_sync_period=hpa_sync_period,
            )
            self._stops.add(self.plane.stop)
            self.plane.start()
            self.helm_home = workdir / "helm"
            helm(
                self.plane, self.helm_home,
                "install", RELEASE, str(CHART), "--namespace", OPERATOR_NAMESPACE,
                "--create-namespace", "--set", f"operator.prometheusUrl={self.plane.prometheus_url}",
                "--set", "rbac.busyPods=true",  # the e2e suite tests busy pods last
            )  # fmt: skip
            wait_for_crds(self.plane)
            self.operator_kubeconfig = service_account_kubeconfig(
                self.plane, workdir / "operator.kubeconfig", OPERATOR_NAMESPACE, RELEASE
            )
            self.interval = interval
            if start_operator:
                self.operator = self.start_operator()
        except BaseException:
            self.close()
            raise

    def start_operator(
        self,
        name: str = "operator",
        *,
        profile: Path | None = None,
        kubeconfig: Path | None = None,
        extra: tuple[str, ...] = ("--standalone",),
    ) -> OperatorProcess:
        """`voicecap run` with the chart's ServiceAccount token (stopped by `close()`). Each
        start logs to a file of its own (operator-1.log, ...), so `forbidden()` sees them all.
        `kubeconfig`: another token of that ServiceAccount (replicas, told apart in audit)."""
        self.starts += 1
        operator = OperatorProcess(
            self.workdir,
            kubeconfig=kubeconfig or self.operator_kubeconfig,
            prometheus_url=self.plane.prometheus_url,
            interval=self.interval,
            extra=list(extra),
            name=f"{name}-{self.starts}",
            profile=profile,
        )
        self._stops.add(operator.stop)
        self.logs.append(operator.log_path)
        return operator

    def operator_requests(self, since: int = 0) -> list[dict[str, Any]]:
        """The requests of the operator's user that the API server's audit log recorded as
        complete, from log entry `since` on (every one, reads included: see AUDIT_POLICY)."""
        return [
            event
            for event in self.plane.audit_events()[since:]
            if event.get("user", {}).get("username") == OPERATOR_USER
            and event.get("stage") == "ResponseComplete"
        ]

    def forbidden(self) -> list[str]:
        """Every line of every operator log so far that reports a 403 from the API server."""
        return forbidden_lines(self.logs)

    def close(self) -> None:
        self._stops.close()


@contextmanager
def real_stack(workdir: Path, **options: Any) -> Iterator[RealStack]:
    stack = RealStack(workdir, **options)
    try:
        yield stack
    finally:
        stack.close()
