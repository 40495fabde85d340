"""The docs: the generated reference pages are current, the README stays a short front page
whose quick start is the two commands, and every flag is documented from one source."""

from __future__ import annotations

import re
import subprocess
import sys

from support.objects import ROOT
from voicecap.cli import build_parser


def test_the_reference_pages_are_what_the_models_and_argparse_generate() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "build_reference.py"), "--check"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_the_readme_is_a_front_page_with_the_two_command_quick_start() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    quick = readme.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in quick.strip().splitlines()]
    assert commands == ["make demo", "make test"]


def test_every_run_flag_is_in_the_cli_reference() -> None:
    reference = (ROOT / "docs" / "reference" / "cli.md").read_text()
    run = build_parser()._subparsers._group_actions[0].choices["run"]  # type: ignore[union-attr]
    flags = {
        flag
        for action in run._actions
        for flag in action.option_strings
        if flag not in {"-h", "--help"}
    }
    missing = {flag for flag in flags if f"`{flag}`" not in reference}
    assert not missing
    # the prose pages point to it instead of repeating the flags
    operating = (ROOT / "docs" / "operating.md").read_text()
    assert not re.search(r"^\| `--interval`", operating, re.MULTILINE)


def test_the_architecture_picture_is_drawn_in_the_site() -> None:
    """docs/concepts.md's Mermaid diagram: the theme draws ```mermaid blocks (mkdocs.yml), and it
    names every object the operator reads and writes."""
    config = (ROOT / "mkdocs.yml").read_text()
    assert "name: mermaid" in config and "fence_code_format" in config
    concepts = (ROOT / "docs" / "concepts.md").read_text()
    diagram = concepts.split("```mermaid", 1)[1].split("```", 1)[0]
    for node in ("VoiceCapacity", "TokenBudget", "Prometheus", "HPA", "PrometheusRule",
                 "limits.json", "Deployment", "gateway"):  # fmt: skip
        assert node in diagram


def test_the_contract_carries_no_editing_marks_and_concepts_one_heading() -> None:
    api = (ROOT / "docs" / "api.md").read_text()
    assert "REVISED" not in api and "Refine and extend" not in api
    headings = [
        line for line in (ROOT / "docs" / "concepts.md").read_text().splitlines()
        if line.lstrip("#").strip() == "Concepts" and line.startswith("#")
    ]  # fmt: skip
    assert len(headings) == 1


def test_the_suite_time_is_said_once_the_same_way() -> None:
    """README and the docs index quote the same measured suite time."""
    said = [
        re.findall(r"suite itself takes about (\d+) minutes", (ROOT / page).read_text())
        for page in ("README.md", "docs/index.md")
    ]
    assert said[0] and said[0] == said[1]
