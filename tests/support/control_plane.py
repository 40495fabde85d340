"""A real Kubernetes control plane as processes on 127.0.0.1, built from Go modules.

etcd, kube-apiserver (RBAC, audit log, aggregation layer), kube-controller-manager (Deployment,
ReplicaSet, HPA, garbage collector, namespace and service-account controllers, each with its own
service-account credentials), kube-scheduler, kwok (fake Nodes: Pods get scheduled and become
Running and Ready without containers), a real Prometheus scraping a session exporter, and
prometheus-adapter registered as `v1beta1.custom.metrics.k8s.io` reading that Prometheus.
The binaries come from tests/cluster/build.sh (cached by go.sum).

Tests use `control_plane()` (a context manager that stops everything by PID); `make cluster-up`
and `make cluster-down` run this module, which keeps its processes, PIDs and kubeconfig in a
state folder (default `.cluster/`):

    python -m support.control_plane up [--state .cluster]    # prints the kubeconfig path
    python -m support.control_plane down [--state .cluster]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from support import pki
from support.servers import alive, free_port, stop_process, wait_until

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "tests" / "cluster" / "build.sh"
NODE_NAME = "kwok-node-0"
SERVICE_CIDR = "10.96.0.0/16"
HPA_SYNC_PERIOD = "3s"  # the HPA controller's default is 15s; tests want its answer sooner
START_TIMEOUT = 90.0  # per component; the API server's first start on a cold disk takes ~10 s
ADAPTER_CONFIG = """\
rules:
  - seriesQuery: 'voice_active_sessions{namespace!="",pod!=""}'
    resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
    name: {as: voice_active_sessions_per_pod}
    metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
"""
# Every request of a ServiceAccount in voicecap-system (the operator's, reads too: requests per
# cycle), then every write by anyone (the ground truth for "how many writes").
OPERATOR_GROUP = "system:serviceaccounts:voicecap-system"
AUDIT_POLICY = f"""\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    userGroups: ["{OPERATOR_GROUP}"]
  - level: None
    verbs: [get, list, watch]
  - level: Metadata
"""
# What the components' own identities may do, as the real installs grant it. The aggregation
# layer's delegated authentication and authorization is what prometheus-adapter's manifests bind.
BOOTSTRAP = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kwok-controller}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: kwok-controller}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: prometheus-adapter-resource-reader}
rules:
  - apiGroups: [""]
    resources: [namespaces, pods, services, nodes]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: prometheus-adapter-resource-reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: prometheus-adapter-resource-reader}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: prometheus-adapter}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: prometheus-adapter-auth-delegator}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:auth-delegator}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: prometheus-adapter}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: prometheus-adapter-auth-reader, namespace: kube-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: extension-apiserver-authentication-reader}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: prometheus-adapter}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: custom-metrics-reader}
rules:
  - apiGroups: [custom.metrics.k8s.io]
    resources: ["*"]
    verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: hpa-controller-custom-metrics}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: custom-metrics-reader}
subjects: [{kind: ServiceAccount, name: horizontal-pod-autoscaler, namespace: kube-system}]
"""


def binaries() -> Path:
    """The folder of built binaries: tests/cluster/build.sh builds once per go.sum."""
    if not shutil.which("go"):
        raise RuntimeError("Go is not installed: the real control plane is built from Go modules")
    result = subprocess.run(
        ["bash", str(BUILD)], check=False, capture_output=True, text=True, timeout=3600
    )
    if result.returncode != 0:
        raise RuntimeError(f"tests/cluster/build.sh failed:\n{result.stderr[-4000:]}")
    return Path(result.stdout.strip().splitlines()[-1])


class KubectlError(RuntimeError):
    """kubectl exited non-zero; the message carries what it printed on stderr."""


@dataclass
class Process:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    command: list[str] = field(default_factory=list)


