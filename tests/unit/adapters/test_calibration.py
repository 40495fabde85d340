"""adapters/calibration.py: the binned latency and the token use read back per vertical, against a
scripted Prometheus (tests/integration asks a real one)."""

from __future__ import annotations

import json
import math
import urllib.parse
from datetime import UTC, datetime, timedelta

from support.servers import Request, scripted
from voicecap.adapters.calibration import PrometheusCalibration

AT = datetime(2026, 11, 23, 14, tzinfo=UTC)


def ok(result: object) -> tuple[int, dict[str, str], bytes]:
    body = {"status": "success", "data": {"resultType": "vector", "result": result}}
    return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()


def test_bins_come_back_as_loads_with_their_latency_and_samples() -> None:
    vertical = {"namespace": "voice", "vertical": "healthcare"}
    result = [
        {"metric": {**vertical, "voicecap_load_bin": "92", "voicecap_stat": "latency"}, "value": [0, "0.61"]},
        {"metric": {**vertical, "voicecap_load_bin": "92", "voicecap_stat": "samples"}, "value": [0, "48"]},
        {"metric": {**vertical, "voicecap_load_bin": "99", "voicecap_stat": "latency"}, "value": [0, "NaN"]},
        {"metric": {**vertical, "voicecap_load_bin": "99", "voicecap_stat": "samples"}, "value": [0, "3"]},
    ]  # fmt: skip
    with scripted(lambda request: ok(result)) as (url, asked):
        found = PrometheusCalibration(url).latency_bins(0.95, timedelta(days=3), AT)
    (only,) = found[("voice", "healthcare")]
    assert only.load == math.exp(92 / 20) and (only.latency, only.samples) == (0.61, 48)
    form = urllib.parse.parse_qs(asked[0].body.decode())
    assert form["time"] == [f"{AT.timestamp():.3f}"]
    assert "count_values" in form["query"][0] and "[259200s:300s]" in form["query"][0]


def test_token_use_pairs_tokens_with_call_minutes() -> None:
    def answer(request: Request) -> tuple[int, dict[str, str], bytes]:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(request.path).query)["query"][0]
        value = "9000000" if "voice_model_tokens_total" in query else "1000"
        return ok([{"metric": {"namespace": "voice", "vertical": "sales"}, "value": [0, value]}])

    with scripted(answer) as (url, asked):
        found = PrometheusCalibration(url).token_use(timedelta(days=3), AT)
    assert found == {("voice", "sales"): (9_000_000.0, 1000.0)} and len(asked) == 2
