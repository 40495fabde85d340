"""`voicecap` under pyinstrument, for the benches (bench/operator_fleet.py --profile DIR).

    python -m support.profiled REPORT.txt run ...

Samples the main thread (the event loop: Kopf, the fleet cycle, every reconcile) every 5 ms.
SIGUSR1 writes the report so far to REPORT.txt, while the operator keeps running: a process
that is stopped may be killed before an at-exit report is written.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import FrameType

from pyinstrument import Profiler
from pyinstrument.renderers import ConsoleRenderer

from voicecap.cli import main


def run(report: Path, argv: list[str]) -> int:
    profiler = Profiler(interval=0.005, async_mode="disabled")

    def write(signum: int, frame: FrameType | None) -> None:
        session = profiler.stop()
        tree = ConsoleRenderer(show_all=False).render(session)
        flat = ConsoleRenderer(flat=True, flat_time="self").render(session)  # library frames too
        report.write_text(f"{tree}\n--- self time by function ---\n{flat}")
        profiler.start()

    signal.signal(signal.SIGUSR1, write)
    profiler.start()
    return main(argv)


if __name__ == "__main__":
    sys.exit(run(Path(sys.argv[1]), sys.argv[2:]))
