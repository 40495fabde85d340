"""`voicecap run`: configure Kopf and run the operator until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import socket
from dataclasses import replace

import kopf

from voicecap import handlers  # registers the handlers with Kopf's default registry
from voicecap.adapters import kopf_toggles, kopf_watches
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
    kopf_toggles.install()  # linear start-up with thousands of objects (see the module)
    kopf_watches.install()  # re-listed caches forget deletions; a failed watch lists again
    handlers.register_optional(prometheus_rules=settings.prometheus_rules, keda=settings.keda)
    settings = replace(settings, identity=identity())
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
