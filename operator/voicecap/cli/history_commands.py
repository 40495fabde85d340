"""The flags of the commands that read history from Prometheus: `voicecap forecast`,
`voicecap calibrate` and `voicecap replay`."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from voicecap.cli import calibrate, forecast, replay
from voicecap.cli.output import OUTPUTS
from voicecap.cli.prometheus_flags import add_prometheus_flags


def add_history_commands(
    commands: Any, instant: Callable[[str], datetime], duration: Callable[[str], float]
) -> None:
    """Add `forecast` and `replay`, the commands that read history from Prometheus."""

    def common(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "files",
            nargs="+",
            metavar="FILE",
            help="YAML or JSON files, directories (recursed for .yaml, .yml, .json) or - for stdin",
        )
        add_prometheus_flags(command)
        command.add_argument(
            "--timeout", type=duration, default=30.0, help="per query (default 30s)"
        )
        command.add_argument("--output", "-o", choices=OUTPUTS, default="table")

    forecast_parser = commands.add_parser(
        "forecast",
        help="forecast each peak from the vertical's session history in Prometheus",
        description="For each VoiceCapacity and peak in FILE: the weekly values inside the "
        "peak's window, forecastSessions, the floor it implies, the 28-day burst factor, and a "
        "suggested spec change (docs/api.md Forecasts).",
    )
    common(forecast_parser)
    forecast_parser.add_argument(
        "--at", type=instant, help="forecast as of this instant (ISO 8601); default: now"
    )
    forecast_parser.set_defaults(handler=forecast.forecast)

    calibrate_parser = commands.add_parser(
        "calibrate",
        help="measure per-pod capacity (from latency) and tokens per call-minute (from real "
        "use) for VoiceCapacities, and the spec changes they suggest",
        description="For each VoiceCapacity in FILE with spec.latency or spec.model: the per-pod "
        "capacity its pods' latency shows (the calls at which the latency quantile reaches "
        "latency.target, with the samples and the load range behind it), the tokens per "
        "call-minute it used, each against the declared value, and what to change "
        "(docs/api.md Measured inputs). Run it before turning sessions.perPodFrom or "
        "model.tokensFrom to Measured.",
    )
    common(calibrate_parser)
    calibrate_parser.add_argument(
        "--at", type=instant, help="measure as of this instant (ISO 8601); default: now"
    )
    calibrate_parser.set_defaults(handler=calibrate.calibrate)

    replay_parser = commands.add_parser(
        "replay",
        help="replay recorded sessions through the planner beside the HPA alone, KEDA's cron "
        "scaler, KEDA's last-week recipe, a perfect-foresight oracle and a fixed size",
        description="Run the planner over the sessions Prometheus recorded between --from and "
        "--to, step by step, and report per vertical what users lose and pay: blocked "
        "call-minutes, minutes short, peak utilization, pod-hours (and their ratio to the "
        "oracle's) and cost, for voicecap, the HPA alone, KEDA's cron minimum plus the HPA, "
        "KEDA's trigger on last week's calls plus the HPA (it reads the week before --from), "
        "the oracle and replicas.min (docs/api.md Replay).",
    )
    common(replay_parser)
    replay_parser.add_argument("--from", dest="from_", type=instant, required=True)
    replay_parser.add_argument("--to", type=instant, required=True)
    replay_parser.add_argument("--step", type=duration, default=60.0, help="default 1m")
    replay_parser.add_argument(
        "--pod-startup",
        type=duration,
        default=120.0,
        help="how long a new pod takes to become ready (default 2m)",
    )
    replay_parser.add_argument(
        "--cost-per-pod-hour",
        type=float,
        metavar="PRICE",
        help="also report each strategy's cost: pod-hours x PRICE (0 or more)",
    )
    replay_parser.add_argument("--png", type=Path, help="also draw the replay into this PNG")
    replay_parser.set_defaults(handler=replay.replay_command)
