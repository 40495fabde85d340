"""Reaching the user's Prometheus: the flags and environment, the session they build, a token
that rotates, and failures told apart without a secret in them."""

from __future__ import annotations

import os
from pathlib import Path

import requests

from voicecap.adapters.prometheus import PrometheusSessions, SessionSource, _status_detail
from voicecap.adapters.prometheus_access import (
    BearerTokenFile,
    PrometheusAccess,
    explain,
    explain_status,
    redact,
)


def test_the_session_carries_tls_headers_and_auth(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("first\n")
    access = PrometheusAccess(
        "https://p",
        bearer_token_file=str(token),
        ca_file="/etc/ca.crt",
        cert_file="/etc/tls.crt",
        key_file="/etc/tls.key",
        headers=(("X-Scope-OrgID", "voice"),),
    )
    session = access.session()
    assert session.verify == "/etc/ca.crt"
    assert session.cert == ("/etc/tls.crt", "/etc/tls.key")
    prepared = session.prepare_request(requests.Request("GET", "https://p/api/v1/query"))
    assert prepared.headers["X-Scope-OrgID"] == "voice"
    assert prepared.headers["Authorization"] == "Bearer first"


def test_a_rotated_token_is_read_again_and_an_unchanged_one_is_not(tmp_path: Path) -> None:
    """kubelet rotates a projected token by swapping the symlink the path names."""
    first, second, link = tmp_path / "a", tmp_path / "b", tmp_path / "token"
    first.write_text("one")
    second.write_text("two")
    link.symlink_to(first)
    auth = BearerTokenFile(link)
    assert auth.token() == "one"
    first.write_text("one")  # same size, but rewritten
    os.utime(first, ns=(1, 1))
    assert auth.token() == "one"
    link.unlink()
    link.symlink_to(second)
    assert auth.token() == "two"


def test_failures_say_what_to_fix_without_secrets() -> None:
    assert explain_status(401).startswith("401 Unauthorized")
    assert "tenant header" in (explain_status(403) or "")
    assert explain_status(500) is None
    unknown_ca = requests.exceptions.SSLError(
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer"
    )
    assert "not signed by a trusted CA" in (explain(unknown_ca) or "")
    wrong_name = requests.exceptions.SSLError(
        "certificate verify failed: Hostname mismatch, certificate is not valid for 'x'"
    )
    assert "does not name this host" in (explain(wrong_name) or "")
    no_client = requests.exceptions.SSLError("[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] ...")
    assert "client certificate" in (explain(no_client) or "")
    assert redact("GET http://bob:s3cret@prom:9090/api") == "GET http://***@prom:9090/api"
    from prometheus_api_client.exceptions import PrometheusApiClientException  # noqa: PLC0415

    assert _status_detail(PrometheusApiClientException("HTTP Status Code 401 (b'x')")).startswith(
        "401 Unauthorized"
    )
    bad = PrometheusApiClientException(
        'HTTP Status Code 400 (b\'{"status":"error","error":"parse error at char 4"}\\n\')'
    )
    assert _status_detail(bad) == "HTTP 400: parse error at char 4"


def test_an_unreachable_prometheus_is_said_the_same_way_every_cycle() -> None:
    """urllib3's text carries the query and object addresses; a condition message that moves
    would be a status write per object per cycle during an outage."""
    client = PrometheusSessions("http://127.0.0.1:9", timeout=1)
    source = SessionSource("voice/healthcare", "voice", "healthcare")
    try:
        details = {client.observe([source])[source.key].detail for _ in range(3)}
    finally:
        client.close()
    assert details == {"unreachable (connection refused)"}
    refused = requests.ConnectionError(
        "HTTPConnectionPool(...): Max retries exceeded with url: /api/v1/query?query=x "
        "(Caused by <urllib3.connection.HTTPConnection object at 0x7f3a2b1c>: Failed)"
    )
    assert "0x7f3a" not in (explain(refused) or "") and "query=x" not in (explain(refused) or "")
