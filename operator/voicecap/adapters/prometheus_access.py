"""How to reach the user's Prometheus: URL, credentials, TLS and extra headers, as one value.

What KEDA's prometheus scaler offers, and what managed stores need: a bearer token read from a
file on every request that finds it changed (projected ServiceAccount tokens rotate; Google
Managed Prometheus and the OpenShift Thanos querier take one), basic auth with the password from
a file or the environment, a CA bundle, a client certificate, skip-verify, and extra headers
(`X-Scope-OrgID` for Grafana Mimir and Cortex). Secrets live in files or the environment, never
in flags a `ps` shows; nothing here logs them, and `describe()` says which are set, not what
they are.

Failures of this layer are told apart for the person who has to fix them (`explain`): 401 and
403 name the credentials, TLS errors name the CA, the host name or the client certificate.
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass
from pathlib import Path

import requests
from requests.auth import AuthBase, HTTPBasicAuth

HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP token (RFC 9110)
USERINFO = re.compile(r"(\w+://)[^/@\s]+@")


@dataclass(frozen=True)
class PrometheusAccess:
    url: str
    bearer_token_file: str | None = None
    username: str | None = None
    password_file: str | None = None
    password: str | None = None  # from the environment (a Secret's key), never a flag
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure_skip_verify: bool = False
    headers: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.bearer_token_file and self.username:
            raise ValueError("use a bearer token or basic auth, not both")
        if self.username and not (self.password_file or self.password is not None):
            raise ValueError("basic auth needs a password (a file, or the environment)")
        if bool(self.cert_file) != bool(self.key_file):
            raise ValueError("a client certificate needs both its certificate and its key file")
        if self.ca_file and self.insecure_skip_verify:
            raise ValueError("a CA file and skip-verify contradict each other")
        for name, _ in self.headers:
            if not HEADER_NAME.match(name):
                raise ValueError(f"{name!r} is not an HTTP header name")
            if name.lower() == "authorization" and (self.bearer_token_file or self.username):
                raise ValueError("an Authorization header and a bearer token or basic auth clash")

    def session(self) -> requests.Session:
        """A requests session prometheus-api-client sends every query through."""
        session = requests.Session()
        session.verify = self.ca_file or not self.insecure_skip_verify
        if self.cert_file and self.key_file:
            session.cert = (self.cert_file, self.key_file)
        session.headers.update(dict(self.headers))
        if self.bearer_token_file:
            session.auth = BearerTokenFile(Path(self.bearer_token_file))
        elif self.username:
            session.auth = _basic(self.username, self.password_file, self.password)
        return session

    def describe(self) -> str:
        """What is configured, for the startup log: names and paths, never a secret."""
        parts = [self.url]
        if self.bearer_token_file:
            parts.append(f"bearer token from {self.bearer_token_file}")
        if self.username:
            parts.append(f"basic auth as {self.username}")
        if self.ca_file:
            parts.append(f"CA {self.ca_file}")
        if self.cert_file:
            parts.append(f"client certificate {self.cert_file}")
        if self.insecure_skip_verify:
            parts.append("TLS verification OFF")
        if self.headers:
            parts.append("headers " + ", ".join(name for name, _ in self.headers))
        return "; ".join(parts)


class FileSecret:
    """A secret kept in a file, read again whenever the file changes (kubelet rotates projected
    tokens and updates mounted Secrets by swapping a symlink, so the check is on the resolved
    file)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[str, int, int] | None = None
        self._value = ""

    def read(self) -> str:
        resolved = self.path.resolve()
        stat = resolved.stat()
        seen = (str(resolved), stat.st_mtime_ns, stat.st_size)
        if seen != self._seen:
            self._value = resolved.read_text().strip()
            self._seen = seen
        return self._value


class BearerTokenFile(AuthBase):
    """Authorization: Bearer <the file's content>, as it is now."""

    def __init__(self, path: Path) -> None:
        self._token = FileSecret(path)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        return request

    def token(self) -> str:
        return self._token.read()


def _basic(username: str, password_file: str | None, password: str | None) -> AuthBase:
    if password_file:
        return _BasicFromFile(username, Path(password_file))
    return HTTPBasicAuth(username, password or "")


class _BasicFromFile(AuthBase):
    """Basic auth with the password as its file says now."""

    def __init__(self, username: str, path: Path) -> None:
        self.username = username
        self._password = FileSecret(path)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return HTTPBasicAuth(self.username, self._password.read())(request)


def explain(error: BaseException) -> str | None:
    """What a person can act on, for the failures credentials and TLS cause; None otherwise."""
    text = str(error)
    if isinstance(error, requests.exceptions.SSLError) or isinstance(
        error.__context__, ssl.SSLError
    ):
        lowered = text.lower().replace("_", " ")
        if "hostname mismatch" in lowered or "doesn't match" in lowered:
            return "TLS: the certificate does not name this host (check the URL's host name)"
        if "certificate required" in lowered or "bad certificate" in lowered:
            return (
                "TLS: Prometheus wants a client certificate (--prometheus-cert-file and -key-file)"
            )
        if "certificate verify failed" in lowered:
            return (
                "TLS: the certificate is not signed by a trusted CA "
                "(--prometheus-ca-file, or --prometheus-insecure-skip-verify)"
            )
        return "TLS handshake failed: " + text[:200]
    if isinstance(error, OSError) and "certificate" in text.lower() and "file" in text.lower():
        return f"cannot read a TLS file: {text[:200]}"
    if isinstance(error, (requests.ConnectionError, requests.Timeout)):
        return _unreachable(text)
    return None


_UNREACHABLE = (
    ("connection refused", "connection refused"),
    ("timed out", "timed out"),
    ("name or service not known", "unknown host"),
    ("nodename nor servname", "unknown host"),
    ("temporary failure in name resolution", "unknown host"),
    ("connection reset", "connection reset"),
    ("remotedisconnected", "connection closed by the server"),
    ("connection aborted", "connection closed by the server"),
)


def _unreachable(text: str) -> str:
    """A short, stable text: urllib3's (pool, URL with the query, object addresses) changes
    from call to call, and a condition message that changes is a status write per object."""
    lowered = text.lower()
    for marker, said in _UNREACHABLE:
        if marker in lowered:
            return f"unreachable ({said})"
    return "unreachable: " + re.sub(r" at 0x[0-9a-f]+|url: \S+ ", "", redact(text))[:200]


def redact(text: str) -> str:
    """Credentials written into a URL (https://user:secret@host) never reach a log or status."""
    return USERINFO.sub(r"\1***@", text)


def explain_status(status: int) -> str | None:
    if status == 401:
        return "401 Unauthorized: Prometheus refused the credentials (bearer token or basic auth)"
    if status == 403:
        return "403 Forbidden: the credentials may not query (or a tenant header is missing)"
    return None
