"""How every command that reads Prometheus (`run`, `forecast`, `replay`) is told to reach it:
one set of flags, each with an environment variable, turned into one PrometheusAccess.

Secrets are never flag values (a `ps` would show them): passwords and tokens come from files (a
mounted Secret, a projected ServiceAccount token) or, for the password and header values, from
the environment (a Secret's key through `valueFrom.secretKeyRef`).
"""

from __future__ import annotations

import argparse
import os

from voicecap.adapters.prometheus_access import PrometheusAccess
from voicecap.cli.args import UsageError

ENV = "VOICECAP_PROMETHEUS_"
TRUE = {"1", "true", "yes", "on"}


def add_prometheus_flags(parser: argparse.ArgumentParser) -> None:
    """Add --prometheus-url and the access flags (token, basic auth, TLS, headers), each
    defaulting to its VOICECAP_PROMETHEUS_* environment variable."""
    group = parser.add_argument_group(
        "Prometheus", "how to reach it; every flag also reads the environment variable named"
    )

    def flag(name: str, help_text: str, **kwargs: object) -> None:
        variable = ENV + name.upper().replace("-", "_")
        group.add_argument(
            f"--prometheus-{name}",
            default=os.environ.get(variable),
            help=f"{help_text} (env {variable})",
            **kwargs,  # type: ignore[arg-type]
        )

    flag("url", "Prometheus, Thanos, Mimir or any store with its HTTP API", metavar="URL")
    flag(
        "bearer-token-file",
        "send Authorization: Bearer with this file's content, re-read when it changes",
        metavar="FILE",
    )
    flag("username", "basic auth user (password: --prometheus-password-file or env "
         f"{ENV}PASSWORD)", metavar="NAME")  # fmt: skip
    flag("password-file", "basic auth password, from this file", metavar="FILE")
    flag("ca-file", "verify Prometheus' certificate against this CA bundle", metavar="FILE")
    flag("cert-file", "client certificate (mutual TLS), with --prometheus-key-file", metavar="FILE")
    flag("key-file", "the client certificate's private key", metavar="FILE")
    group.add_argument(
        "--prometheus-insecure-skip-verify",
        action="store_true",
        default=os.environ.get(f"{ENV}INSECURE_SKIP_VERIFY", "").lower() in TRUE,
        help=f"do not verify Prometheus' certificate (env {ENV}INSECURE_SKIP_VERIFY=true)",
    )
    group.add_argument(
        "--prometheus-header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="send this header with every query, e.g. 'X-Scope-OrgID: voice' for Mimir; "
        f"repeatable (env {ENV}HEADERS, one per line; use it for secret values)",
    )


def prometheus_access(args: argparse.Namespace) -> PrometheusAccess:
    """The flags as one value; a contradiction or a malformed header is a usage error."""
    if not args.prometheus_url:
        raise UsageError(
            f"no Prometheus to read sessions from: pass --prometheus-url or set {ENV}URL"
        )
    lines = os.environ.get(f"{ENV}HEADERS", "").splitlines() + list(args.prometheus_header)
    try:
        return PrometheusAccess(
            url=args.prometheus_url,
            bearer_token_file=args.prometheus_bearer_token_file,
            username=args.prometheus_username,
            password_file=args.prometheus_password_file,
            password=os.environ.get(f"{ENV}PASSWORD"),
            ca_file=args.prometheus_ca_file,
            cert_file=args.prometheus_cert_file,
            key_file=args.prometheus_key_file,
            insecure_skip_verify=args.prometheus_insecure_skip_verify,
            headers=tuple(_header(line) for line in lines if line.strip()),
        )
    except ValueError as error:
        raise UsageError(f"Prometheus access: {error}") from error


def _header(line: str) -> tuple[str, str]:
    name, colon, value = line.partition(":")
    if not colon or not name.strip():
        # the value may be a secret: name the shape, not the text
        raise ValueError("a header is written 'Name: value' (one had no name or no colon)")
    return name.strip(), value.strip()
