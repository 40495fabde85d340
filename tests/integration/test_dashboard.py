"""Every query of the Grafana dashboard returns data from a real Prometheus scraping the
operator's /metrics and the session exporter, with the operator running a vertical in a peak
window with a TokenBudget, an admission ConfigMap and a forecast; the committed dashboard JSON
is what dashboards/build.py builds."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from support.history import Vertical, write_openmetrics
from support.kube import workload
from support.localstack import local_stack
from support.objects import BASE_CAPACITY, ROOT
from support.servers import Prometheus, wait_until

pytestmark = pytest.mark.integration

DASHBOARD = ROOT / "dashboards" / "voicecap.json"


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, PromQL) of every target, with Grafana's variables filled in as Grafana
    would for "All": $namespace and $vertical match everything, $__rate_interval is 1m."""
    panels = json.loads(DASHBOARD.read_text())["panels"]
    found = []
    for panel in panels:
        for target in panel.get("targets", []):
            expr = (
                target["expr"]
                .replace("$namespace", ".*")
                .replace("$vertical", ".*")
                .replace("$budget", ".*")
                .replace("$__rate_interval", "1m")
            )
            found.append((panel["title"], expr))
    return found


def variable_queries() -> list[str]:
    """label_values(metric, label) is Grafana's; Prometheus answers it as count by (label)."""
    queries = []
    for variable in json.loads(DASHBOARD.read_text())["templating"]["list"]:
        match = re.fullmatch(r"label_values\((.+), (\w+)\)", variable.get("query") or "")
        if match:
            metric = match.group(1).replace("$namespace", ".*")
            queries.append(f"count by ({match.group(2)}) ({metric})")
    return queries


def instant(url: str, expr: str) -> list[Any]:
    query = urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(f"{url}/api/v1/query?{query}", timeout=10) as response:
        answer = json.load(response)
    assert answer["status"] == "success", (expr, answer)
    return list(answer["data"]["result"])


def test_the_committed_dashboard_is_what_the_builder_builds() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "dashboards" / "build.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_every_panel_query_returns_data(tmp_path: Path) -> None:
    # Three past Mondays of history, so that monday-morning has a forecast to show.
    history = write_openmetrics(
        tmp_path / "history.om",
        [
            Vertical(
                "voice", "healthcare", "America/New_York", anchor=datetime(2026, 11, 23, 9, 0),
                minutes=120, bases={1: 400.0, 2: 380.0, 3: 360.0}, weeks=3,
            )
        ],
    )  # fmt: skip
    # Monday 2026-11-23 09:30 New York: inside healthcare's monday-morning window.
    with local_stack(
        tmp_path,
        history=history,
        interval="0.5",
        clock_start=datetime(2026, 11, 23, 14, 30, tzinfo=UTC),
        clock_speed=1,
    ) as stack:
        k = stack.client
        workload(k, "voice", "healthcare-agent", ready=4)
        stack.exporter.set("voice", "healthcare", "p1", 500)
        k.create(
            {
                "apiVersion": "voicecap.io/v1alpha1",
                "kind": "TokenBudget",
                "metadata": {"name": "openai-realtime"},
                "spec": {"tokensPerMinute": 20_000_000},
            }
        )
        body = copy.deepcopy(BASE_CAPACITY)
        body["spec"]["admission"] = {"configMapRef": {"name": "voice-admission"}}
        k.create(body)
        (tmp_path / "scraper").mkdir()
        scraper = Prometheus(
            tmp_path / "scraper",
            [
                f"127.0.0.1:{stack.exporter.port}",
                f"127.0.0.1:{stack.operator.metrics_port}",
            ],
        )
        try:
            queries = dashboard_queries()
            assert len(queries) >= 12
            for expr in variable_queries():
                wait_until(lambda expr=expr: instant(scraper.url, expr), timeout=60, what=expr)
            for title, expr in queries:
                wait_until(
                    lambda expr=expr: instant(scraper.url, expr),
                    timeout=90,
                    interval=1,
                    what=f"data for {title!r}: {expr}",
                )
        finally:
            scraper.stop()
