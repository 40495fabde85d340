"""core/apply/guards.py: which guard stops a plan, in which order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from support.objects import capacity_body
from voicecap.api.models import VoiceCapacity
from voicecap.core.apply.guards import Surroundings, guard
from voicecap.core.planner.observation import Observation
from voicecap.core.planner.plan import plan

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def decide(**spec: object) -> tuple[VoiceCapacity, object]:
    capacity = VoiceCapacity.model_validate(capacity_body(**spec))
    return capacity, plan(capacity, Observation(sessions=100.0, ready_replicas=2), NOW)


CLEAR = Surroundings(target_found=True, hpa_name="healthcare", hpa_owned=True)


@pytest.mark.parametrize(
    ("paused", "around", "expected"),
    [
        (False, CLEAR, None),
        (True, Surroundings(target_found=False, hpa_name="healthcare", hpa_owned=False), "Paused"),
        (False, Surroundings(target_found=False, hpa_name="x", hpa_owned=False), "TargetNotFound"),
        (False, Surroundings(target_found=True, hpa_name="x", hpa_owned=False), "HPANameTaken"),
        (
            False,
            Surroundings(
                target_found=True,
                hpa_name="healthcare",
                hpa_owned=None,
                autoscalers=(("ScaledObject", "legacy"), ("HorizontalPodAutoscaler", "old")),
            ),
            "ConflictingAutoscaler",
        ),
        (
            False,
            Surroundings(
                target_found=True,
                hpa_name="healthcare",
                hpa_owned=True,
                autoscalers=(("HorizontalPodAutoscaler", "healthcare"),),  # our own
            ),
            None,
        ),
    ],
)
def test_guards_in_order(paused: bool, around: Surroundings, expected: str | None) -> None:
    capacity, decided = decide(paused=paused)
    outcome = guard(capacity, decided, around)  # type: ignore[arg-type]
    assert (outcome.result if outcome else None) == expected


def test_a_conflict_names_every_other_autoscaler_sorted() -> None:
    capacity, decided = decide()
    around = Surroundings(
        target_found=True,
        hpa_name="healthcare",
        hpa_owned=None,
        autoscalers=(("ScaledObject", "zeta"), ("HorizontalPodAutoscaler", "alpha")),
        budget="NotFound",
    )
    outcome = guard(capacity, decided, around)  # type: ignore[arg-type]
    assert outcome is not None
    assert outcome.message.startswith("HorizontalPodAutoscaler alpha, ScaledObject zeta already")
    assert outcome.budget == "NotFound"
