"""What forecast.trend buys on a growing business: the benchmark's growth trace with its history
grown 5 % and 8 % a week, forecast with trend Off and Weekly, then simulated call by call.

    .venv/bin/python bench/trend.py [--rates 0.05 0.08] [--seed 1]

Prints per rate and setting the forecast against the calls that came, the weekly growth and the
backtest the forecast reports, calls rejected and pod-hours ÷ the oracle's.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "operator"))

from callsim import product, sim  # noqa: E402
from callsim.history import Forecaster  # noqa: E402
from callsim.traces import surge, traces, weekly  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[0.05, 0.08])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    base = next(trace for trace in traces(HERE.parent) if trace.name == "growth")
    for rate in args.rates:
        for trend in ("Off", "Weekly"):
            spec = json.loads(json.dumps(base.spec))
            spec.setdefault("forecast", {})["trend"] = trend
            trace = dataclasses.replace(
                base, history_rate=weekly(surge, growth=rate, seed=13), spec=spec
            )
            forecaster = Forecaster(trace, product.Planner, args.seed)
            capacity = product.Planner.capacity(spec)
            raised = forecaster.raised(capacity, trace.start().replace(hour=13, minute=50))
            (forecast,) = raised.values()
            came = max(forecaster.today.values())
            ran = sim.run(trace, "voicecap", product.Planner, forecaster, args.seed)
            oracle = sim.run(trace, "oracle", product.Planner, forecaster, args.seed)
            print(
                f"growth {rate:.0%}/week, trend {trend:<6}: forecast {forecast.sessions:.0f} of "
                f"{came:.0f} that came ({forecast.sessions / came:.2f}), weekly growth "
                f"{forecast.trend}, backtest {forecast.backtest}, rejected {ran.rejected}, "
                f"pod-hours / oracle {ran.pod_hours / oracle.pod_hours:.2f}"
            )


if __name__ == "__main__":
    main()
