"""api/spec_measured.py: spec.latency: its defaults and what it refuses, naming the field; and
the rules that tie it to sessions.perPodFrom."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from support.objects import capacity_body
from voicecap.api.models import VoiceCapacity, dump
from voicecap.api.spec_measured import Latency


def test_defaults_and_the_wire_form() -> None:
    latency = Latency()
    assert (latency.quantile, latency.target, latency.for_) == (
        0.95,
        timedelta(milliseconds=800),
        timedelta(minutes=2),
    )
    assert dump(Latency.model_validate({"target": "1s200ms"}))["target"] == "1s200ms"


@pytest.mark.parametrize(
    ("latency", "field"),
    [
        ({"target": "0ms"}, "target"),
        ({"quantile": 1.0}, "quantile"),
        ({"quantile": 0}, "quantile"),
        ({"query": "sum(x); sum(y)"}, "query"),
        ({"query": "rate(x[5m]"}, "query"),
    ],
)
def test_bad_values_name_their_field(latency: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        Latency.model_validate(latency)


def test_measured_per_pod_needs_latency() -> None:
    body = capacity_body(sessions={"perPod": 200, "perPodFrom": "Measured"})
    with pytest.raises(ValidationError, match=r"perPodFrom Measured needs spec\.latency"):
        VoiceCapacity.model_validate(body)
    body["spec"]["latency"] = {"target": "800ms"}
    assert VoiceCapacity.model_validate(body).spec.sessions.per_pod_from == "Measured"
