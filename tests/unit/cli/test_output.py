"""`-o json` and `-o yaml` print the same document; YAML keeps multi-line text readable."""

from __future__ import annotations

import json

import pytest
import yaml

from support.cli import MONDAY_0855_NEW_YORK, run
from support.objects import EXAMPLES
from voicecap.cli.output import structured


def test_json_and_yaml_are_the_same_document() -> None:
    document = [{"vertical": "healthcare", "floor": 5, "days": "2026-11-26\n2026-12-25\n"}]
    assert json.loads(structured(document, "json")) == document
    text = structured(document, "yaml")
    assert yaml.safe_load(text + "\n") == document  # as print() writes it
    assert "days: |\n" in text  # a literal block, as kubectl prints ConfigMap data


def test_plan_prints_yaml_as_it_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    at = ("--at", MONDAY_0855_NEW_YORK)
    _, as_json, _ = run(capsys, "plan", *map(str, EXAMPLES), *at, "-o", "json")
    code, as_yaml, err = run(capsys, "plan", *map(str, EXAMPLES), *at, "-o", "yaml")
    assert code == 0, err
    assert yaml.safe_load(as_yaml) == json.loads(as_json)
