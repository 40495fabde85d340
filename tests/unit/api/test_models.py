"""api/models.py: the two kinds, their wire form (camelCase, durations as written) and a TokenBudget's bounds."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from support.kube_schema import (
    admission_errors,
)
from support.objects import capacity_body
from voicecap.api.crd import tokenbudget_crd
from voicecap.api.models import TokenBudget, VoiceCapacity, dump


def test_wire_form_round_trips() -> None:
    body = capacity_body(headroom={"for": "1h30m", "action": "ScaleUp"})
    capacity = VoiceCapacity.model_validate(body)
    wire = dump(capacity)
    assert wire["spec"]["headroom"]["for"] == "1h30m"
    assert wire["spec"]["model"]["reservedTPM"] == 4800000
    assert VoiceCapacity.model_validate(wire) == capacity


def test_budget_rejects_bad_values() -> None:
    with pytest.raises(ValidationError, match="tokensPerMinute"):
        TokenBudget.model_validate({"metadata": {"name": "b"}, "spec": {"tokensPerMinute": 0}})
    body = {"metadata": {"name": "b"}, "spec": {"tokensPerMinute": 10, "overcommit": 2}}
    with pytest.raises(ValidationError, match="overcommit"):
        TokenBudget.model_validate(body)
    assert admission_errors(tokenbudget_crd(), body)