@dataclass
class ControlPlane:
    """Start with `start()`; everything it started, `stop()` stops by PID, newest first."""

    state: Path
    bin: Path
    detach: bool = False  # `make cluster-up`: processes outlive this Python process
    scrape_targets: list[str] = field(default_factory=list)
    scrape_interval: str = "1s"  # tests want fresh samples; a fleet of thousands wants slower
    hpa_sync_period: str = HPA_SYNC_PERIOD  # bench/keda_compare.py uses Kubernetes' 15s
    processes: list[Process] = field(default_factory=list)
    _stopped: dict[str, tuple[int, list[str]]] = field(default_factory=dict)  # by stop_component
    _first: dict[str, list[str]] = field(default_factory=dict)  # commands of the first starts

    def start(self) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        self.audit = AuditLog(self.state / "audit.log")
        self.pki = self.state / "pki"
        self.pki.mkdir(exist_ok=True)
        try:
            self._certificates()
            self._etcd()
            self._apiserver()
            self.kubectl("apply", "-f", "-", stdin=BOOTSTRAP)
            self._controllers()
            self._kwok()
            self._prometheus()
            self._adapter()
            self.wait_ready()
        except BaseException:
            self.stop()
            raise

    # ---- what tests use ----------------------------------------------------------------------

    @property
    def kubeconfig(self) -> Path:
        """The admin kubeconfig (user `voicecap-admin` in system:masters)."""
        return self.state / "kubeconfig"

    def kubectl(
        self,
        *args: str,
        stdin: str | None = None,
        kubeconfig: Path | None = None,
        timeout: float = 60,
    ) -> str:
        result = subprocess.run(
            [str(self.bin / "kubectl"), f"--kubeconfig={kubeconfig or self.kubeconfig}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise KubectlError(f"kubectl {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout

    def kubeconfig_for_token(self, path: Path, token: str) -> Path:
        """A kubeconfig that authenticates with a bearer token (a ServiceAccount's)."""
        self._write_kubeconfig(path, {"token": token})
        return path

    def audit_events(self) -> list[dict[str, Any]]:
        """What the API server recorded so far: every write, and every request of the operator."""
        return self.audit.read()

    def url(self) -> str:
        return f"https://127.0.0.1:{self.apiserver_port}"

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """The API is healthy, the kwok node Ready, and custom metrics are served."""
        wait_until(self._node_ready, timeout=timeout, interval=0.5, what=f"{NODE_NAME} Ready")
        wait_until(
            lambda: self._get("/apis/custom.metrics.k8s.io/v1beta1") is not None,
            timeout=timeout,
            interval=0.5,
            what="custom.metrics.k8s.io served through the aggregation layer",
        )
        wait_until(
            lambda: self._get("/api/v1/namespaces/default/serviceaccounts/default") is not None,
            timeout=timeout,
            interval=0.5,
            what="the default ServiceAccount (service-account controller running)",
        )

    def stop(self) -> None:
        while self.processes:
            stop_process(self.processes.pop().process, grace=15)
        with contextlib.suppress(FileNotFoundError):
            (self.state / "pids.json").unlink()

    # ---- faults (bench/faults.py) ------------------------------------------------------------

    def stop_component(self, name: str, *, kill: bool = False) -> None:
        """Stop one component by PID (SIGTERM, or SIGKILL); `start_component` starts it again
        with the same command line (etcd keeps its data directory, Prometheus its TSDB)."""
        index, item = self._component(name)
        stop_process(item.process, grace=15, kill=kill)
        self._stopped[name] = (index, item.command)
        self._first.setdefault(name, item.command)
        del self.processes[index]

    def start_component(
        self, name: str, *, edit: Callable[[list[str]], list[str]] | None = None
    ) -> None:
        """Start a stopped component again with the flags of its first start, changed by `edit`
        (a throttled API server) for this start only. Returns once it answers again."""
        index, _ = self._stopped.pop(name)
        command = self._first[name]
        args = command[1:] if edit is None else edit(command[1:])
        self._spawn(name, args, Path(command[0]), at=index)
        self._wait_answering(name)

    def pause_component(self, name: str) -> None:
        """SIGSTOP: the component keeps its connections and answers nothing (a hang, a GC
        pause); `resume_component` lets it go on where it was."""
        self._component(name)[1].process.send_signal(signal.SIGSTOP)

    def resume_component(self, name: str) -> None:
        self._component(name)[1].process.send_signal(signal.SIGCONT)

    def _wait_answering(self, name: str) -> None:
        """Until the component serves (after its first start and after a restart); components
        without a health endpoint of their own return at once."""
        probes: dict[str, tuple[Callable[[], bool], str]] = {
            "etcd": (
                lambda: self._plain_ok(f"http://127.0.0.1:{self.etcd_port}/health"),
                "etcd healthy",
            ),
            "kube-apiserver": (lambda: self._get("/readyz") is not None, "kube-apiserver ready"),
            "prometheus": (
                lambda: self._plain_ok(f"{self.prometheus_url}/-/ready"),
                "Prometheus ready",
            ),
        }
        if name in probes:
            check, what = probes[name]
            wait_until(check, timeout=START_TIMEOUT, interval=0.2, what=what)

    def _component(self, name: str) -> tuple[int, Process]:
        for index, item in enumerate(self.processes):
            if item.name == name:
                return index, item
        raise KeyError(f"no running component {name!r}")

    # ---- components --------------------------------------------------------------------------

    def _certificates(self) -> None:
        self.ca = pki.Authority(self.pki, "ca")
        self.front_proxy_ca = pki.Authority(self.pki, "front-proxy-ca")
        self.serving = self.ca.issue(
            "apiserver",
            common_name="kube-apiserver",
            hosts=("127.0.0.1", "localhost", "kubernetes", "kubernetes.default",
                   "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "10.96.0.1"),
        )  # fmt: skip
        self.front_proxy_client = self.front_proxy_ca.issue(
            "front-proxy-client", common_name="front-proxy-client"
        )
        self.service_accounts = pki.service_account_keys(self.pki)
        self.apiserver_port = free_port()
        clients = {  # certificate name: (kubeconfig, user, groups)
            "admin": ("kubeconfig", "voicecap-admin", ("system:masters",)),
            "controller-manager": (
                "controller-manager.kubeconfig",
                "system:kube-controller-manager",
                (),
            ),
            "scheduler": ("scheduler.kubeconfig", "system:kube-scheduler", ()),
            "kwok": ("kwok.kubeconfig", "kwok-controller", ()),
            "adapter": ("adapter.kubeconfig", "prometheus-adapter", ()),
        }
        for name, (filename, user, groups) in clients.items():
            pair = self.ca.issue(name, common_name=user, groups=groups)
            self._write_kubeconfig(
                self.state / filename,
                {"client-certificate": str(pair.cert), "client-key": str(pair.key)},
            )

    def _write_kubeconfig(self, path: Path, user: dict[str, str]) -> None:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "voicecap",
                    "cluster": {
                        "server": f"https://127.0.0.1:{self.apiserver_port}",
                        "certificate-authority": str(self.ca.pair.cert),
                    },
                }
            ],
            "users": [{"name": "user", "user": user}],
            "contexts": [{"name": "voicecap", "context": {"cluster": "voicecap", "user": "user"}}],
            "current-context": "voicecap",
        }
        path.write_text(yaml.safe_dump(config))
        path.chmod(0o600)

    def _etcd(self) -> None:
        self.etcd_port, peer = free_port(), free_port()
        client, peer_url = f"http://127.0.0.1:{self.etcd_port}", f"http://127.0.0.1:{peer}"
        self._spawn(
            "etcd",
            [
                "--name=voicecap",
                f"--data-dir={self.state / 'etcd'}",
                f"--listen-client-urls={client}",
                f"--advertise-client-urls={client}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=voicecap={peer_url}",
                "--unsafe-no-fsync",  # a throw-away test store: durability costs seconds
                "--quota-backend-bytes=8589934592",
                "--log-level=warn",
            ],
        )
        self._wait_answering("etcd")

    def _apiserver(self) -> None:
        (self.state / "audit-policy.yaml").write_text(AUDIT_POLICY)
        self._spawn(
            "kube-apiserver",
            [
                f"--etcd-servers=http://127.0.0.1:{self.etcd_port}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={self.apiserver_port}",
                f"--tls-cert-file={self.serving.cert}",
                f"--tls-private-key-file={self.serving.key}",
                f"--client-ca-file={self.ca.pair.cert}",
                "--authorization-mode=Node,RBAC",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={self.service_accounts.cert}",
                f"--service-account-signing-key-file={self.service_accounts.key}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                # nothing here routes to a Service IP, and the `kubernetes` Service's endpoint
                # would be a loopback address, which Endpoints validation refuses
                "--endpoint-reconciler-type=none",
                f"--audit-policy-file={self.state / 'audit-policy.yaml'}",
                f"--audit-log-path={self.state / 'audit.log'}",
                "--audit-log-format=json",
                "--audit-log-mode=blocking",
                "--audit-log-maxsize=0",
                f"--requestheader-client-ca-file={self.front_proxy_ca.pair.cert}",
                "--requestheader-allowed-names=front-proxy-client",
                "--requestheader-username-headers=X-Remote-User",
                "--requestheader-group-headers=X-Remote-Group",
                "--requestheader-extra-headers-prefix=X-Remote-Extra-",
                f"--proxy-client-cert-file={self.front_proxy_client.cert}",
                f"--proxy-client-key-file={self.front_proxy_client.key}",
                "--allow-privileged=true",
                "--profiling=false",
                "--max-requests-inflight=1600",
                "--max-mutating-requests-inflight=800",
            ],
        )
        self._wait_answering("kube-apiserver")

    def _controllers(self) -> None:
        kcm = self.state / "controller-manager.kubeconfig"
        self._spawn(
            "kube-controller-manager",
            [
                f"--kubeconfig={kcm}",
                f"--authentication-kubeconfig={kcm}",
                f"--authorization-kubeconfig={kcm}",
                "--bind-address=127.0.0.1",
                f"--secure-port={free_port()}",
                "--leader-elect=false",
                "--use-service-account-credentials=true",
                f"--service-account-private-key-file={self.service_accounts.key}",
                f"--root-ca-file={self.ca.pair.cert}",
                f"--horizontal-pod-autoscaler-sync-period={self.hpa_sync_period}",
                "--kube-api-qps=200",  # defaults (20/30) throttle a fleet of thousands
                "--kube-api-burst=400",
                "--concurrent-deployment-syncs=20",
                "--concurrent-replicaset-syncs=20",
                "--concurrent-horizontal-pod-autoscaler-syncs=20",
            ],
        )
        scheduler = self.state / "scheduler.kubeconfig"
        (self.state / "scheduler.yaml").write_text(
            "apiVersion: kubescheduler.config.k8s.io/v1\n"
            "kind: KubeSchedulerConfiguration\n"
            f"clientConnection: {{kubeconfig: {scheduler}, qps: 200, burst: 400}}\n"
            "leaderElection: {leaderElect: false}\n"
        )
        self._spawn(
            "kube-scheduler",
            [
                f"--config={self.state / 'scheduler.yaml'}",
                f"--authentication-kubeconfig={scheduler}",
                f"--authorization-kubeconfig={scheduler}",
                "--bind-address=127.0.0.1",
                f"--secure-port={free_port()}",
            ],
        )

    def _kwok(self) -> None:
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": NODE_NAME,
                "annotations": {"kwok.x-k8s.io/node": "fake"},
                "labels": {"kubernetes.io/hostname": NODE_NAME, "type": "kwok"},
            },
            "status": {
                "allocatable": {"cpu": "1000", "memory": "4Ti", "pods": "20000"},
                "capacity": {"cpu": "1000", "memory": "4Ti", "pods": "20000"},
            },
        }
        self.kubectl("apply", "-f", "-", stdin=json.dumps(node))
        self._spawn(
            "kwok",
            [
                f"--kubeconfig={self.state / 'kwok.kubeconfig'}",
                f"--config={self.bin / 'kwok-stages.yaml'}",
                "--manage-all-nodes=false",
                "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
                # renew the node's Lease, or the node lifecycle controller marks it NotReady
                # after its grace period (and every pod on it with it)
                "--node-lease-duration-seconds=40",
                "--cidr=10.240.0.1/12",
                "--node-ip=10.250.0.1",
                f"--server-address=127.0.0.1:{free_port()}",
            ],
        )

    def _prometheus(self) -> None:
        self.prometheus_port = free_port()
        targets = ", ".join(f"'{target}'" for target in self.scrape_targets)
        config = self.state / "prometheus.yml"
        config.write_text(
            f"global: {{scrape_interval: {self.scrape_interval}, "
            f"evaluation_interval: {self.scrape_interval}}}\n"
            f"scrape_configs:\n  - job_name: voice\n    static_configs: [{{targets: [{targets}]}}]\n"
        )
        binary = shutil.which("prometheus")
        if binary is None:
            raise RuntimeError("prometheus is not installed: `make test` installs it (apt-get)")
        self._spawn(
            "prometheus",
            [
                f"--config.file={config}",
                f"--storage.tsdb.path={self.state / 'prometheus'}",
                f"--web.listen-address=127.0.0.1:{self.prometheus_port}",
                "--storage.tsdb.retention.time=2h",
            ],
            binary=Path(binary),
        )
        self._wait_answering("prometheus")

    @property
    def prometheus_url(self) -> str:
        return f"http://127.0.0.1:{self.prometheus_port}"

    def _adapter(self) -> None:
        port = free_port()
        config = self.state / "adapter.yaml"
        config.write_text(ADAPTER_CONFIG)
        kubeconfig = self.state / "adapter.kubeconfig"
        (self.state / "adapter-certs").mkdir(exist_ok=True)
        self._spawn(
            "prometheus-adapter",
            [
                f"--lister-kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                "--bind-address=127.0.0.1",
                f"--secure-port={port}",
                f"--cert-dir={self.state / 'adapter-certs'}",
                f"--prometheus-url={self.prometheus_url}/",
                f"--config={config}",
                "--metrics-relist-interval=2s",
            ],
        )
        self.register_api_service(
            "custom.metrics.k8s.io", "v1beta1", "prometheus-adapter", "kube-system", port
        )

    def register_api_service(
        self, group: str, version: str, service: str, namespace: str, port: int
    ) -> None:
        """Serve `group/version` through the aggregation layer from a process on loopback.

        The aggregation layer reaches an APIService through a Service; an ExternalName Service
        points it at localhost (what kwokctl does for its metrics-server). The adapters'
        serving certificates are self-signed, hence insecureSkipTLSVerify."""
        self.kubectl(
            "apply",
            "-f",
            "-",
            stdin=yaml.safe_dump_all(
                [
                    {
                        "apiVersion": "v1",
                        "kind": "Service",
                        "metadata": {"name": service, "namespace": namespace},
                        "spec": {"type": "ExternalName", "externalName": "localhost"},
                    },
                    {
                        "apiVersion": "apiregistration.k8s.io/v1",
                        "kind": "APIService",
                        "metadata": {"name": f"{version}.{group}"},
                        "spec": {
                            "group": group,
                            "version": version,
                            "groupPriorityMinimum": 100,
                            "versionPriority": 100,
                            "insecureSkipTLSVerify": True,
                            "service": {"name": service, "namespace": namespace, "port": port},
                        },
                    },
                ]
            ),
        )

    # ---- plumbing ----------------------------------------------------------------------------

    def _spawn(
        self, name: str, args: list[str], binary: Path | None = None, *, at: int | None = None
    ) -> None:
        log = self.state / f"{name}.log"
        command = [str(binary or self.bin / name), *args]
        with log.open("ab") as out:
            process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=self.detach,
            )
        item = Process(name, process, log, command)
        self.processes.insert(len(self.processes) if at is None else at, item)
        (self.state / "pids.json").write_text(
            json.dumps({item.name: item.process.pid for item in self.processes})
        )
        time.sleep(0.1)
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited at once:\n{log.read_text()[-3000:]}")

    def _context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca.pair.cert))
        context.load_cert_chain(self.pki / "admin.crt", self.pki / "admin.key")
        return context

    def _get(self, path: str) -> dict[str, Any] | None:
        self._check_alive()
        try:
            with urllib.request.urlopen(
                f"{self.url()}{path}", timeout=5, context=self._context()
            ) as response:
                body = response.read()
        except (urllib.error.URLError, OSError):
            return None
        try:
            return dict(json.loads(body)) if body.startswith(b"{") else {"text": body.decode()}
        except ValueError:
            return None

    def _plain_ok(self, url: str) -> bool:
        self._check_alive()
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def _node_ready(self) -> bool:
        node = self._get(f"/api/v1/nodes/{NODE_NAME}") or {}
        conditions = node.get("status", {}).get("conditions", [])
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    def _check_alive(self) -> None:
        for item in self.processes:
            if item.process.poll() is not None:
                raise RuntimeError(
                    f"{item.name} exited with {item.process.returncode}:\n"
                    f"{item.log.read_text()[-3000:]}"
                )


