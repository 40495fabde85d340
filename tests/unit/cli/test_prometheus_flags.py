"""cli/prometheus_flags.py: every way to reach Prometheus has a flag and an environment variable, and contradictions are one usage error without a secret in it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from voicecap.adapters.prometheus_access import (
    PrometheusAccess,
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
