"""cli/args.py: the argument types every command shares: instants with an offset, durations."""

from __future__ import annotations

import pytest

from support.objects import EXAMPLES
from voicecap.cli import main


def test_at_needs_an_offset(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["plan", str(EXAMPLES[0]), "--at", "2026-11-23T08:55:00"])
    assert exit_info.value.code == 2
    assert "has no UTC offset" in capsys.readouterr().err


@pytest.mark.parametrize(("interval", "seconds"), [("15s", 15.0), ("1m30s", 90.0), ("0.25", 0.25)])
def test_run_interval_takes_durations_and_bare_seconds(interval: str, seconds: float) -> None:
    from voicecap.cli.args import duration as _duration  # noqa: PLC0415

    assert _duration(interval) == seconds
