"""The demo's PNG: calls, capacity and replicas per vertical over the run, peaks shaded.

Capacity is ready pods x perPod, so one green line reads as capacity on the left axis and as
replicas on the right one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import matplotlib

matplotlib.use("Agg")  # files only, no screen

import matplotlib.dates as mdates
import matplotlib.pyplot as plt

NEW_YORK = ZoneInfo("America/New_York")


@dataclass(frozen=True)
class Sample:
    at: datetime
    calls: float  # what the traffic generator served
    seen: float | None  # what the operator read from Prometheus (status.sessions.active)
    replicas: int  # ready pods of the Deployment
    floor: int | None
    ceiling: int | None
    mode: str | None
    peak: str | None


@dataclass(frozen=True)
class Window:
    name: str
    raised_from: datetime  # start - lead time
    start: datetime
    end: datetime


def write_chart(
    path: Path,
    *,
    samples: Mapping[str, Sequence[Sample]],
    per_pod: Mapping[str, int],
    windows: Mapping[str, Sequence[Window]],
    prescaled: Mapping[str, Sequence[datetime]],
    speed: float,
    start: datetime,
    end: datetime,
) -> None:
    names = list(samples)
    figure, axes = plt.subplots(len(names), 1, figsize=(12, 3.1 * len(names)), sharex=True)
    for axis, name in zip(axes, names, strict=True):
        rows = samples[name]
        times = [row.at for row in rows]
        capacity = [row.replicas * per_pod[name] for row in rows]
        floor_capacity = [(row.floor or 0) * per_pod[name] for row in rows]
        for window in windows.get(name, []):
            axis.axvspan(window.raised_from, window.start, color="tab:orange", alpha=0.15, lw=0)
            axis.axvspan(window.start, window.end, color="tab:orange", alpha=0.3, lw=0)
            axis.text(window.start, 0.97, f" {window.name}", transform=axis.get_xaxis_transform(),
                      va="top", fontsize=8, color="tab:brown")  # fmt: skip
        axis.plot(times, [row.calls for row in rows], color="tab:blue", lw=1.6, label="calls")
        axis.step(times, capacity, where="post", color="tab:green", lw=1.4,
                  label=f"capacity (ready pods x {per_pod[name]})")  # fmt: skip
        axis.step(times, floor_capacity, where="post", color="tab:green", lw=1, ls="--",
                  alpha=0.7, label="floor x perPod")  # fmt: skip
        for moment in prescaled.get(name, []):
            axis.axvline(moment, color="tab:red", lw=1, ls=":")
            axis.text(moment, 0.85, " pre-scaled", transform=axis.get_xaxis_transform(),
                      fontsize=8, color="tab:red")  # fmt: skip
        axis.set_ylabel("calls")
        axis.set_ylim(bottom=0)
        axis.set_title(name, loc="left", fontsize=11, fontweight="bold")
        pods = per_pod[name]
        replicas_axis = axis.secondary_yaxis(
            "right",
            functions=(lambda calls, pods=pods: calls / pods, lambda n, pods=pods: n * pods),
        )
        replicas_axis.set_ylabel(f"ready pods (capacity / {pods})", color="tab:green")
        axis.legend(loc="upper left", fontsize=8, framealpha=0.8)
        axis.set_xlim(start, end)
    axes[-1].xaxis.set_major_formatter(mdates.DateFormatter("%a %H:%M", tz=NEW_YORK))
    axes[-1].set_xlabel("time in New York (shaded: peak windows, light: lead time)")
    figure.suptitle(
        f"voicecap-operator demo: Sunday night to Monday lunch at {speed:.0f}x", fontsize=13
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
