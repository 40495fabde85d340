"""The operator and the CLI against a Prometheus served the way many clusters serve it: TLS only,
a client certificate required, basic auth (Prometheus' own --web.config.file). Each failure says
what to fix, and no secret reaches a message or a log."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.kube import EmulatedCluster, path_of, workload
from support.objects import BASE_CAPACITY
from support.pki import Authority
from support.servers import (
    LabelProxy,
    OperatorProcess,
    Prometheus,
    SecuredPrometheus,
    SessionExporter,
    wait_until,
)
from voicecap.adapters.prometheus import PrometheusSessions, QueryFailedError, SessionSource
from voicecap.adapters.prometheus_access import PrometheusAccess

pytestmark = pytest.mark.integration

PASSWORD = "hunter2-not-in-any-log"
SOURCE = SessionSource("voice/healthcare", "voice", "healthcare")


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredPrometheus]:
    exporter = SessionExporter()
    exporter.set("voice", "healthcare", "p1", 321)
    folder = tmp_path_factory.mktemp("secured")
    authority = Authority(folder, "test-ca")
    server = SecuredPrometheus(
        folder,
        [f"127.0.0.1:{exporter.port}"],
        authority=authority,
        username="voicecap",
        password=PASSWORD,
    )
    (folder / "password").write_text(PASSWORD + "\n")
    yield server
    server.stop()
    exporter.stop()


def access(server: SecuredPrometheus, **changes: object) -> PrometheusAccess:
    fields: dict[str, object] = {
        "url": server.url,
        "username": "voicecap",
        "password_file": str(Path(server.ca).parent / "password"),
        "ca_file": str(server.ca),
        "cert_file": str(server.client.cert),
        "key_file": str(server.client.key),
    }
    fields.update(changes)
    return PrometheusAccess(**fields)  # type: ignore[arg-type]


def observe(server_access: PrometheusAccess) -> float | None:
    client = PrometheusSessions(server_access, timeout=5)
    try:
        return client.observe([SOURCE])[SOURCE.key].sessions
    finally:
        client.close()


def failure_of(server_access: PrometheusAccess) -> str:
    client = PrometheusSessions(server_access, timeout=5)
    try:
        with pytest.raises(QueryFailedError) as raised:
            client._query("vector(1)")
        return str(raised.value)
    finally:
        client.close()


def test_tls_a_client_certificate_and_basic_auth_read_the_sessions(
    secured: SecuredPrometheus,
) -> None:
    wait_until(lambda: observe(access(secured)) == 321, timeout=30, what="sessions over mTLS")


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"password_file": None, "password": "wrong"}, "401 Unauthorized"),
        ({"username": None, "password_file": None}, "401 Unauthorized"),
        ({"ca_file": None}, "not signed by a trusted CA"),
        ({"cert_file": None, "key_file": None}, "client certificate"),
    ],
    ids=["wrong-password", "no-credentials", "unknown-ca", "no-client-certificate"],
)
def test_each_failure_says_what_to_fix(
    secured: SecuredPrometheus, changes: dict[str, object], says: str
) -> None:
    detail = failure_of(access(secured, **changes))
    assert says in detail, detail
    assert PASSWORD not in detail and "wrong" not in detail


def test_a_certificate_for_another_name_is_refused(secured: SecuredPrometheus) -> None:
    """The serving certificate names 127.0.0.1; `localhost` is another name."""
    url = secured.url.replace("127.0.0.1", "localhost")
    assert "does not name this host" in failure_of(access(secured, url=url))


def test_forecast_reads_the_environment_and_fails_in_one_line(
    secured: SecuredPrometheus, tmp_path: Path
) -> None:
    vcap = tmp_path / "vcap.yaml"
    vcap.write_text(yaml.safe_dump(BASE_CAPACITY))
    env = {
        "VOICECAP_PROMETHEUS_URL": secured.url,
        "VOICECAP_PROMETHEUS_USERNAME": "voicecap",
        "VOICECAP_PROMETHEUS_PASSWORD_FILE": str(Path(secured.ca).parent / "password"),
        "VOICECAP_PROMETHEUS_CA_FILE": str(secured.ca),
        "VOICECAP_PROMETHEUS_CERT_FILE": str(secured.client.cert),
        "VOICECAP_PROMETHEUS_KEY_FILE": str(secured.client.key),
    }

    def forecast(extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "voicecap.cli", "forecast", str(vcap), "-o", "json"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**_base_env(), **env, **extra},
        )

    ok = forecast({})
    assert ok.returncode == 0, ok.stderr
    refused = forecast(
        {"VOICECAP_PROMETHEUS_PASSWORD_FILE": "", "VOICECAP_PROMETHEUS_PASSWORD": "nope-x1"}
    )
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        f"voicecap: Prometheus at {secured.url}: 401 Unauthorized: Prometheus refused the "
        "credentials (bearer token or basic auth)"
    ]
    assert "nope-x1" not in refused.stderr + refused.stdout


def test_the_operator_reports_refused_credentials_in_metrics_available(
    secured: SecuredPrometheus, tmp_path: Path
) -> None:
    """A wrong password: MetricsAvailable=False names the 401; the right one: True. The
    password is in no status, Event or log line."""
    cluster = EmulatedCluster()
    try:
        k = cluster.client
        workload(k, "voice", "healthcare-agent", ready=2)
        k.create(copy.deepcopy(BASE_CAPACITY))
        wrong = tmp_path / "wrong"
        wrong.write_text("not-the-password-x2\n")
        flags = [
            "--prometheus-username=voicecap",
            f"--prometheus-ca-file={secured.ca}",
            f"--prometheus-cert-file={secured.client.cert}",
            f"--prometheus-key-file={secured.client.key}",
        ]
        where = path_of("voicecap.io/v1alpha1", "voicecapacities", "voice", "healthcare")

        def metrics_condition() -> dict[str, str]:
            status = (k.get(where) or {}).get("status") or {}
            return next(
                (c for c in status.get("conditions", []) if c["type"] == "MetricsAvailable"), {}
            )

        def operator_until(name: str, password_file: Path, wanted: str) -> tuple[dict, str]:
            """Run the operator with this password file until MetricsAvailable is `wanted`."""
            process = OperatorProcess(
                tmp_path, kubeconfig=cluster.kubeconfig(tmp_path), prometheus_url=secured.url,
                extra=[*flags, f"--prometheus-password-file={password_file}"], name=name,
            )  # fmt: skip
            try:
                wait_until(lambda: metrics_condition().get("status") == wanted, timeout=30,
                           what=f"MetricsAvailable {wanted}")  # fmt: skip
                return metrics_condition(), process.log_path.read_text()
            finally:
                process.stop()

        refused, log = operator_until("refused", wrong, "False")
        assert "401 Unauthorized" in refused["message"]
        assert "not-the-password-x2" not in log and "basic auth as voicecap" in log
        _, log = operator_until("accepted", Path(secured.ca).parent / "password", "True")
        assert PASSWORD not in log
        assert PASSWORD not in yaml.safe_dump(k.get(where))
    finally:
        cluster.close()


def _base_env() -> dict[str, str]:
    import os  # noqa: PLC0415

    return {key: value for key, value in os.environ.items() if not key.startswith("VOICECAP_")}


def test_a_tenant_header_reaches_a_real_tenant_proxy(tmp_path: Path) -> None:
    """Mimir and Cortex need X-Scope-OrgID. prom-label-proxy checks it for real: with the header
    the operator's batched query sees its tenant's series only; without it, the proxy refuses
    and the failure says so."""
    exporter = SessionExporter()
    exporter.set("voice", "healthcare", "p1", 321)
    exporter.set("other", "healthcare", "p9", 999)
    (tmp_path / "prometheus").mkdir()
    prometheus = Prometheus(tmp_path / "prometheus", [f"127.0.0.1:{exporter.port}"])
    proxy = LabelProxy(tmp_path, prometheus.url, header="X-Scope-OrgID", label="namespace")
    other = SessionSource("other/healthcare", "other", "healthcare")
    try:
        tenant = PrometheusAccess(proxy.url, headers=(("X-Scope-OrgID", "voice"),))
        client = PrometheusSessions(tenant, timeout=5)
        try:
            wait_until(
                lambda: client.observe([SOURCE])[SOURCE.key].sessions == 321,
                timeout=30,
                what="the tenant's sessions through the proxy",
            )
            assert client.observe([other])[other.key].failure == "NoData"  # another tenant's
        finally:
            client.close()
        detail = failure_of(PrometheusAccess(proxy.url))
        assert 'HTTP 400: Missing HTTP header "X-Scope-Orgid"' in detail, detail
    finally:
        proxy.stop()
        prometheus.stop()
        exporter.stop()


def test_the_forecast_query_travels_in_the_body_under_a_proxys_line_limit(
    secured: SecuredPrometheus, tmp_path: Path
) -> None:
    """One query per window shape has 312 terms (13 weeks x 24 slots), ~75 KB: behind an nginx
    with its default 8 KB request line it must go as a form body. A real Prometheus answers it;
    the request line the client sent stays short."""
    from datetime import UTC, datetime  # noqa: PLC0415

    from voicecap.adapters.history import PrometheusHistory  # noqa: PLC0415
    from voicecap.api.models import VoiceCapacity  # noqa: PLC0415
    from voicecap.core.peaks.shapes import weekly_spans  # noqa: PLC0415

    peak = VoiceCapacity.model_validate(BASE_CAPACITY).spec.peaks[0]
    spans = weekly_spans(peak, datetime(2026, 11, 23, 14, 0, tzinfo=UTC), 13)
    assert len(spans) == 312
    lines: list[tuple[str, int]] = []
    history = PrometheusHistory(access(secured), timeout=30)
    original = history._session.send

    def recording(request: Any, **kwargs: Any) -> Any:
        lines.append((request.url, len(request.body or "")))
        return original(request, **kwargs)

    history._session.send = recording  # type: ignore[method-assign]
    try:
        history.quantiles("sum by (namespace, vertical) (voice_active_sessions)", 0.99, spans,
                          batched=True)  # fmt: skip
    finally:
        history.close()
    [(url, body)] = lines
    assert len(url) < 8192 and body > 60_000
