"""Where the e2e scenarios run: a real cluster when E2E_KUBECONFIG is set (`make e2e-kind`), else
the embedded local stack (emulated API, real Prometheus, the operator as a process)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e.cluster import Cluster, Sessions


@pytest.fixture(scope="session")
def cluster_and_sessions(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Cluster, Sessions]]:
    kubeconfig = os.environ.get("E2E_KUBECONFIG")
    if kubeconfig:
        sessions_url = os.environ.get("E2E_SESSIONS_URL")
        if not sessions_url:
            pytest.fail("E2E_KUBECONFIG needs E2E_SESSIONS_URL (the session exporter's address)")
        cluster = Cluster(Path(kubeconfig), real=True)
        try:
            yield cluster, Sessions(sessions_url)
        finally:
            cluster.close()
        return
    from support.localstack import local_stack  # noqa: PLC0415  (kmock only for the local run)

    with local_stack(tmp_path_factory.mktemp("e2e"), interval="1s") as stack:
        cluster = Cluster(stack.kubeconfig, real=False)
        try:
            yield cluster, Sessions(stack.exporter.url)
        finally:
            cluster.close()


@pytest.fixture(scope="session")
def cluster(cluster_and_sessions: tuple[Cluster, Sessions]) -> Cluster:
    return cluster_and_sessions[0]


@pytest.fixture(scope="session")
def sessions(cluster_and_sessions: tuple[Cluster, Sessions]) -> Sessions:
    return cluster_and_sessions[1]
