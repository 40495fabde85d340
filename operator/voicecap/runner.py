"""`voicecap run`: configure Kopf and run the operator until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import socket
import time
import zlib
from dataclasses import replace

import kopf

from voicecap import handlers  # registers the handlers with Kopf's default registry
from voicecap.adapters import credentials, kopf_toggles, kopf_watches
from voicecap.settings import Settings


def identity() -> str:
    """Unique per process, readable in peering objects and Events (pod name in a cluster)."""
    host = os.environ.get("POD_NAME") or socket.gethostname()
    return f"{_user()}@{host}/{os.getpid()}"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # an image's numeric uid has no passwd entry and no $USER
        return str(os.getuid())


def auto_priority(started_ms: int, identity: str) -> int:
    """--priority=auto: the replica that started first writes, so a restarted replica never
    takes over from a healthy one (no handover on every restart). Priorities are negated start
    times in milliseconds, with three digits from the identity so that two replicas started in
    the same millisecond still differ (Kopf pauses every peer of equal priority)."""
    return -(started_ms * 1000 + zlib.crc32(identity.encode()) % 1000)


def run(settings: Settings) -> int:
    kopf.configure(
        verbose=settings.verbose,
        log_format={
            "plain": kopf.LogFormat.PLAIN,
            "full": kopf.LogFormat.FULL,
            "json": kopf.LogFormat.JSON,
        }[settings.log_format],
    )
    logging.getLogger("voicecap").setLevel(logging.DEBUG if settings.verbose else logging.INFO)
    if not settings.verbose:  # "Handler 'reconcile' succeeded." on every watch event is noise
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    # One line and exit 2 for unusable credentials or a missing CRD; an API server that does not
    # answer yet is waited for (adapters/credentials.py says why Kopf is not left to it).
    where = credentials.Where(settings.kubeconfig, settings.context)
    credentials.wait_for_api(where, credentials.load(where))
    kopf_toggles.install()  # linear start-up with thousands of objects (see the module)
    kopf_watches.install()  # re-listed caches forget deletions; a failed watch lists again
    handlers.register_optional(prometheus_rules=settings.prometheus_rules, keda=settings.keda)
    me = identity()
    settings = replace(
        settings,
        identity=me,
        priority=auto_priority(time.time_ns() // 1_000_000, me)
        if settings.auto_priority
        else settings.priority,
    )
    liveness = (
        f"http://{settings.bind_address}:{settings.health_port}/healthz"
        if settings.health_port
        else None
    )
    asyncio.run(
        kopf.operator(
            clusterwide=not settings.namespaces,
            namespaces=settings.namespaces,
            standalone=settings.standalone,
            peering_name=settings.peering,
            priority=settings.priority,
            identity=settings.identity,  # type: ignore[arg-type]  # Identity is a NewType of str
            liveness_endpoint=liveness,
            memo=kopf.Memo(settings=settings),
        )
    )
    return 0
