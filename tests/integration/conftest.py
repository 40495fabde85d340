"""A real Prometheus scraping a synthetic session exporter, shared by a module's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.servers import Prometheus, SessionExporter


@pytest.fixture(scope="module")
def exporter() -> Iterator[SessionExporter]:
    server = SessionExporter()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def prometheus(
    exporter: SessionExporter, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Prometheus]:
    server = Prometheus(tmp_path_factory.mktemp("prometheus"), [f"127.0.0.1:{exporter.port}"])
    yield server
    server.stop()
