"""`make demo`: the operator on the embedded local stack, Sunday night to Monday lunch in a minute.

Starts the Kubernetes API emulator, a real Prometheus, a session exporter fed by synthetic call
traffic, the controllers' stand-in and `voicecap run` on a compressed clock; applies examples/;
shows a live table; says when a peak is pre-scaled; writes a PNG chart and a CSV of the run; and
stops everything it started.

    python -m demo [--seconds 60] [--output demo-output]
"""

from __future__ import annotations

import argparse
import csv
import signal
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the local stack lives with the tests that share it

from demo.chart import NEW_YORK, Sample, Window, write_chart  # noqa: E402
from demo.history import WEEKS, write_history  # noqa: E402
from demo.traffic import Vertical, split, verticals  # noqa: E402
from support.kube import deployment, path_of  # noqa: E402
from support.localstack import LocalStack, local_stack  # noqa: E402
from support.servers import alive  # noqa: E402
from voicecap.adapters import manifests  # noqa: E402
from voicecap.api.models import Peak, VoiceCapacity  # noqa: E402
from voicecap.core.peaks.windows import active_window, windows_meeting  # noqa: E402

START = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # Sunday 23:00 in New York
END = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)  # Monday 13:30 New York, 18:30 London
TICK = 0.1  # seconds of real time between traffic updates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="real length of the run")
    parser.add_argument("--output", type=Path, default=ROOT / "demo-output")
    parser.add_argument("--plain", action="store_true", help="print tables, do not redraw")
    args = parser.parse_args(argv)
    if args.seconds < 10:
        parser.error("--seconds must be at least 10")
    signal.signal(signal.SIGTERM, _interrupt)
    args.output.mkdir(parents=True, exist_ok=True)
    speed = (END - START).total_seconds() / args.seconds
    loaded = manifests.load(sorted((ROOT / "examples").glob("*.yaml")))
    if loaded.problems:
        raise SystemExit("\n".join(map(str, loaded.problems)))
    live = sys.stdout.isatty() and not args.plain
    print(f"voicecap demo: {START.astimezone(NEW_YORK):%a %H:%M} to {END.astimezone(NEW_YORK):%a %H:%M} "
          f"New York time at {speed:.0f}x, about {args.seconds:.0f} s. Starting the local stack...")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="voicecap-demo-") as workdir:
        history = write_history(Path(workdir) / "history.om", verticals(), until=START)
        forecast = [f"{c.vertical}/{p.name}" for c in loaded.capacities for p in c.spec.peaks
                    if p.expected_sessions is None]  # fmt: skip
        print(f"  backfilling {WEEKS} weeks of call history into Prometheus (promtool); peaks "
              f"without expectedSessions are pre-scaled from a forecast: {', '.join(forecast)}")  # fmt: skip
        origin = time.time() + 8  # the timeline starts once everything is up (see below)
        with local_stack(
            Path(workdir),
            # three evaluations inside the shortest lead time (10m) at any speed
            interval=f"{min(0.25, 200 / speed):.3f}",
            scrape_interval="500ms",
            controller_period=0.2,
            clock_start=START,
            clock_speed=speed,
            clock_origin=origin,
            history=history,
        ) as stack:
            pids = {
                "operator": stack.operator.process.pid,
                "prometheus": stack.prometheus.process.pid,
            }
            print(f"  API emulator {stack.cluster.url}, Prometheus {stack.prometheus.url} "
                  f"(pid {pids['prometheus']}), operator pid {pids['operator']}")  # fmt: skip
            run = Run(stack, loaded.capacities, speed, origin, live)
            run.apply_examples()
            try:
                run.loop(until=origin + args.seconds)
            except KeyboardInterrupt:
                print("\ninterrupted: stopping the local stack")
            finally:
                run.print_table()
                print(_cycles(stack.operator.metrics()))
        left = [f"{name} ({pid})" for name, pid in pids.items() if alive(pid)]
        print("stopped the operator, Prometheus, the API emulator and the session exporter"
              + (f"; STILL RUNNING: {', '.join(left)}" if left else ""))  # fmt: skip
    chart = args.output / "voicecap-demo.png"
    write_chart(
        chart,
        samples=run.samples,
        per_pod=run.per_pod,
        windows=run.windows(),
        prescaled=run.prescaled,
        speed=speed,
        start=START,
        end=END,
    )
    table = args.output / "voicecap-demo.csv"
    run.write_csv(table)
    print(
        f"wrote {chart.relative_to(ROOT) if chart.is_relative_to(ROOT) else chart} and {table.name}"
    )
    print(f"pre-scaled peaks: {sum(map(len, run.prescaled.values()))}")
    return 1 if left else 0


