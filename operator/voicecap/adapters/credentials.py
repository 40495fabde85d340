"""Where `voicecap run` gets its API credentials, checked before Kopf starts.

In a pod with no --kubeconfig: the ServiceAccount (in-cluster). Otherwise a kubeconfig
(--kubeconfig, else $KUBECONFIG's first file, else ~/.kube/config) and a context (--context, else
the current one). Why check first: Kopf, given no usable credentials, logs a traceback and retries
every minute forever; given a cluster without our CRDs, it waits silently. Here an unusable
kubeconfig and a missing CRD are one line and exit 2; a usable one whose API server does not
answer is retried with a line per attempt and a bounded back-off (a Deployment whose API server
is briefly away should wait, not crash-loop).
"""

from __future__ import annotations

import copy
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import kopf
import kubernetes.client
import kubernetes.config
import urllib3
import yaml
from kubernetes.client.exceptions import ApiException

log = logging.getLogger("voicecap")
GROUP, VERSION = "voicecap.io", "v1alpha1"
REQUIRED = ("voicecapacities", "tokenbudgets")
BACKOFF = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0)  # then every 30 s: bounded, never a tight loop


class CredentialsError(Exception):
    """No usable credentials or no CRDs: the message is one line for the user."""


@dataclass(frozen=True)
class Where:
    """What the operator was told to use: a kubeconfig file and context, or in-cluster."""

    kubeconfig: str | None = None
    context: str | None = None

    def describe(self) -> str:
        return "in-cluster ServiceAccount" if self.in_cluster else f"kubeconfig {self.path}"

    @property
    def in_cluster(self) -> bool:
        return (
            self.kubeconfig is None
            and self.context is None
            and bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
        )

    @property
    def path(self) -> str:
        if self.kubeconfig:
            return self.kubeconfig
        listed = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
        return listed or str(Path("~/.kube/config").expanduser())


def load(where: Where) -> kubernetes.client.Configuration:
    """The client configuration, or CredentialsError naming what is wrong with it."""
    configuration = kubernetes.client.Configuration()
    try:
        if where.in_cluster:
            kubernetes.config.load_incluster_config(  # type: ignore[no-untyped-call]
                client_configuration=configuration
            )
            return configuration
        if not Path(where.path).is_file():
            raise CredentialsError(
                f"kubeconfig {where.path}: no such file (set --kubeconfig or KUBECONFIG, or run "
                "in a pod with a ServiceAccount)"
            )
        kubernetes.config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=where.path, context=where.context, client_configuration=configuration
        )
    except CredentialsError:
        raise
    except (kubernetes.config.ConfigException, yaml.YAMLError, OSError, ValueError) as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise CredentialsError(f"{where.describe()}: {reason}") from None
    except Exception as error:  # the client's loaders raise more kinds than they document
        raise CredentialsError(f"{where.describe()}: {type(error).__name__}: {error}") from None
    return configuration


def missing_crds(configuration: kubernetes.client.Configuration) -> list[str]:
    """The voicecap CRDs the API server does not serve (discovery, which every authenticated
    user may read). Raises ApiException for other answers, urllib3 errors when unreachable."""
    once = copy.copy(configuration)
    once.retries = False  # one attempt per call: wait_for_api says each failure and backs off
    with kubernetes.client.ApiClient(once) as api:
        try:
            found = kubernetes.client.CustomObjectsApi(api).get_api_resources(
                GROUP, VERSION, _request_timeout=10
            )
        except ApiException as error:
            if error.status == 404:
                return [f"{plural}.{GROUP}" for plural in REQUIRED]
            raise
    served = {resource.name for resource in found.resources or []}
    return [f"{plural}.{GROUP}" for plural in REQUIRED if plural not in served]


def wait_for_api(
    where: Where,
    configuration: kubernetes.client.Configuration,
    *,
    sleep: Callable[[float], None] = time.sleep,
    backoff: Sequence[float] = BACKOFF,
) -> None:
    """Until the API server answers: then CredentialsError if it refuses the credentials or
    lacks a CRD. Unreachable: a log line per attempt and a wait that grows to backoff[-1]."""
    attempt = 0
    while True:
        try:
            missing = missing_crds(configuration)
        except ApiException as error:
            if error.status in (401, 403):
                raise CredentialsError(
                    f"the API server at {configuration.host} refused the credentials of "
                    f"{where.describe()}: {error.status} {error.reason}"
                ) from None
            reason = f"{error.status} {error.reason}"
        except (urllib3.exceptions.HTTPError, OSError) as error:
            cause = getattr(error, "reason", None) or error  # MaxRetryError wraps the cause
            reason = " ".join(str(cause).split())
        else:
            if missing:
                raise CredentialsError(
                    f"CRD {missing[0]} is not installed: install the chart with "
                    "crds.install=true, or kubectl apply --server-side -f crds/"
                )
            return
        delay = backoff[min(attempt, len(backoff) - 1)]
        log.warning(
            "cannot reach the API server at %s (%s): retrying in %gs",
            configuration.host,
            reason,
            delay,
        )
        sleep(delay)
        attempt += 1


def connection_info(configuration: kubernetes.client.Configuration) -> kopf.ConnectionInfo:
    """Kopf's credentials from the same configuration (as kopf.login_via_client reads it, but
    with our kubeconfig and context rather than the default ones)."""
    header = configuration.get_api_key_with_prefix(
        "BearerToken"
    ) or configuration.get_api_key_with_prefix("authorization")
    parts = header.split(" ", 1) if header else []
    scheme, token = (
        (None, None) if not parts else (None, parts[0]) if len(parts) == 1 else (parts[0], parts[1])
    )
    return kopf.ConnectionInfo(
        server=configuration.host,
        ca_path=configuration.ssl_ca_cert,
        insecure=not configuration.verify_ssl,
        username=configuration.username or None,
        password=configuration.password or None,
        scheme=scheme,
        token=token,
        certificate_path=configuration.cert_file,
        private_key_path=configuration.key_file,
    )
