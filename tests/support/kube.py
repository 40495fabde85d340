"""An emulated Kubernetes API for integration tests: kmock, plus what a real API server would add.

kmock (by the author of Kopf) serves discovery, lists, watches, creates, merge patches and
deletes over real HTTP. What a real API server adds and kmock 0.8 does not (ENVIRONMENT.md) is
stamped here, and only that:
- metadata.uid, namespace, resourceVersion, generation (bumped on spec changes only),
  creationTimestamp, and generateName;
- status isolation: a patch to the object ignores `status`, a patch to /status only sets `status`;
- garbage collection of dependents through ownerReferences when their owner is deleted.
Every write is recorded (`writes`) so tests and benchmarks can count what the operator wrote.

Tests talk to it over HTTP, as kubectl would (support/client.py), never through its internals.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import secrets
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import kmock
import yaml
from kmock._internal import dicts
from kmock._internal.enums import action

from support.client import Client
from support.paths import path_of

__all__ = ["path_of"]  # re-exported: tests import it from here

ROOT = Path(__file__).resolve().parents[2]

# plural resource -> discovery info. Only what the operator and Kopf touch.
RESOURCES: dict[str, dict[str, Any]] = {
    "voicecap.io/v1alpha1/voicecapacities": {
        "kind": "VoiceCapacity",
        "namespaced": True,
        "subresources": {"status"},
        "shortnames": {"vcap"},
    },
    "voicecap.io/v1alpha1/tokenbudgets": {
        "kind": "TokenBudget",
        "namespaced": False,
        "subresources": {"status"},
        "shortnames": {"tb"},
    },
    "autoscaling/v2/horizontalpodautoscalers": {
        "kind": "HorizontalPodAutoscaler",
        "namespaced": True,
        "subresources": {"status"},
    },
    "apps/v1/deployments": {"kind": "Deployment", "namespaced": True, "subresources": {"status"}},
    "apps/v1/statefulsets": {"kind": "StatefulSet", "namespaced": True, "subresources": {"status"}},
    "v1/events": {"kind": "Event", "namespaced": True},
    "v1/configmaps": {"kind": "ConfigMap", "namespaced": True},
    # Kopf waits for the namespaces resource to be served, even when watching cluster-wide.
    "v1/namespaces": {"kind": "Namespace", "namespaced": False},
    "events.k8s.io/v1/events": {"kind": "Event", "namespaced": True},
    "apiextensions.k8s.io/v1/customresourcedefinitions": {
        "kind": "CustomResourceDefinition",
        "namespaced": False,
    },
}
KEDA = {
    "keda.sh/v1alpha1/scaledobjects": {
        "kind": "ScaledObject",
        "namespaced": True,
        "subresources": {"status"},
    }
}
# prometheus-operator: its API, and the CRD object the operator looks for to choose PrometheusRule
# (tests create it when they want prometheus-operator to be "installed").
PROMETHEUS_OPERATOR = {
    "monitoring.coreos.com/v1/prometheusrules": {"kind": "PrometheusRule", "namespaced": True}
}
PROMETHEUS_RULE_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "prometheusrules.monitoring.coreos.com"},
    "spec": {
        "group": "monitoring.coreos.com",
        "names": {"kind": "PrometheusRule", "plural": "prometheusrules"},
        "scope": "Namespaced",
        "versions": [{"name": "v1", "served": True, "storage": True}],
    },
}
PEERING = {
    "kopf.dev/v1/clusterkopfpeerings": {"kind": "ClusterKopfPeering", "namespaced": False},
    "kopf.dev/v1/kopfpeerings": {"kind": "KopfPeering", "namespaced": True},
}
VERBS = {"get", "list", "watch", "create", "patch", "delete"}


@dataclass(frozen=True)
class Write:
    verb: str  # create | patch | delete
    resource: str  # plural, e.g. horizontalpodautoscalers
    namespace: str | None
    name: str | None
    subresource: str | None


class StampingEmulator(kmock.KubernetesEmulator):
    """kmock with the metadata, status isolation and GC of a real API server (see module doc)."""

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.writes: list[Write] = []
        self._versions = itertools.count(1)

    async def _handle(self, request: Any) -> Any:
        # kmock keeps every request for assertions and re-filters that history on each new
        # request (quadratic); these tests assert on state and `writes`, so keep only this one.
        del self._requests[:-1]
        try:
            return await self._stamped(request)
        except kmock.KubernetesError as error:  # kmock 0.8 lets these escape as a 500
            return await self._render_error(error)

    async def _stamped(self, request: Any) -> Any:
        if request.resource is not None and request.action is not None:
            self._record(request)
            if request.action == action.CREATE and isinstance(request.data, dict):
                self._stamp_create(request)
            elif request.action == action.UPDATE and isinstance(request.data, dict):
                self._stamp_update(request)
            elif request.action == action.DELETE and request.name is not None:
                response = await super()._handle(request)
                await self._collect_dependents(request)
                return response
        return await super()._handle(request)

    def _KubernetesEmulator__get_objs(self, request: Any, strict: bool) -> list[Any]:  # noqa: N802
        """kmock scans every object for every request; one object by name is a dict lookup.

        (Name-mangled override of kmock's private lookup: keeps benchmarks with thousands of
        objects from measuring the emulator's linear scans instead of the operator.)
        """
        if strict and request.name is not None:
            key = (request.resource, request.namespace, request.name)
            return [self.objects[key]] if key in self.objects else []
        return [
            obj
            for (resource, namespace, name), obj in self.objects.items()
            if resource == request.resource
            and (
                namespace == request.namespace if strict else request.namespace in {None, namespace}
            )
            and request.name in {None, name}
        ]

    def _record(self, request: Any) -> None:
        verb = {action.CREATE: "create", action.UPDATE: "patch", action.DELETE: "delete"}.get(
            request.action
        )
        if verb is not None:
            self.writes.append(
                Write(
                    verb,
                    request.resource.plural,
                    request.namespace,
                    request.name,
                    request.subresource,
                )
            )

    def _stamp_create(self, request: Any) -> None:
        meta = request.data.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + secrets.token_hex(3)
        if request.namespace:
            meta["namespace"] = request.namespace
        meta["uid"] = str(uuid.uuid4())
        meta["resourceVersion"] = str(next(self._versions))
        meta["generation"] = 1
        meta.setdefault("creationTimestamp", _now())

    def _stamp_update(self, request: Any) -> None:
        data = request.data
        if request.subresource == "status":
            for key in list(data):
                if key != "status":
                    del data[key]
        else:
            data.pop("status", None)
        current = self._current(request)
        meta = data.setdefault("metadata", {})
        meta["resourceVersion"] = str(next(self._versions))
        if current is not None and request.subresource is None:
            merged = dicts.patch_dict(copy.deepcopy(current), data)
            if _content(merged) != _content(current):
                meta["generation"] = int(current.get("metadata", {}).get("generation", 1)) + 1

    def _current(self, request: Any) -> dict[str, Any] | None:
        key = (request.resource, request.namespace, request.name)
        if key not in self.objects or self.objects[key].deleted:
            return None
        return copy.deepcopy(dict(self.objects[key].raw))

    async def _collect_dependents(self, request: Any) -> None:
        """Foreground-free GC: delete what the deleted object owned (by uid)."""
        owner = self._last_uid(request)
        if owner is None:
            return
        async with self._lock:
            doomed = [
                (resource, namespace, name)
                for (resource, namespace, name), obj in self.objects.items()
                if not obj.deleted
                and any(
                    ref.get("uid") == owner
                    for ref in obj.raw.get("metadata", {}).get("ownerReferences", [])
                )
            ]
            for resource, namespace, name in doomed:
                raw = self.objects[resource, namespace, name].raw
                self.objects[resource, namespace, name].delete()
                await self._buses[resource].put({"type": "DELETED", "object": raw})

    def _last_uid(self, request: Any) -> str | None:
        key = (request.resource, request.namespace, request.name)
        if key not in self.objects:
            return None
        for version in reversed(list(self.objects[key].history)):
            if version is not None:
                return version.get("metadata", {}).get("uid")  # type: ignore[no-any-return]
        return None


def _content(obj: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if key not in {"metadata", "status"}}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class EmulatedCluster:
    """A StampingEmulator on 127.0.0.1 in a background thread, with our CRDs installed."""

    def __init__(
        self, *, keda: bool = False, peering: bool = False, prometheus_operator: bool = False
    ) -> None:
        self.emulator = StampingEmulator()
        for key, info in {
            **RESOURCES,
            **(KEDA if keda else {}),
            **(PEERING if peering else {}),
            **(PROMETHEUS_OPERATOR if prometheus_operator else {}),
        }.items():
            self.emulator.resources[key] = kmock.ResourceInfo(verbs=VERBS, **info)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout=10):
            raise TimeoutError("the Kubernetes emulator did not start within 10s")
        self.client = Client.at(self.url)
        for path in sorted((ROOT / "crds").glob("*.yaml")):
            self.client.create(yaml.safe_load(path.read_text()))

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        async with kmock.Server(self.emulator) as server:
            self.url = str(server.url).rstrip("/")
            self._ready.set()
            await self._stop.wait()

    @property
    def writes(self) -> list[Write]:
        return list(self.emulator.writes)

    def kubeconfig(self, directory: Path) -> Path:
        path = directory / "kubeconfig"
        path.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "emulated", "cluster": {"server": self.url}}],
                    "users": [{"name": "tester", "user": {"token": "emulated"}}],
                    "contexts": [
                        {
                            "name": "emulated",
                            "context": {"cluster": "emulated", "user": "tester"},
                        }
                    ],
                    "current-context": "emulated",
                }
            )
        )
        return path

    def close(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)


@contextmanager
def emulated_cluster(**options: bool) -> Iterator[EmulatedCluster]:
    cluster = EmulatedCluster(**options)
    try:
        yield cluster
    finally:
        cluster.close()


def deployment(namespace: str, name: str, *, ready: int = 2) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": ready,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "agent", "image": "voice-agent:1"}]},
            },
        },
    }


def workload(client: Client, namespace: str, name: str, ready: int) -> None:
    """A Deployment whose status says `ready` pods are ready (the emulator runs no controller)."""
    client.create(deployment(namespace, name))
    set_ready(client, namespace, name, ready)


def set_ready(client: Client, namespace: str, name: str, ready: int) -> None:
    client.patch(
        path_of("apps/v1", "deployments", namespace, name) + "/status",
        {"status": {"readyReplicas": ready}},
    )
