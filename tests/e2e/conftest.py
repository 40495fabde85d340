"""Where the e2e scenarios run:
- E2E_KUBECONFIG set: that cluster (`make e2e-kind`), with E2E_SESSIONS_URL;
- E2E_STACK=local: the embedded local stack (kmock's emulated API, real Prometheus, the operator
  as a process, a stand-in for the HPA and Deployment controllers): fast, for the inner loop;
- otherwise (what `make test` and CI run): the real control plane built from Go modules, the
  chart installed by helm, the operator with the chart's ServiceAccount token (support.real_stack).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from e2e.workloads import EXAMPLE_SESSIONS, NAMESPACE, agent, examples
from support.client import Client, Sessions
from support.real_stack import RealStack, real_stack


@dataclass(frozen=True)
class Where:
    cluster: Client
    sessions: Sessions
    real: RealStack | None = None  # the real control plane this suite started, if it did


@pytest.fixture(scope="session")
def where(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Where]:
    kubeconfig = os.environ.get("E2E_KUBECONFIG")
    if kubeconfig:
        sessions_url = os.environ.get("E2E_SESSIONS_URL")
        if not sessions_url:
            pytest.fail("E2E_KUBECONFIG needs E2E_SESSIONS_URL (the session exporter's address)")
        cluster = Client.from_kubeconfig(Path(kubeconfig), real=True)
        try:
            yield Where(cluster, Sessions(sessions_url))
        finally:
            cluster.close()
        return
    if os.environ.get("E2E_STACK", "real") == "local":
        from support.localstack import local_stack  # noqa: PLC0415  (kmock only for this run)

        with local_stack(tmp_path_factory.mktemp("e2e"), interval="1s") as stack:
            cluster = Client.from_kubeconfig(stack.kubeconfig, real=False)
            try:
                yield Where(cluster, Sessions(stack.exporter.url))
            finally:
                cluster.close()
        return
    with real_stack(tmp_path_factory.mktemp("e2e-real"), interval="1s") as stack:
        cluster = Client.from_kubeconfig(stack.plane.kubeconfig, real=True)
        try:
            yield Where(cluster, Sessions(stack.exporter.url), stack)
        finally:
            cluster.close()
        # the chart's RBAC must cover everything the operator did, in every scenario
        assert stack.forbidden() == [], "\n".join(stack.forbidden())


@pytest.fixture(scope="session")
def cluster(where: Where) -> Client:
    return where.cluster


@pytest.fixture(scope="session")
def sessions(where: Where) -> Sessions:
    return where.sessions


@pytest.fixture(scope="session")
def stack(where: Where) -> RealStack:
    """The real control plane this suite started, for what only it can show (audit log, RBAC)."""
    if where.real is None:
        pytest.skip("needs the control plane `make test` starts (not kind, not the local stack)")
    return where.real


@pytest.fixture(scope="module")
def applied(cluster: Client, sessions: Sessions) -> list[dict[str, Any]]:
    """examples/ with their stand-in agents and calls; each test module applies them once."""
    cluster.ensure_namespace(NAMESPACE)
    docs = examples()
    for doc in docs:
        if doc["kind"] == "VoiceCapacity":
            cluster.apply(agent(doc["spec"]["targetRef"]["name"]))
    for vertical, count in EXAMPLE_SESSIONS.items():
        sessions.set(NAMESPACE, vertical, f"{vertical}-agent-0", count)
    for doc in docs:
        cluster.apply(doc)
    return [doc for doc in docs if doc["kind"] == "VoiceCapacity"]