class AuditLog:
    """The API server's audit log, parsed once: each read parses only what was appended."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._events: list[dict[str, Any]] = []
        self._offset = 0

    def read(self) -> list[dict[str, Any]]:
        if self.path.exists():
            with self.path.open("rb") as log:
                log.seek(self._offset)
                chunk = log.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]  # a line still being written waits
            self._offset += len(complete)
            self._events.extend(json.loads(line) for line in complete.splitlines() if line)
        return self._events


def _terminate(pid: int, *, grace: float) -> None:
    """SIGTERM, wait up to `grace` seconds, then SIGKILL. For `down`, which has only the PIDs
    that `up` left behind; a process this module holds is stopped with `stop_process`."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while alive(pid) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@contextmanager
def control_plane(
    state: Path, scrape_targets: list[str], scrape_interval: str = "1s"
) -> Iterator[ControlPlane]:
    plane = ControlPlane(
        state=state, bin=binaries(), scrape_targets=scrape_targets, scrape_interval=scrape_interval
    )
    plane.start()
    try:
        yield plane
    finally:
        plane.stop()


# ---- make cluster-up / cluster-down ----------------------------------------------------------


def up(state: Path) -> None:
    if (state / "pids.json").exists():
        sys.exit(f"a cluster already runs from {state}: `make cluster-down` first")
    shutil.rmtree(state, ignore_errors=True)
    exporter_port = free_port()
    state.mkdir(parents=True)
    with (state / "session-exporter.log").open("ab") as out:
        exporter = subprocess.Popen(
            [sys.executable, str(ROOT / "tests/support/session_exporter.py"),
             "--host=127.0.0.1", f"--port={exporter_port}"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    plane = ControlPlane(
        state=state,
        bin=binaries(),
        detach=True,
        scrape_targets=[f"127.0.0.1:{exporter_port}"],
    )
    plane.processes.append(Process("session-exporter", exporter, state / "session-exporter.log"))
    plane.start()
    env = state / "env.sh"
    env.write_text(
        f"export KUBECONFIG={plane.kubeconfig}\n"
        f"export VOICECAP_PROMETHEUS_URL={plane.prometheus_url}\n"
        f"export VOICECAP_SESSIONS_URL=http://127.0.0.1:{exporter_port}\n"
        f"export PATH={plane.bin}:$PATH\n"
    )
    print(f"control plane up: {plane.url()}")
    print(f"  kubeconfig:  {plane.kubeconfig}")
    print(f"  prometheus:  {plane.prometheus_url}")
    print(f"  sessions:    http://127.0.0.1:{exporter_port}/sessions/NAMESPACE/VERTICAL/POD")
    print(f"  binaries:    {plane.bin}")
    print(f"  `source {env}` sets KUBECONFIG, VOICECAP_PROMETHEUS_URL and PATH (kubectl)")


def down(state: Path) -> None:
    pids_file = state / "pids.json"
    if pids_file.exists():
        pids: dict[str, int] = json.loads(pids_file.read_text())
        for name, pid in reversed(list(pids.items())):
            if alive(pid):
                _terminate(pid, grace=15)
                print(f"stopped {name} (pid {pid})")
    shutil.rmtree(state, ignore_errors=True)
    print(f"removed {state}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m support.control_plane")
    parser.add_argument("action", choices=["up", "down", "build"])
    parser.add_argument("--state", type=Path, default=ROOT / ".cluster")
    options = parser.parse_args()
    if options.action == "build":
        print(binaries())
    elif options.action == "up":
        up(options.state.resolve())
    else:
        down(options.state.resolve())


if __name__ == "__main__":
    main()
