"""cli/run.py: `voicecap run`'s flags and what it refuses before it starts Kopf."""

from __future__ import annotations

import pytest

from support.cli import run
from voicecap.cli import main


def test_run_without_a_prometheus_url_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VOICECAP_PROMETHEUS_URL", raising=False)
    code, _, err = run(capsys, "run")
    assert code == 2
    assert "pass --prometheus-url or set VOICECAP_PROMETHEUS_URL" in err


@pytest.mark.parametrize("interval", ["0s", "soon", "-5s", "0", "nan", "inf", "-0.5"])
def test_run_rejects_a_bad_interval(capsys: pytest.CaptureFixture[str], interval: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["run", "--prometheus-url", "http://127.0.0.1:9", f"--interval={interval}"])
    assert exited.value.code == 2
    assert "--interval" in capsys.readouterr().err


def test_run_takes_one_of_namespaces_or_all(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--prometheus-url", "http://x", "--namespace", "voice", "--all-namespaces"])
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--priority=first"], "not an integer or 'auto'"),
        (["--peering-lifetime=10"], "--peering-lifetime must be at least 11 seconds"),
    ],
)
def test_run_rejects_bad_peering_flags(
    capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    try:
        code = main(["run", "--prometheus-url", "http://127.0.0.1:9", *flags])
    except SystemExit as exited:  # argparse's own refusals
        code = int(exited.code or 0)
    assert code == 2
    assert message in capsys.readouterr().err
