"""`voicecap run`: configure Kopf and run the operator until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime

import kopf

from voicecap import handlers  # registers the handlers with Kopf's default registry
from voicecap.adapters import kopf_toggles
from voicecap.service import Clock


@dataclass(frozen=True)
class RunOptions:
    prometheus_url: str
    namespaces: tuple[str, ...] = ()
    interval: float = 15.0
    metrics_port: int | None = 8080
    health_port: int | None = 8081
    bind_address: str = "0.0.0.0"
    peering: str | None = None  # None: Kopf's auto-detected "default" peering, if installed
    standalone: bool = False
    priority: int = 0
    prometheus_rules: bool = True  # watch and write PrometheusRules where they are served
    keda: bool = True  # watch KEDA ScaledObjects where they are served
    log_format: str = "full"
    verbose: bool = False
    clock_start: datetime | None = None
    clock_speed: float = 1.0
    clock_origin: float | None = None  # Unix time at which the clock reads clock_start


def identity() -> str:
    """Unique per process, readable in peering objects and Events (pod name in a cluster)."""
    host = os.environ.get("POD_NAME") or socket.gethostname()
    return f"{_user()}@{host}/{os.getpid()}"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # an image's numeric uid has no passwd entry and no $USER
        return str(os.getuid())


def run(options: RunOptions) -> int:
    kopf.configure(
        verbose=options.verbose,
        log_format={
            "plain": kopf.LogFormat.PLAIN,
            "full": kopf.LogFormat.FULL,
            "json": kopf.LogFormat.JSON,
        }[options.log_format],
    )
    logging.getLogger("voicecap").setLevel(logging.DEBUG if options.verbose else logging.INFO)
    kopf_toggles.install()  # linear start-up with thousands of objects (see the module)
    handlers.register_optional(prometheus_rules=options.prometheus_rules, keda=options.keda)
    me = identity()
    config = handlers.RunConfig(
        prometheus_url=options.prometheus_url,
        interval=options.interval,
        namespaces=options.namespaces,
        identity=me,
        peering=None if options.standalone else (options.peering or "default"),
        priority=options.priority,
        metrics_port=options.metrics_port,
        bind_address=options.bind_address,
        clock=Clock(options.clock_start, options.clock_speed, options.clock_origin),
    )
    liveness = (
        f"http://{options.bind_address}:{options.health_port}/healthz"
        if options.health_port
        else None
    )
    asyncio.run(
        kopf.operator(
            clusterwide=not options.namespaces,
            namespaces=options.namespaces,
            standalone=options.standalone,
            peering_name=options.peering,
            priority=options.priority,
            identity=me,  # type: ignore[arg-type]  # Identity is a NewType of str
            liveness_endpoint=liveness,
            memo=kopf.Memo(config=config),
        )
    )
    return 0
