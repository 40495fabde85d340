"""The API contract: models, generated CRDs, and that both reject the same broken objects."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from support.kube_schema import (
    admission_errors,
)
from support.objects import BROKEN, Broken, capacity_body, example_documents
from voicecap.adapters.manifests import validation_problems
from voicecap.api.crd import tokenbudget_crd, voicecapacity_crd
from voicecap.api.models import TokenBudget, VoiceCapacity

CRDS = {"VoiceCapacity": voicecapacity_crd(), "TokenBudget": tokenbudget_crd()}
MODELS: dict[str, Any] = {"VoiceCapacity": VoiceCapacity, "TokenBudget": TokenBudget}


def _problems(body: dict[str, Any]) -> list[tuple[str, str]]:
    try:
        VoiceCapacity.model_validate(body)
    except ValidationError as error:
        return [(p.field, p.message) for p in validation_problems("test", error)]
    return []


# ------------------------------------------------------------------ examples


@pytest.mark.parametrize(
    ("where", "body"), example_documents(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_example_parses_and_would_be_admitted(where: str, body: dict[str, Any]) -> None:
    MODELS[body["kind"]].model_validate(body)
    assert admission_errors(CRDS[body["kind"]], body) == []


def test_minimal_object_gets_documented_defaults() -> None:
    capacity = VoiceCapacity.model_validate(
        {
            "metadata": {"name": "sales"},
            "spec": {
                "targetRef": {"name": "sales-agent"},
                "sessions": {"perPod": 250},
                "replicas": {"max": 10},
            },
        }
    )
    spec = capacity.spec
    assert capacity.vertical == "sales"  # default: metadata.name
    assert capacity.namespace == "default"
    assert spec.target_ref.kind == "Deployment"
    assert spec.sessions.target_utilization == 0.7
    assert spec.replicas.min == 1
    assert spec.scale_down.stabilization == timedelta(minutes=10)
    assert (spec.headroom.warning, spec.headroom.critical) == (None, None)  # as written
    assert spec.headroom_levels == (0.85, 0.9)  # derived from targetUtilization 0.7
    assert spec.headroom.ceiling_warning == 0.7
    assert spec.sessions.blocking_target is None
    assert spec.forecast.weeks_quantile == 0.5
    assert spec.headroom.for_ == timedelta(minutes=10)
    assert spec.headroom.action == "Alert"
    assert spec.metrics_outage.mode == "HoldLastKnown"
    assert spec.metrics_outage.max_staleness == timedelta(minutes=5)
    assert spec.model is None and spec.paused is False


# ------------------------------------------------------------------ broken objects


@pytest.mark.parametrize("case", BROKEN, ids=lambda c: c.id)
def test_models_reject_broken_objects_naming_the_field(case: Broken) -> None:
    problems = _problems(case.body())
    assert problems, f"{case.id} was accepted"
    assert any(field == case.field and case.fragment in message for field, message in problems), (
        problems
    )


# ------------------------------------------------------------------ CRD shape


@pytest.mark.parametrize(
    ("target", "levels"),
    [(0.5, (0.85, 0.9)), (0.7, (0.85, 0.9)), (0.77, (0.85, 0.9)), (0.8, (0.89, 0.94)),
     (0.9, (1.0, 1.05)), (0.95, (1.05, 1.1)), (1.0, (1.11, 1.16))],
)  # fmt: skip
def test_a_spec_that_names_no_headroom_gets_levels_above_the_hpas_band(
    target: float, levels: tuple[float, float]
) -> None:
    """Never refused for a default's sake: any targetUtilization up to 1 is valid without a
    headroom block, its levels the next hundredth above target x 1.1 (at least 0.85 / 0.9)."""
    body = capacity_body(sessions={"perPod": 200, "targetUtilization": target})
    spec = VoiceCapacity.model_validate(body).spec
    assert spec.headroom_levels == pytest.approx(levels)
    assert spec.headroom_levels[0] > target * 1.1
    assert admission_errors(CRDS["VoiceCapacity"], body) == []


def test_a_warning_written_alone_keeps_the_default_critical_where_it_is_above() -> None:
    spec = VoiceCapacity.model_validate(capacity_body(headroom={"warning": 0.88})).spec
    assert spec.headroom_levels == (0.88, 0.9)
    high = VoiceCapacity.model_validate(capacity_body(headroom={"warning": 0.95})).spec
    assert high.headroom_levels == pytest.approx((0.95, 1.0))


def test_values_the_user_wrote_keep_their_clear_errors() -> None:
    low = capacity_body(
        sessions={"perPod": 200, "targetUtilization": 0.8}, headroom={"warning": 0.85}
    )
    with pytest.raises(
        ValidationError, match=r"headroom.warning must be above .* \(0.88\), not 0.85"
    ):
        VoiceCapacity.model_validate(low)
    critical = capacity_body(headroom={"critical": 0.8})
    with pytest.raises(ValidationError, match=r"headroom.critical \(0.8\) must be above 0.85"):
        VoiceCapacity.model_validate(critical)
