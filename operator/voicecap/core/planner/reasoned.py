"""A value with the reason a plan gives for it: what every planner stage returns, so reasons
flow out with their values instead of being written into a dict the caller passes in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Reasoned(Generic[T]):
    value: T
    reason: str | None = None  # None: this stage has nothing to say
