"""The Kubernetes API, narrowed to what the operator writes: creates, JSON merge patches, reads.

Built on the asyncio client of the official `kubernetes` package (kubernetes.aio). The paths
under /apis (autoscaling/v2, events.k8s.io/v1, monitoring.coreos.com, voicecap.io, kopf.dev) go
through the generic object API, the one core kind (ConfigMaps) through the same client's raw
request, so the bodies stay plain dicts. No strategic merge
patch, no server-side apply, no PUT: merge patches of fields the operator owns work the same on
every API server. Foreign errors become the project's own:
- TransientError (429, 5xx, connection trouble), with the server's Retry-After when it gave one;
- ConflictError (409), NotFoundError (404), RejectedError (any other 4xx: a bug or a policy).

Every write the operator makes goes through here, so this is where writes are counted
(`on_write`, the voicecap_api_writes_total metric), and where the service learns that the API
server answers again after an outage (`answered`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
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
        """ "" for the core API (apiVersion v1)."""
        return self.api_version.rpartition("/")[0]

    @property
    def version(self) -> str:
        return self.api_version.rpartition("/")[2]

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        kind = f"{self.plural}.{self.group}" if self.group else self.plural
        return f"{kind} {where}{self.name or ''}".rstrip()


WriteCounter = Callable[
    [str, str], None
]  # (resource, verb), e.g. ("voicecapacities/status", "patch")


class KubeApi:
    """One client for the operator's lifetime: built at startup, closed at cleanup."""

    def __init__(
        self, api_client: client.ApiClient, *, on_write: WriteCounter | None = None
    ) -> None:
        self._api_client = api_client
        self._objects = client.CustomObjectsApi(api_client)
        self._on_write = on_write or (lambda resource, verb: None)
        self.answered = 0  # calls the API server answered (anything but a transient failure)

    @classmethod
    async def connect(
        cls, *, max_connections: int = 16, on_write: WriteCounter | None = None
    ) -> KubeApi:
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
        return cls(client.ApiClient(configuration), on_write=on_write)

    async def close(self) -> None:
        await self._api_client.close()

    async def get(self, ref: Ref) -> dict[str, Any] | None:
        try:
            return await self._scoped("get", ref, ref.name)
        except NotFoundError:
            return None

    async def create(self, ref: Ref, body: dict[str, Any]) -> dict[str, Any]:
        created = await self._scoped("create", ref, body, field_manager=FIELD_MANAGER)
        self._on_write(ref.plural, "create")
        return created

    async def patch(self, ref: Ref, patch: dict[str, Any]) -> dict[str, Any]:
        """JSON merge patch of the object (without its status)."""
        patched = await self._scoped(
            "patch", ref, ref.name, patch, field_manager=FIELD_MANAGER, _content_type=MERGE_PATCH
        )
        self._on_write(ref.plural, "patch")
        return patched

    async def patch_status(self, ref: Ref, status: dict[str, Any]) -> dict[str, Any]:
        """JSON merge patch of the status subresource."""
        patched = await self._scoped(
            "patch",
            ref,
            ref.name,
            {"status": status},
            suffix="_status",
            field_manager=FIELD_MANAGER,
            _content_type=MERGE_PATCH,
        )
        self._on_write(f"{ref.plural}/status", "patch")
        return patched

    async def delete(self, ref: Ref) -> None:
        """Delete the object; one that is already gone is fine."""
        try:
            await self._scoped("delete", ref, ref.name)
        except NotFoundError:
            return
        self._on_write(ref.plural, "delete")

    async def _scoped(
        self, verb: str, ref: Ref, *args: Any, suffix: str = "", **kwargs: Any
    ) -> dict[str, Any]:
        """Call {verb}_{namespaced or cluster}_custom_object{suffix} for where `ref` lives."""
        if not ref.group:
            return await self._call(self._core, verb, ref, *args, **kwargs)
        scope = "namespaced" if ref.namespace else "cluster"
        method = getattr(self._objects, f"{verb}_{scope}_custom_object{suffix}")
        where = (ref.namespace,) if ref.namespace else ()
        return await self._call(method, ref.group, ref.version, *where, ref.plural, *args, **kwargs)

    async def _core(
        self,
        verb: str,
        ref: Ref,
        *args: Any,
        field_manager: str | None = None,
        _content_type: str = "application/json",
        _request_timeout: float,
    ) -> Any:
        """The same verbs on the core API (/api/v1: ConfigMaps), through the same client."""
        path = f"/api/{ref.version}/namespaces/{ref.namespace}/{ref.plural}"
        method, body = _CORE_VERBS[verb], None
        if verb == "create":
            (body,) = args
        else:
            path += f"/{args[0]}"
            body = args[1] if len(args) > 1 else None
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = _content_type
        query = [("fieldManager", field_manager)] if field_manager else []
        request = await self._api_client.param_serialize(
            method=method,
            resource_path=path,
            query_params=query,
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        response = await self._api_client.call_api(*request, _request_timeout=_request_timeout)
        await response.read()
        return self._api_client.response_deserialize(
            response_data=response, response_types_map={"200": "object", "201": "object"}
        ).data

    async def _call(self, method: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            result = await method(*args, _request_timeout=REQUEST_TIMEOUT_SECONDS, **kwargs)
        except ApiException as error:
            translated = _translate(error)
            if not isinstance(translated, TransientError):
                self.answered += 1
            raise translated from error
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            raise TransientError(f"Kubernetes API unreachable: {error!r}") from error
        self.answered += 1
        return result if isinstance(result, dict) else {}


_CORE_VERBS = {"get": "GET", "create": "POST", "patch": "PATCH", "delete": "DELETE"}


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
