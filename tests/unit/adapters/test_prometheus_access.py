"""Reaching the user's Prometheus: the flags and environment, the session they build, a token
that rotates, and failures told apart without a secret in them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from voicecap.adapters.prometheus import PrometheusSessions, SessionSource, _status_detail
from voicecap.adapters.prometheus_access import (
    BearerTokenFile,
    PrometheusAccess,
    explain,
    explain_status,
    redact,
)
from voicecap.cli import build_parser, main
from voicecap.cli.args import UsageError
from voicecap.cli.prometheus_flags import prometheus_access


def parse(*argv: str, env: dict[str, str] | None = None) -> PrometheusAccess:
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        args = build_parser().parse_args(["run", *argv])
        return prometheus_access(args)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_every_option_has_a_flag_and_an_environment_variable(tmp_path: Path) -> None:
    from_flags = parse(
        "--prometheus-url=https://mimir:8080/prometheus",
        "--prometheus-username=voicecap",
        f"--prometheus-password-file={tmp_path / 'password'}",
        f"--prometheus-ca-file={tmp_path / 'ca.crt'}",
        f"--prometheus-cert-file={tmp_path / 'tls.crt'}",
        f"--prometheus-key-file={tmp_path / 'tls.key'}",
        "--prometheus-header=X-Scope-OrgID: voice",
    )
    from_env = parse(
        env={
            "VOICECAP_PROMETHEUS_URL": "https://mimir:8080/prometheus",
            "VOICECAP_PROMETHEUS_USERNAME": "voicecap",
            "VOICECAP_PROMETHEUS_PASSWORD_FILE": str(tmp_path / "password"),
            "VOICECAP_PROMETHEUS_CA_FILE": str(tmp_path / "ca.crt"),
            "VOICECAP_PROMETHEUS_CERT_FILE": str(tmp_path / "tls.crt"),
            "VOICECAP_PROMETHEUS_KEY_FILE": str(tmp_path / "tls.key"),
            "VOICECAP_PROMETHEUS_HEADERS": "X-Scope-OrgID: voice",
        }
    )
    assert from_flags == from_env
    assert from_env.headers == (("X-Scope-OrgID", "voice"),)
    insecure = parse(
        "--prometheus-url=https://p", env={"VOICECAP_PROMETHEUS_INSECURE_SKIP_VERIFY": "true"}
    )
    assert insecure.insecure_skip_verify and insecure.session().verify is False


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


def test_basic_auth_password_from_the_environment() -> None:
    access = parse(
        "--prometheus-url=http://p",
        "--prometheus-username=bob",
        env={"VOICECAP_PROMETHEUS_PASSWORD": "s3cret"},
    )
    request = access.session().prepare_request(requests.Request("GET", "http://p/"))
    assert request.headers["Authorization"].startswith("Basic ")
    assert "s3cret" not in access.describe() and "bob" in access.describe()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "no Prometheus to read sessions from"),
        (["--prometheus-username=bob"], "basic auth needs a password"),
        (
            ["--prometheus-bearer-token-file=/t", "--prometheus-username=bob"],
            "a bearer token or basic auth, not both",
        ),
        (["--prometheus-cert-file=/c"], "both its certificate and its key file"),
        (["--prometheus-ca-file=/c", "--prometheus-insecure-skip-verify"], "contradict"),
        (["--prometheus-header=no colon here"], "'Name: value'"),
        (["--prometheus-header=Bad Name: x"], "is not an HTTP header name"),
    ],
)
def test_contradictions_are_usage_errors(argv: list[str], message: str) -> None:
    url = [] if not argv else ["--prometheus-url=http://p"]
    with pytest.raises(UsageError, match=message):
        parse(*url, *argv)


def test_a_secret_header_value_never_appears_in_its_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["run", "--prometheus-url=http://p", "--prometheus-header=token-abc123"])
    assert code == 2
    assert "abc123" not in capsys.readouterr().err


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
