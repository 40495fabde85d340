"""How fast the pure core plans: plans per second for a fleet of N VoiceCapacities.

    .venv/bin/python bench/core_plans.py [N ...]

Each object has two peaks in different time zones and a TPM reservation against one budget,
so a plan exercises cron windows, the budget allocation and stabilization memory.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from voicecap.api.models import TokenBudget, VoiceCapacity
from voicecap.core.budgets.fleet import plan_fleet
from voicecap.core.planner.observation import Observation

ZONES = ["America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London"]


def fleet(size: int) -> list[VoiceCapacity]:
    return [
        VoiceCapacity.model_validate(
            {
                "metadata": {"name": f"vertical-{index}", "namespace": f"ns-{index % 50}"},
                "spec": {
                    "targetRef": {"name": f"agent-{index}"},
                    "sessions": {"perPod": 200},
                    "replicas": {"min": 2, "max": 40},
                    "peaks": [
                        {
                            "name": "monday",
                            "schedule": "0 9 * * MON",
                            "duration": "2h",
                            "timeZone": ZONES[index % 4],
                            "expectedSessions": 600,
                        },
                        {
                            "name": "evening",
                            "schedule": "0 18 * * MON-FRI",
                            "duration": "14h",
                            "timeZone": ZONES[(index + 1) % 4],
                        },
                    ],
                    "model": {
                        "budgetRef": "shared",
                        "reservedTPM": 1_000_000,
                        "priority": index % 7,
                    },
                },
            }
        )
        for index in range(size)
    ]


def main(sizes: list[int]) -> None:
    budget = TokenBudget.model_validate(
        {"metadata": {"name": "shared"}, "spec": {"tokensPerMinute": 2_000_000_000}}
    )
    now = datetime(2026, 11, 23, 13, 55, tzinfo=UTC)
    print(f"{'objects':>8} {'cycles':>7} {'seconds/cycle':>14} {'plans/second':>13}")
    for size in sizes:
        capacities = fleet(size)
        observations = {
            c.key: Observation(sessions=400 + i % 300, sampled_at=now, ready_replicas=4)
            for i, c in enumerate(capacities)
        }
        memories = None
        cycles = 3
        started = time.perf_counter()
        for cycle in range(cycles):
            at = now + timedelta(seconds=15 * cycle)
            plans = plan_fleet(capacities, [budget], observations, at, memories)
            memories = {c.key: p.memory for c, p in zip(capacities, plans, strict=True)}
        elapsed = (time.perf_counter() - started) / cycles
        print(f"{size:>8} {cycles:>7} {elapsed:>14.3f} {size / elapsed:>13,.0f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100, 1000, 5000],
                        help="VoiceCapacities per fleet (default: 100 1000 5000)")  # fmt: skip
    main(parser.parse_args().sizes)
