"""metrics.py: the contract's series, labelled namespace, vertical and pod, from the admission's
decisions and the limits file."""

from __future__ import annotations

from prometheus_client import generate_latest
from voicecap_kit.admission import Admission
from voicecap_kit.limits import VerticalLimits
from voicecap_kit.metrics import Identity, VoiceMetrics


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_live_calls_refusals_and_durations_as_the_operator_reads_them() -> None:
    metrics = VoiceMetrics(Identity("voice", "healthcare", "agent-0"))
    clock = Clock()
    gate = Admission(lambda: VerticalLimits(2, version=7), clock=clock, observer=metrics.observe)
    first, _ = gate.try_admit(), gate.try_admit()
    gate.try_admit()  # refused: full
    gate.try_admit(final=False)  # refused, but another worker may take it: not counted
    clock.now += 180
    assert first.ticket is not None
    first.ticket.release()
    metrics.limits_read(VerticalLimits(2, version=7), None)
    metrics.tokens.inc(6000)
    metrics.ttfb.observe(0.42)
    text = generate_latest(metrics.registry).decode()
    labels = 'namespace="voice",pod="agent-0",vertical="healthcare"'
    for line in (
        f"voice_active_sessions{{{labels}}} 1.0",
        f"voice_calls_rejected_total{{{labels}}} 1.0",
        f"voice_call_duration_seconds_sum{{{labels}}} 180.0",
        f"voice_call_duration_seconds_count{{{labels}}} 1.0",
        f"voice_model_tokens_total{{{labels}}} 6000.0",
        f"voice_ttfb_seconds_count{{{labels}}} 1.0",
        f"voicecap_kit_limit_sessions{{{labels}}} 2.0",
        f"voicecap_kit_limits_version{{{labels}}} 7.0",
        f"voicecap_kit_limits_stale{{{labels}}} 0.0",
    ):
        assert line in text, line
    metrics.limits_read(None, "limits.json is not JSON")
    assert (
        f"voicecap_kit_limits_stale{{{labels}}} 1.0" in generate_latest(metrics.registry).decode()
    )


def test_the_identity_comes_from_the_downward_api(monkeypatch: object) -> None:
    import pytest  # noqa: PLC0415

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("POD_NAMESPACE", "voice")
    monkeypatch.setenv("POD_NAME", "healthcare-agent-7d9f")
    assert Identity.from_environment("healthcare") == Identity(
        "voice", "healthcare", "healthcare-agent-7d9f"
    )