class Run:
    def __init__(
        self,
        stack: LocalStack,
        capacities: list[VoiceCapacity],
        speed: float,
        origin: float,
        live: bool,
    ) -> None:
        self.stack = stack
        self.capacities = {capacity.vertical: capacity for capacity in capacities}
        self.traffic = {vertical.name: vertical for vertical in verticals()}
        self.per_pod = {name: c.spec.sessions.per_pod for name, c in self.capacities.items()}
        self.speed = speed
        self.origin = origin
        self.live = live
        self.samples: dict[str, list[Sample]] = defaultdict(list)
        self.prescaled: dict[str, list[datetime]] = defaultdict(list)
        self.messages: list[str] = []
        self._statuses: dict[str, dict[str, Any]] = {}
        self._replicas: dict[str, int] = {}

    def now(self) -> datetime:
        return START + timedelta(seconds=(time.time() - self.origin) * self.speed)

    def apply_examples(self) -> None:
        client = self.stack.client
        for vertical, capacity in self.capacities.items():
            client.create(deployment(capacity.namespace, capacity.spec.target_ref.name, ready=1))
            self._replicas[vertical] = 1
        for path in sorted((ROOT / "examples").glob("*.yaml")):
            for body in yaml.safe_load_all(path.read_text()):
                if body:
                    client.create(body)

    def loop(self, *, until: float) -> None:
        next_sample = next_table = 0.0
        while (wall := time.time()) < until:
            if wall >= self.origin:
                self.push_traffic()
            if wall >= next_sample:
                self.sample()
                next_sample = wall + 0.25
            if wall >= next_table:
                self.print_table()
                next_table = wall + (1.0 if self.live else 6.0)
            time.sleep(TICK)

    def push_traffic(self) -> None:
        now = max(self.now(), START)
        for name, vertical in self.traffic.items():
            calls = vertical.calls(now)
            pods = self._replicas.get(name, 1)
            self.stack.exporter.set_vertical(
                vertical.namespace, name, split(calls, pods, vertical.deployment)
            )

    def sample(self) -> None:
        client = self.stack.client
        statuses = {
            body.get("status", {}).get("vertical") or body["metadata"]["name"]: body
            for body in client.items(path_of("voicecap.io/v1alpha1", "voicecapacities", None))
        }
        deployments = {
            body["metadata"]["name"]: body
            for body in client.items(path_of("apps/v1", "deployments", None))
        }
        now = self.now()
        for name, vertical in self.traffic.items():
            body = statuses.get(name, {})
            status = body.get("status", {})
            ready = int(
                deployments.get(vertical.deployment, {}).get("status", {}).get("readyReplicas") or 1
            )
            self._replicas[name] = ready
            self._notice(name, vertical, status)
            self._statuses[name] = status
            if now < START:
                continue
            replicas = status.get("replicas", {})
            self.samples[name].append(
                Sample(
                    at=now,
                    calls=vertical.calls(now),
                    seen=status.get("sessions", {}).get("active"),
                    replicas=ready,
                    floor=replicas.get("floor"),
                    ceiling=replicas.get("ceiling"),
                    mode=status.get("mode"),
                    peak=status.get("activePeak"),
                )
            )

    def _notice(self, name: str, vertical: Vertical, status: dict[str, Any]) -> None:
        """Say when a peak is raised: ahead of its window (pre-scaled), or late."""
        before = self._statuses.get(name, {})
        peak = status.get("activePeak")
        if not peak or peak == before.get("activePeak"):
            return
        entered = next(
            (c for c in status.get("conditions", []) if c["type"] == "PeakActive"), {}
        ).get("lastTransitionTime")
        if not entered:
            return
        # when the operator raised the peak, not when this sample happened to see it
        evaluated = datetime.fromisoformat(entered.replace("Z", "+00:00"))
        spec_peak = next(p for p in self.capacities[name].spec.peaks if p.name == peak)
        window = active_window(spec_peak, evaluated)
        if window is None:
            return
        local = vertical.zone
        floor_before = before.get("replicas", {}).get("floor", "?")
        floor = status.get("replicas", {}).get("floor", "?")
        lead = (window.start - evaluated).total_seconds() / 60
        when = f"{evaluated.astimezone(local):%a %H:%M %Z}"
        if lead > 0:
            self.prescaled[name].append(evaluated)
            text = (f"{when}  {name}: PRE-SCALED for {peak} {lead:.0f} min before it opens at "
                    f"{window.start.astimezone(local):%H:%M}: "
                    + (f"floor {floor_before} -> {floor}" if floor_before != floor else f"floor already {floor} from live calls")
                    + _baseline(spec_peak, status))  # fmt: skip
        else:
            text = f"{when}  {name}: entered {peak} {-lead:.0f} min after it opened: floor {floor}"
        self.messages.append(text)
        if not self.live:
            print(text, flush=True)

    def windows(self) -> dict[str, list[Window]]:
        """Every peak window whose raised span overlaps the run, per vertical, for the chart."""
        found: dict[str, list[Window]] = defaultdict(list)
        for name, capacity in self.capacities.items():
            for peak in capacity.spec.peaks:
                found[name] += [
                    Window(peak.name, window.raised_from, window.start, window.end)
                    for window in windows_meeting(peak, START, END)
                ]
        return found

    def table(self) -> str:
        now = max(self.now(), START)
        progress = min(1.0, max(0.0, (now - START) / (END - START)))
        bar = "#" * round(progress * 30) + "-" * (30 - round(progress * 30))
        lines = [
            f"{now.astimezone(NEW_YORK):%a %Y-%m-%d %H:%M %Z} (New York)  {self.speed:.0f}x  [{bar}]",
            "",
            f"{'VERTICAL':<12} {'LOCAL':<10} {'CALLS':>6} {'UTIL':>5} {'PODS':>5} {'FLOOR':>5} "
            f"{'CEIL':>5} {'MODE':<9} NEXT PEAK",
        ]
        for name, vertical in self.traffic.items():
            status = self._statuses.get(name, {})
            sessions = status.get("sessions", {})
            replicas = status.get("replicas", {})
            utilization = sessions.get("utilization")
            lines.append(
                f"{name:<12} {now.astimezone(vertical.zone):%a %H:%M} "
                f"{_number(sessions.get('active')):>6} "
                f"{(f'{utilization:.0%}' if utilization is not None else '-'):>5} "
                f"{self._replicas.get(name, 0):>5} {_number(replicas.get('floor')):>5} "
                f"{_number(replicas.get('ceiling')):>5} {status.get('mode', '-'):<9} "
                f"{_next_peak(status, vertical, now)}"
            )
        if self.live and self.messages:
            lines += ["", *self.messages[-8:]]
        return "\n".join(lines)

    def print_table(self) -> None:
        if self.live:
            print("\x1b[H\x1b[2J" + self.table(), flush=True)
        else:
            print("\n" + self.table() + "\n", flush=True)

    def write_csv(self, path: Path) -> None:
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(
                [
                    "time",
                    "vertical",
                    "calls",
                    "seen",
                    "replicas",
                    "floor",
                    "ceiling",
                    "mode",
                    "peak",
                ]
            )
            for name, rows in self.samples.items():
                for row in rows:
                    writer.writerow([row.at.isoformat(), name, round(row.calls), row.seen, row.replicas,
                                     row.floor, row.ceiling, row.mode, row.peak])  # fmt: skip


