"""The one Kubernetes client of the integration and e2e tests, and the client of the session
exporter the tests' Prometheus scrapes.

The same client talks to the API emulator, the real control plane and a kind cluster, through
the kubernetes library's ApiClient, so authentication is whatever the kubeconfig says.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import yaml
from jsonpath_ng.ext import parse as jsonpath
from kubernetes import config
from kubernetes.client import ApiClient, Configuration
from kubernetes.client.exceptions import ApiException

from support.paths import collection_of, path_of

ROOT = Path(__file__).resolve().parents[2]
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


class Client:
    """The one client the integration and e2e tests use, over HTTP as kubectl would: on the real
    control plane, on kind, and on the API emulator (support/kube.py). `real`: the server is a
    real API server (namespaces exist as objects, tables are rendered)."""

    def __init__(self, api: ApiClient, *, real: bool) -> None:
        self.real = real
        self.api = api

    @classmethod
    def from_kubeconfig(cls, kubeconfig: Path, *, real: bool) -> Client:
        return cls(config.new_client_from_config(config_file=str(kubeconfig)), real=real)

    @classmethod
    def at(cls, url: str) -> Client:
        """A client of the API emulator at `url` (plain HTTP, no credentials)."""
        return cls(ApiClient(Configuration(host=url)), real=False)

    def close(self) -> None:
        self.api.close()

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        accept: str = "application/json",
    ) -> dict[str, Any]:
        request = self.api.param_serialize(
            method,
            path,
            header_params={"Content-Type": content_type, "Accept": accept},
            body=body,
            auth_settings=["BearerToken"],
        )
        response = self.api.call_api(*request, _request_timeout=15)
        response.read()
        if not 200 <= response.status < 300:
            raise ApiException(http_resp=response)
        return json.loads(response.data or b"{}")  # type: ignore[no-any-return]

    def get(self, path: str) -> dict[str, Any] | None:
        try:
            return self.request("GET", path)
        except ApiException as error:
            if error.status == 404:
                return None
            raise

    def items(self, path: str) -> list[dict[str, Any]]:
        return list(self.request("GET", path).get("items", []))

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", collection_of(obj), obj)

    def apply(self, obj: dict[str, Any]) -> None:
        """kubectl apply, for objects this suite owns: create, or merge-patch the spec."""
        try:
            self.create(obj)
        except ApiException as error:
            if error.status != 409:
                raise
            self.patch(f"{collection_of(obj)}/{obj['metadata']['name']}", {"spec": obj["spec"]})

    def patch(self, path: str, patch: dict[str, Any]) -> dict[str, Any]:
        return self.request("PATCH", path, patch, content_type="application/merge-patch+json")

    def delete(self, path: str) -> None:
        try:
            self.request("DELETE", path)
        except ApiException as error:
            if error.status != 404:
                raise

    def ensure_namespace(self, name: str) -> None:
        if not self.real:
            return  # the emulator serves every namespace without a Namespace object
        try:
            self.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        except ApiException as error:
            if error.status != 409:
                raise

    def printer_columns(self, plural: str, namespace: str) -> dict[str, dict[str, str]]:
        """`kubectl get` columns by object name: the server's Table where the API serves it,
        else evaluated from the CRD's additionalPrinterColumns as the API server would."""
        path = path_of("voicecap.io/v1alpha1", plural, namespace)
        answer = self.request("GET", path, accept=TABLE)
        if answer.get("kind") == "Table":
            names = [column["name"] for column in answer["columnDefinitions"]]
            return {
                row["object"]["metadata"]["name"]: dict(
                    zip(names, map(_cell, row["cells"]), strict=True)
                )
                for row in answer["rows"]
            }
        crd = yaml.safe_load((ROOT / "crds" / f"voicecap.io_{plural}.yaml").read_text())
        columns = crd["spec"]["versions"][0]["additionalPrinterColumns"]
        table = {}
        for obj in answer.get("items", []):
            row = {"Name": obj["metadata"]["name"]}
            for column in columns:
                found = jsonpath("$" + column["jsonPath"]).find(obj)
                row[column["name"]] = _cell(found[0].value) if found else "<none>"
            table[obj["metadata"]["name"]] = row
        return table


def _cell(value: Any) -> str:
    return "<none>" if value is None else str(value)


class Sessions:
    """Sets voice_active_sessions series on the session exporter the cluster's Prometheus scrapes."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def set(self, namespace: str, vertical: str, pod: str, value: float) -> None:
        request = urllib.request.Request(
            f"{self.url}/sessions/{namespace}/{vertical}/{pod}",
            data=str(value).encode(),
            method="PUT",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 204

    def clear_vertical(self, namespace: str, vertical: str) -> None:
        request = urllib.request.Request(
            f"{self.url}/sessions/{namespace}/{vertical}", method="DELETE"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 204

    def clear(self) -> None:
        request = urllib.request.Request(f"{self.url}/sessions", method="DELETE")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def set_latency(self, namespace: str, vertical: str, pod: str, seconds: float) -> None:
        """From now on the pod answers in `seconds` (voice_ttfb_seconds)."""
        self._send("PUT", f"latency/{namespace}/{vertical}/{pod}", seconds)

    def add(self, metric: str, namespace: str, vertical: str, amount: float) -> None:
        """Count `amount` more on a vertical's counter (e.g. voice_model_rate_limited_total)."""
        self._send("POST", f"counters/{metric}/{namespace}/{vertical}", amount)

    def _send(self, method: str, path: str, value: float) -> None:
        request = urllib.request.Request(
            f"{self.url}/{path}", data=str(value).encode(), method=method
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 204
