"""cli/calibrate.py: `voicecap calibrate` from what a Prometheus answers (a double here;
tests/integration/test_measured_inputs.py runs it against a real Prometheus): the measured
per-pod capacity and tokens per call-minute, their evidence, and the spec change each suggests."""

from __future__ import annotations

import json
from typing import Any

import pytest

from support.cli import run, write_manifests
from support.objects import capacity_body
from support.world import FixedCalibrations, FixedHistory
from voicecap.adapters.history import PrometheusHistory
from voicecap.adapters.prometheus import QueryFailedError
from voicecap.core.measured.knee import LoadBin

TARGET = 0.8


def processor_sharing(load: float, capacity: float, base: float = 0.32) -> float:
    rho = (1 - base / TARGET) * load / capacity
    return base / (1 - rho) if rho < 0.99 else 30.0


class History(FixedHistory):
    """Prometheus as the forecasts read it, for the censored weeks; records the close."""

    def __init__(self) -> None:
        super().__init__()
        self.closed = False

    def close(self) -> None:
        self.closed = True


class Calibrations(FixedCalibrations):
    """The calibration's questions answered for the healthcare vertical; records the close."""

    def __init__(self, capacity: float | None, tokens: tuple[float, float] | None) -> None:
        super().__init__()
        if capacity is not None:
            loads = range(20, int(capacity * 1.4), 5)
            self.bins["healthcare"] = [
                LoadBin(n, processor_sharing(n, capacity), 40) for n in loads
            ]
        if tokens is not None:
            self.tokens["healthcare"] = tokens
        self.closed = False

    def close(self) -> None:
        self.closed = True


def calibrate(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
    source: Calibrations,
    *flags: str,
    history: History | None = None,
    **spec: Any,
) -> tuple[int, str, str]:
    weeks = history or History()
    monkeypatch.setattr(
        "voicecap.cli.calibrate.connect_to",
        lambda args, kind: weeks if kind is PrometheusHistory else source,
    )
    body = capacity_body(latency={"query": "", "target": "800ms"}, **spec)
    files = write_manifests(tmp_path, "vcap.yaml", body)
    return run(
        capsys, "calibrate", str(files), "--prometheus-url", "http://127.0.0.1:9",
        "--at", "2026-11-20T12:00:00Z", *flags,
    )  # fmt: skip


def test_an_overstated_per_pod_and_understated_tokens_each_get_a_suggestion(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    source = Calibrations(capacity=120, tokens=(9_000 * 1_000, 1_000))
    code, out, err = calibrate(capsys, monkeypatch, tmp_path, source, "-o", "json")
    assert code == 0, err
    (row,) = json.loads(out)
    per_pod, tokens = row["perPod"], row["tokensPerSessionMinute"]
    assert per_pod["declared"] == 200 and per_pod["reason"] == "Overstated"
    assert per_pod["measured"] == pytest.approx(120, rel=0.05)
    assert per_pod["method"] == "Observed"
    assert (tokens["declared"], tokens["measured"], tokens["reason"]) == (6000, 9000, "Understated")
    assert "set sessions.perPod to 1" in row["suggestion"]  # 115-125, rounded down
    assert "set model.tokensPerSessionMinute to 9000 (declared 6000)" in row["suggestion"]
    assert source.closed


def test_declarations_that_hold_suggest_nothing_and_the_table_shows_the_evidence(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    source = Calibrations(capacity=205, tokens=(6_100 * 1_000, 1_000))
    code, out, err = calibrate(capsys, monkeypatch, tmp_path, source)
    assert code == 0, err
    header, line = out.splitlines()[:2]
    assert header.split()[:4] == ["NAMESPACE/NAME", "PERPOD", "MEASURED", "REASON"]
    assert line.split()[0] == "voice/healthcare" and line.split()[3] == "Matches"
    assert "suggestion: none" in out
    assert "latency reaches 800ms at" in out


def test_too_little_evidence_is_said_not_guessed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    source = Calibrations(capacity=None, tokens=(600_000, 100))
    code, out, err = calibrate(capsys, monkeypatch, tmp_path, source, "-o", "json")
    assert code == 0, err
    (row,) = json.loads(out)
    assert row["perPod"]["measured"] is None and row["perPod"]["reason"] == "InsufficientData"
    assert row["tokensPerSessionMinute"]["measured"] is None
    assert "call-minutes" in row["tokensPerSessionMinute"]["evidence"]
    assert row["suggestion"] == "none"


def test_an_unreachable_prometheus_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    source = Calibrations(capacity=120, tokens=None)
    source.failure = QueryFailedError("Unreachable", "connection refused\nat line 2")
    code, out, err = calibrate(capsys, monkeypatch, tmp_path, source)
    assert (code, out) == (2, "")
    assert err.strip().endswith("connection refused") and "line 2" not in err
    assert source.closed


def test_weeks_served_at_their_limit_are_named_with_a_suggestion(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    history = History()
    history.weekly = {"healthcare": 450.0}
    history.flags = {"healthcare": {"censored": {"1": 0.99, "2": 0.97}}}
    source = Calibrations(capacity=205, tokens=(6_100 * 1_000, 1_000))
    code, out, err = calibrate(capsys, monkeypatch, tmp_path, source, "-o", "json", history=history)
    assert code == 0, err
    (row,) = json.loads(out)
    assert [(w["peak"], w["sessions"]) for w in row["censoredWeeks"]] == [
        ("monday-morning", 450.0),
        ("monday-morning", 450.0),
    ]
    assert row["suggestion"].startswith("2 weeks were served at their admission limit")
    assert history.closed and source.closed


def test_nothing_to_calibrate_names_the_fields(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    body = capacity_body(peaks=[])
    body["spec"].pop("model")
    files = write_manifests(tmp_path, "vcap.yaml", body)
    code, _, err = run(capsys, "calibrate", str(files), "--prometheus-url", "http://127.0.0.1:9")
    assert code == 2
    assert "spec.latency" in err and "spec.model" in err and "spec.peaks" in err
