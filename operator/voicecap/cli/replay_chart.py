"""`voicecap replay --png`: sessions against the capacity each strategy provided, per vertical,
peak windows shaded (like `make demo`'s chart). Needs matplotlib (the `demo` extra)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no screen

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from voicecap.api.models import VoiceCapacity
from voicecap.core.peaks.windows import windows_meeting
from voicecap.core.replay.strategies import Strategy, Totals

_STYLE: dict[Strategy, tuple[str, str | tuple[int, tuple[int, int]], str]] = {
    "voicecap": ("tab:green", "-", "voicecap"),
    "reactive": ("tab:purple", "--", "HPA only"),
    "keda-cron": ("tab:red", "-.", "KEDA cron + HPA"),
    "keda-week": ("tab:orange", ":", "KEDA last week + HPA"),
    "oracle": ("black", (0, (1, 3)), "oracle"),
}


def write(
    path: Path,
    results: Sequence[tuple[VoiceCapacity, Mapping[Strategy, Totals]]],
    start: datetime,
    end: datetime,
) -> None:
    """A PNG of each vertical's calls against the capacity each strategy provided."""
    figure, axes = plt.subplots(
        len(results), 1, figsize=(12, 3.2 * len(results)), sharex=True, squeeze=False
    )
    for axis, (capacity, totals) in zip(axes[:, 0], results, strict=True):
        per_pod = capacity.spec.sessions.per_pod
        steps = totals["voicecap"].steps
        times = [step.at for step in steps]
        _shade_peaks(axis, capacity, start, end)
        axis.plot(
            times,
            [step.sessions for step in steps],
            color="tab:blue",
            lw=1.5,
            label="calls (recorded)",
        )
        for name, (color, style, label) in _STYLE.items():
            run = totals[name]
            axis.step(
                times,
                [step.ready * per_pod for step in run.steps],
                where="post",
                color=color,
                ls=style,
                lw=1.3,
                label=f"{label}: {run.blocked_call_minutes:g} blocked call-min, "
                f"{run.pod_hours:g} pod-h",
            )
        axis.set_title(capacity.key, loc="left", fontsize=11, fontweight="bold")
        axis.set_ylabel(f"calls (capacity = ready x {per_pod})")
        axis.set_ylim(bottom=0)
        axis.legend(loc="upper left", fontsize=8, framealpha=0.8)
        axis.set_xlim(start, end)
    axes[-1, 0].set_xlabel("UTC (shaded: peak windows, light: lead time)")
    figure.suptitle("voicecap replay: recorded calls against the capacity each strategy gave")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _shade_peaks(axis: Axes, capacity: VoiceCapacity, start: datetime, end: datetime) -> None:
    for peak in capacity.spec.peaks:
        for window in windows_meeting(peak, start, end):
            axis.axvspan(window.raised_from, window.start, color="tab:orange", alpha=0.12, lw=0)  # type: ignore[arg-type]
            axis.axvspan(window.start, window.end, color="tab:orange", alpha=0.25, lw=0)  # type: ignore[arg-type]