def _next_peak(status: dict[str, Any], vertical: Vertical, now: datetime) -> str:
    if status.get("activePeak"):
        return f"in {status['activePeak']}"
    upcoming = status.get("nextPeak")
    if not upcoming:
        return "-"
    starts = datetime.fromisoformat(upcoming["startsAt"].replace("Z", "+00:00"))
    minutes = int((starts - now).total_seconds() // 60)
    return f"{upcoming['name']} {starts.astimezone(vertical.zone):%a %H:%M} (in {minutes // 60}h{minutes % 60:02d})"


def _baseline(peak: Peak, status: dict[str, Any]) -> str:
    """Where the pre-scale's baseline came from: declared, or forecast from history."""
    forecast = next((f for f in status.get("forecast", []) if f["peak"] == peak.name), {})
    shaped = "in history's shape" if forecast.get("profile") else "flat"
    if peak.expected_sessions is not None:
        return f" (expectedSessions {peak.expected_sessions}, {shaped})"
    if forecast.get("sessions") is None:
        return " (no forecast yet: current calls)"
    return (f" (forecast peak {forecast['sessions']:.0f} calls, the median of "
            f"{forecast['weeksUsed']} past weeks' p{forecast['quantile'] * 100:g}, slot by slot)")  # fmt: skip


def _number(value: Any) -> str:
    return "-" if value is None else f"{value:.0f}"


def _cycles(metrics: str) -> str:
    """The operator's own account of its fleet cycles, from its /metrics."""
    values = {
        line.split()[0]: float(line.split()[1])
        for line in metrics.splitlines()
        if line.startswith(
            ("voicecap_cycle_duration_seconds_sum", "voicecap_cycle_duration_seconds_count")
        )
    }
    count = values.get("voicecap_cycle_duration_seconds_count", 0)
    total = values.get("voicecap_cycle_duration_seconds_sum", 0)
    if not count:
        return "operator: no fleet cycle finished"
    return f"operator: {count:.0f} fleet cycles, {1000 * total / count:.0f} ms each on average"


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
