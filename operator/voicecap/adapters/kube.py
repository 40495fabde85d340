"""The Kubernetes API, narrowed to what the operator writes: creates, JSON merge patches, reads.

Built on the asyncio client of the official `kubernetes` package (kubernetes.aio). Every path
(autoscaling/v2, events.k8s.io/v1, monitoring.coreos.com, voicecap.io, kopf.dev, and ConfigMaps
in the core group) goes through the client's raw request path, so the bodies stay plain dicts.
No strategic merge patch, no server-side apply, no PUT: merge patches of fields the operator
owns work the same on every API server. Foreign errors become the project's own:
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

    def path(self, name: str | None = None, subresource: str = "") -> str:
        """The REST path: /api/v1/... for the core group, /apis/GROUP/VERSION/... else."""
        root = f"/apis/{self.api_version}" if self.group else f"/api/{self.api_version}"
        where = f"/namespaces/{self.namespace}" if self.namespace else ""
        tail = f"/{name}" if name else ""
        return f"{root}{where}/{self.plural}{tail}" + (f"/{subresource}" if subresource else "")

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
        self._on_write = on_write or (lambda resource, verb: None)
        self.answered = 0  # calls the API server answered (anything but a transient failure)

    @classmethod
    async def connect(
        cls,
        *,
        max_connections: int = 16,
        on_write: WriteCounter | None = None,
        kubeconfig: str | None = None,
        context: str | None = None,
    ) -> KubeApi:
        """In-cluster credentials when running in a pod, else KUBECONFIG (or ~/.kube/config);
        `kubeconfig` and `context` (voicecap run --kubeconfig/--context) choose others."""
        configuration = client.Configuration()
        if kubeconfig is not None or context is not None:
            await config.load_kube_config(
                config_file=kubeconfig, context=context, client_configuration=configuration
            )
        elif os.environ.get("KUBERNETES_SERVICE_HOST"):
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
            return await self._request("GET", ref.path(ref.name))
        except NotFoundError:
            return None

    async def select(self, ref: Ref, *, label_selector: str) -> list[dict[str, Any]]:
        """The objects of one kind in ref.namespace that match `label_selector`."""
        found = await self._call(
            self._raw, "GET", ref.path(), None, query=[("labelSelector", label_selector)]
        )
        return list(found.get("items") or [])

    async def create(self, ref: Ref, body: dict[str, Any]) -> dict[str, Any]:
        created = await self._request("POST", ref.path(), body)
        self._on_write(ref.plural, "create")
        return created

    async def patch(self, ref: Ref, patch: dict[str, Any]) -> dict[str, Any]:
        """JSON merge patch of the object (without its status)."""
        patched = await self._request("PATCH", ref.path(ref.name), patch)
        self._on_write(ref.plural, "patch")
        return patched

    async def patch_status(self, ref: Ref, status: dict[str, Any]) -> dict[str, Any]:
        """JSON merge patch of the status subresource."""
        patched = await self._request("PATCH", ref.path(ref.name, "status"), {"status": status})
        self._on_write(f"{ref.plural}/status", "patch")
        return patched

    async def delete(self, ref: Ref) -> None:
        """Delete the object; one that is already gone is fine."""
        try:
            await self._request("DELETE", ref.path(ref.name))
        except NotFoundError:
            return
        self._on_write(ref.plural, "delete")

    async def _request(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """One call through the client's raw request path. The generated per-kind API classes
        validate every argument with pydantic: a third of the CPU of a write at thousands."""
        return await self._call(self._raw, method, path, body)

    async def _raw(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        *,
        _request_timeout: float,
        query: list[tuple[str, str]] | None = None,
    ) -> Any:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = MERGE_PATCH if method == "PATCH" else "application/json"
        writes = method in {"POST", "PATCH"}
        request = await self._api_client.param_serialize(
            method=method,
            resource_path=path,
            query_params=[("fieldManager", FIELD_MANAGER)] if writes else list(query or []),
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
