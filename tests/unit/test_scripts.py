"""Every script in bench/, demo/, dashboards/ and docs/ answers --help at once (its sizes are
arguments, never a run started by asking how to run it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support.objects import ROOT

SCRIPTS = sorted(
    path
    for folder in ("bench", "dashboards", "docs")
    for path in (ROOT / folder).glob("*.py")
    if "__name__" in path.read_text()
)


@pytest.mark.parametrize("script", [*SCRIPTS, "demo"], ids=lambda s: Path(s).name)
def test_help_prints_usage_and_starts_nothing(script: Path | str) -> None:
    command = [sys.executable, "-m", "demo"] if script == "demo" else [sys.executable, str(script)]
    done = subprocess.run(
        [*command, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage:"), done.stdout[:200]
