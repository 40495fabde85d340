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
