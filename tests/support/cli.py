"""The `voicecap` command as the CLI tests run it: in-process, its output captured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.objects import EXAMPLES
from voicecap.cli import main

MONDAY_0855_NEW_YORK = "2026-11-23T08:55:00-05:00"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`voicecap ARGV...`: (exit code, stdout, stderr); argparse's own refusals included."""
    try:
        code = main(list(argv))
    except SystemExit as exited:
        code = int(exited.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def plan_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, dict[str, Any]]:
    """`voicecap plan examples/*.yaml -o json ARGV...`, by vertical."""
    code, out, err = run(capsys, "plan", *map(str, EXAMPLES), "--output", "json", *argv)
    assert code == 0, err
    return {item["vertical"]: item for item in json.loads(out)}


def write_manifests(folder: Path, name: str, *documents: Any) -> Path:
    """`documents` as one multi-document YAML file `name` in `folder`."""
    path = folder / name
    path.write_text(yaml.safe_dump_all(documents))
    return path
