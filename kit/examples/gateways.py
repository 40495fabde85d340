"""limits.json for gateways that are not Python: FreeSWITCH, Kamailio and Envoy.

    python gateways.py freeswitch LIMITS VERTICAL [--watch]   # fs_cli -x "fsctl max_sessions N"
    python gateways.py kamailio LIMITS VERTICAL [--watch] [--socket unix:/run/kamailio/kamailio_ctl]
    python gateways.py envoy LIMITS VERTICAL --runtime-root DIR --cluster agents [--watch]

- FreeSWITCH: `fsctl max_sessions` caps the switch's sessions (one call leg each; an inbound
  call bridged to an agent is two). With several switches, each takes its share (limits // pods).
- Kamailio: `kamcmd pv.shvSet voicecap_max_sessions int N` sets the limit kamailio.cfg (beside
  this file) admits INVITEs against, counting the dialogs of the vertical's profile.
- Envoy: a filesystem runtime layer (`layered_runtime` disk layer, `symlink_root` DIR/current)
  with `circuit_breakers.<cluster>.default.max_requests` = N: each call's WebSocket is one
  request to the agents' cluster. A new directory per version, then the symlink is swapped,
  the atomic change Envoy's runtime watches for.

With --watch the limit is applied again whenever limits.json's version changes; a missing or
corrupt file keeps the last limit applied (voicecap_kit.LimitsFile), and before any good read
nothing is applied: the gateways' own configuration must start at 0 (kamailio.cfg does).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from voicecap_kit.limits import LimitsFile, VerticalLimits

Apply = Callable[[VerticalLimits], None]


def freeswitch_command(limits: VerticalLimits) -> list[str]:
    """fs_cli's one-shot form of the ESL api command."""
    return ["fs_cli", "-x", f"fsctl max_sessions {limits.max_sessions}"]


def kamailio_command(limits: VerticalLimits, socket: str) -> list[str]:
    return ["kamcmd", "-s", socket, "pv.shvSet", "voicecap_max_sessions", "int",
            str(limits.max_sessions)]  # fmt: skip


def envoy_layer(limits: VerticalLimits, root: Path, cluster: str) -> Path:
    """Writes DIR/v<version>/circuit_breakers/<cluster>/default/max_requests and points
    DIR/current at it (a symlink renamed into place); returns the layer's directory."""
    layer = root / f"v{limits.version}"
    key = layer / "circuit_breakers" / cluster / "default" / "max_requests"
    key.parent.mkdir(parents=True, exist_ok=True)
    key.write_text(f"{limits.max_sessions}\n")
    swap = root / "current.new"
    if swap.is_symlink():
        swap.unlink()
    swap.symlink_to(layer.name)
    os.replace(swap, root / "current")
    return layer


def applier(args: argparse.Namespace) -> Apply:
    if args.gateway == "envoy":
        root = Path(args.runtime_root)
        root.mkdir(parents=True, exist_ok=True)
        return lambda limits: print(envoy_layer(limits, root, args.cluster), flush=True)
    if args.gateway == "kamailio":
        return lambda limits: _run(kamailio_command(limits, args.socket))
    return lambda limits: _run(freeswitch_command(limits))


def _run(command: Sequence[str]) -> None:
    print(" ".join(command), flush=True)
    subprocess.run(command, check=True, timeout=10)


def follow(source: LimitsFile, apply: Apply, *, watch: bool, interval: float = 0.5) -> int:
    """Applies the share of this gateway (limits // pods) once, or at every new version."""
    applied: int | None = None
    while True:
        limits = source.current()
        if limits is not None and limits.version != applied:
            apply(limits.worker_share())
            applied = limits.version
        if not watch:
            return 0 if applied is not None else 1
        time.sleep(interval)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gateway", choices=("freeswitch", "kamailio", "envoy"))
    parser.add_argument("limits", help="the mounted limits.json")
    parser.add_argument("vertical")
    parser.add_argument("--watch", action="store_true", help="apply again at every new version")
    parser.add_argument("--socket", default="unix:/run/kamailio/kamailio_ctl")
    parser.add_argument("--runtime-root", default="/srv/envoy/runtime")
    parser.add_argument("--cluster", default="agents", help="the Envoy cluster of the agents")
    args = parser.parse_args(argv)
    source = LimitsFile(args.limits, args.vertical)
    code = follow(source, applier(args), watch=args.watch)
    if code:
        print(f"no usable limits for {args.vertical} in {args.limits}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
