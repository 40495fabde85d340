"""The Kubernetes API, narrowed to what the operator writes: creates, JSON merge patches, reads.

Built on the asyncio client of the official `kubernetes` package (kubernetes.aio). Every path
the operator touches lives under /apis (autoscaling/v2, events.k8s.io/v1, voicecap.io, kopf.dev),
so one generic object API serves them all and the bodies stay plain dicts. No strategic merge
patch, no server-side apply, no PUT: merge patches of fields the operator owns work the same on
every API server. Foreign errors become the project's own:
- TransientError (429, 5xx, connection trouble), with the server's Retry-After when it gave one;
- ConflictError (409), NotFoundError (404), RejectedError (any other 4xx: a bug or a policy).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import aiohttp
from kubernetes.aio import client, config
from kubernetes.aio.client.exceptions import ApiException
from kubernetes.aio.config.config_exception import ConfigException

FIELD_MANAGER = "voicecap-operator"
MERGE_PATCH = "application/merge-patch+json"
REQUEST_TIMEOUT_SECONDS = 10.0


class KubeError(Exception):
    """An API call that did not do what was asked."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TransientError(KubeError):
    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class ConflictError(KubeError):
    pass


class NotFoundError(KubeError):
    pass


class RejectedError(KubeError):
    pass


@dataclass(frozen=True)
class Ref:
    """Where an object lives: apiVersion (always with a group), plural, namespace, name."""

    api_version: str
    plural: str
    namespace: str | None = None
    name: str | None = None

    @property
    def group(self) -> str:
        return self.api_version.split("/", 1)[0]

    @property
    def version(self) -> str:
        return self.api_version.split("/", 1)[1]

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.plural}.{self.group} {where}{self.name or ''}".rstrip()


class KubeApi:
    """One client for the operator's lifetime: built at startup, closed at cleanup."""

    def __init__(self, api_client: client.ApiClient) -> None:
        self._api_client = api_client
        self._objects = client.CustomObjectsApi(api_client)

    @classmethod
    async def connect(cls, *, max_connections: int = 16) -> KubeApi:
        """In-cluster credentials when running in a pod, else KUBECONFIG (or ~/.kube/config)."""
        configuration = client.Configuration()
        if os.environ.get("KUBERNETES_SERVICE_HOST"):
            try:
                config.load_incluster_config(client_configuration=configuration)
            except ConfigException:
                await config.load_kube_config(client_configuration=configuration)
        else:
            await config.load_kube_config(client_configuration=configuration)
        configuration.connection_pool_maxsize = max_connections
        return cls(client.ApiClient(configuration))

    async def close(self) -> None:
        await self._api_client.close()

    async def get(self, ref: Ref) -> dict[str, Any] | None:
        try:
            return await self._scoped("get", ref, ref.name)
        except NotFoundError:
            return None

    async def create(self, ref: Ref, body: dict[str, Any]) -> dict[str, Any]:
        return await self._scoped("create", ref, body, field_manager=FIELD_MANAGER)

    async def patch(self, ref: Ref, patch: dict[str, Any]) -> dict[str, Any]:
        """JSON merge patch of the object (without its status)."""
        return await self._scoped(
            "patch", ref, ref.name, patch, field_manager=FIELD_MANAGER, _content_type=MERGE_PATCH
        )

    async def patch_status(self, ref: Ref, status: dict[str, Any]) -> dict[str, Any]:
        """JSON merge patch of the status subresource."""
        return await self._scoped(
            "patch",
            ref,
            ref.name,
            {"status": status},
            suffix="_status",
            field_manager=FIELD_MANAGER,
            _content_type=MERGE_PATCH,
        )

    async def _scoped(
        self, verb: str, ref: Ref, *args: Any, suffix: str = "", **kwargs: Any
    ) -> dict[str, Any]:
        """Call {verb}_{namespaced or cluster}_custom_object{suffix} for where `ref` lives."""
        scope = "namespaced" if ref.namespace else "cluster"
        method = getattr(self._objects, f"{verb}_{scope}_custom_object{suffix}")
        where = (ref.namespace,) if ref.namespace else ()
        return await self._call(method, ref.group, ref.version, *where, ref.plural, *args, **kwargs)

    async def _call(self, method: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            result = await method(*args, _request_timeout=REQUEST_TIMEOUT_SECONDS, **kwargs)
        except ApiException as error:
            raise _translate(error) from error
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            raise TransientError(f"Kubernetes API unreachable: {error!r}") from error
        return result if isinstance(result, dict) else {}


def _translate(error: ApiException) -> KubeError:
    status = int(error.status or 0)
    message = f"{status} {error.reason}: {_server_message(error)}"
    if status == 404:
        return NotFoundError(message, status=status)
    if status == 409:
        return ConflictError(message, status=status)
    if status == 429 or status >= 500 or status == 0:
        return TransientError(message, status=status, retry_after=_retry_after(error))
    return RejectedError(message, status=status)


def _server_message(error: ApiException) -> str:
    try:
        return str(json.loads(error.body or "{}").get("message", "")) or str(error.body)[:200]
    except (ValueError, AttributeError):
        return str(error.body)[:200]


def _retry_after(error: ApiException) -> float | None:
    headers = error.headers or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff
