"""core/planner/reasoned.py: a value travels with its reason, and two equal plans compare equal."""

from __future__ import annotations

import dataclasses

import pytest

from voicecap.core.planner.reasoned import Reasoned


def test_a_value_with_and_without_a_reason() -> None:
    assert Reasoned(3).reason is None
    assert Reasoned(3, "ceil(300 / 140) = 3") == Reasoned(3, "ceil(300 / 140) = 3")
    assert Reasoned(3, "a") != Reasoned(3, "b"), "a new reason is a change worth a status write"


def test_it_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Reasoned(3).value = 4  # type: ignore[misc]
