"""cli/history.py: what the history commands share: a connection refused before any query when
the URL is not one, and how failures and numbers read."""

from __future__ import annotations

import argparse
import math

import pytest

from voicecap.cli.args import UsageError
from voicecap.cli.history import connect, finite, short, text


def args(url: str) -> argparse.Namespace:
    from voicecap.cli import build_parser  # noqa: PLC0415

    return build_parser().parse_args(
        ["forecast", "f.yaml", "--prometheus-url", url, "--timeout", "5s"]
    )


def test_a_url_that_is_not_http_is_refused_with_the_secret_redacted() -> None:
    with pytest.raises(UsageError, match="expected http://HOST:PORT") as refused:
        connect(args("prometheus:9090"))
    assert "prometheus:9090" in str(refused.value)
    with pytest.raises(UsageError) as refused:
        connect(args("ftp://bob:s3cret@host"))
    assert "s3cret" not in str(refused.value)


def test_a_connection_is_made_without_a_query() -> None:
    source = connect(args("http://127.0.0.1:9"))
    assert source.history == []
    source.close()


@pytest.mark.parametrize(
    ("value", "expected"), [(3.5, 3.5), (None, None), (math.nan, None), (math.inf, None)]
)
def test_json_has_no_nan(value: float | None, expected: float | None) -> None:
    assert finite(value) == expected


def test_cells_and_failures_read_short() -> None:
    assert (text(None), text(512.0), text(0.25), text("Forecast")) == (
        "-",
        "512",
        "0.25",
        "Forecast",
    )
    assert short("refused\ntraceback...") == "refused"
    assert len(short("x" * 1000)) == 300
