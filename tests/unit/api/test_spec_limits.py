"""api/spec_limits.py: headroom, the model reservation, metrics outages, admission and the
TokenBudget's spec: defaults, bounds, and the cross-field rules, each naming its field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from voicecap.api.spec_limits import Admission, Headroom, ModelTokens, TokenBudgetSpec


def test_headroom_defaults_and_its_order() -> None:
    headroom = Headroom()
    assert (headroom.warning, headroom.critical, headroom.action) == (None, None, "Alert")
    with pytest.raises(ValidationError, match=r"warning \(0.9\) must be below critical \(0.9\)"):
        Headroom.model_validate({"warning": 0.9, "critical": 0.9})


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ({"team-name": "x"}, "not a Prometheus label name"),
        ({"severity": "page"}, "set by the operator"),
    ],
)
def test_rule_labels_may_not_break_or_override_the_alerts(
    labels: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Headroom.model_validate({"ruleLabels": labels})


def test_a_reservation_needs_its_budget_and_its_size() -> None:
    model = ModelTokens.model_validate({"budgetRef": "openai", "reservedTPM": 4_800_000})
    assert (model.tokens_per_session_minute, model.priority) == (6000, 0)
    with pytest.raises(ValidationError, match="reservedTPM"):
        ModelTokens.model_validate({"budgetRef": "openai"})
    with pytest.raises(ValidationError, match="tokensPerSessionMinute"):
        ModelTokens.model_validate(
            {"budgetRef": "o", "reservedTPM": 1, "tokensPerSessionMinute": 0}
        )


def test_admission_max_sessions_may_close_the_gate_but_not_go_below() -> None:
    assert Admission.model_validate({"maxSessions": 0}).max_sessions == 0
    with pytest.raises(ValidationError, match="maxSessions"):
        Admission.model_validate({"maxSessions": -1})
    with pytest.raises(ValidationError, match="name"):
        Admission.model_validate({"configMapRef": {"name": "Voice_Admission"}})


def test_a_budget_caps_overcommit_at_double() -> None:
    assert TokenBudgetSpec.model_validate({"tokensPerMinute": 10}).overcommit == 0
    with pytest.raises(ValidationError, match="overcommit"):
        TokenBudgetSpec.model_validate({"tokensPerMinute": 10, "overcommit": 1.5})
