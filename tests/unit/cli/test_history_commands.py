"""cli/history_commands.py: `forecast` and `replay` share their flags (files, Prometheus, a
timeout, the output) and each has its own."""

from __future__ import annotations

import pytest

from voicecap.cli import build_parser


@pytest.mark.parametrize("command", ["forecast", "replay"])
def test_both_take_the_shared_flags(command: str) -> None:
    extra = (
        ["--from", "2026-11-16T12:00:00Z", "--to", "2026-11-16T19:00:00Z"]
        if command == "replay"
        else []
    )
    args = build_parser().parse_args(
        [command, "a.yaml", "b.yaml", "--prometheus-url", "http://p:9090", "--timeout", "10s",
         "-o", "json", *extra]
    )  # fmt: skip
    assert (args.files, args.prometheus_url, args.timeout, args.output) == (
        ["a.yaml", "b.yaml"],
        "http://p:9090",
        10.0,
        "json",
    )


def test_the_timeout_defaults_to_30s_and_must_be_positive() -> None:
    assert build_parser().parse_args(["forecast", "a.yaml"]).timeout == 30.0
    with pytest.raises(SystemExit):
        build_parser().parse_args(["forecast", "a.yaml", "--timeout", "0s"])


def test_replay_needs_its_span() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["replay", "a.yaml", "--from", "2026-11-16T12:00:00Z"])
