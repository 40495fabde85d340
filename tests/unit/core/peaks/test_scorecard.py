"""core/peaks/scorecard.py: a peak's latest window, opened when its floor is raised, its minutes
over capacity, the actual once history has it, and whether the planned pods were Ready."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from support.objects import at, peak
from voicecap.core.peaks.scorecard import Scorecard, score

MONDAY = peak()
NOV_9_0900 = at("2026-11-09T09:00:00-05:00")


def scored(
    now: datetime, previous: tuple[Scorecard, ...] = (), **kwargs: Any
) -> tuple[Scorecard, ...]:
    options: dict[str, Any] = {
        "baselines": {"monday-morning": (400.0, "forecast")},
        "over_capacity": False,
        "actuals": {},
    }
    options.update(kwargs)
    return score([MONDAY], previous, now=now, **options)


def test_a_card_opens_with_the_baseline_when_the_floor_is_raised() -> None:
    assert scored(at("2026-11-09T08:49:00-05:00")) == ()  # before the lead time
    (card,) = scored(at("2026-11-09T08:50:00-05:00"), over_capacity=True)
    assert (card.window_start, card.baseline, card.baseline_source) == (
        NOV_9_0900,
        400.0,
        "forecast",
    )
    assert card.over_capacity_minutes == 0  # lead time is not the window


def test_minutes_over_capacity_count_once_per_minute() -> None:
    cards = scored(at("2026-11-09T08:55:00-05:00"))
    for moment, over in [
        ("09:10:05", True),
        ("09:10:20", True),  # the same minute
        ("09:11:00", True),
        ("09:12:00", False),
        ("09:40:30", True),
    ]:
        cards = scored(at(f"2026-11-09T{moment}-05:00"), cards, over_capacity=over)
    assert cards[0].over_capacity_minutes == 3
    assert cards[0].last_over_capacity == at("2026-11-09T09:40:00-05:00")


def test_a_closed_window_takes_its_actual_and_error_ratio() -> None:
    cards = scored(at("2026-11-09T10:00:00-05:00"))
    wrong_week = {"monday-morning": (NOV_9_0900 - timedelta(weeks=1), 999.0)}
    cards = scored(at("2026-11-09T11:01:00-05:00"), cards, actuals=wrong_week)
    assert cards[0].actual is None  # another window's value is not this one's
    cards = scored(
        at("2026-11-09T11:02:00-05:00"), cards, actuals={"monday-morning": (NOV_9_0900, 500.0)}
    )
    assert cards[0].actual == 500.0
    assert cards[0].error_ratio == 0.25  # (500 - 400) / 400: 25 % more calls than planned for
    # a week later the next window opens a new card
    (card,) = scored(at("2026-11-16T08:51:00-05:00"), cards)
    assert card.window_start == NOV_9_0900 + timedelta(weeks=1) and card.actual is None


def test_the_first_evaluation_inside_the_window_records_the_floor_and_the_ready_pods() -> None:
    cards = scored(at("2026-11-09T08:52:00-05:00"), floor=6, ready=2)
    assert cards[0].planned_floor is None, "the lead time is not the opening"
    cards = scored(at("2026-11-09T09:00:10-05:00"), cards, floor=6, ready=5)
    assert (cards[0].planned_floor, cards[0].ready_at_open, cards[0].shortfall) == (6, 5, 1)
    cards = scored(at("2026-11-09T09:05:00-05:00"), cards, floor=6, ready=6)
    assert cards[0].ready_at_open == 5, "only the first evaluation inside counts"


def test_a_baseline_that_appears_during_the_lead_time_is_what_the_card_plans_for() -> None:
    cards = scored(at("2026-11-09T08:51:00-05:00"), baselines={"monday-morning": (None, "none")})
    cards = scored(at("2026-11-09T08:53:00-05:00"), cards)
    assert (cards[0].baseline, cards[0].baseline_source) == (400.0, "forecast")


def test_current_sessions_move_every_cycle_so_the_first_seen_stands() -> None:
    def current(calls: float) -> dict[str, tuple[float, str]]:
        return {"monday-morning": (calls, "current")}

    cards = scored(at("2026-11-09T08:54:00-05:00"), baselines=current(120.0))
    cards = scored(at("2026-11-09T08:55:00-05:00"), cards, baselines=current(130.0))
    assert (cards[0].baseline, cards[0].baseline_source) == (120.0, "current")


def test_no_error_ratio_without_a_baseline() -> None:
    card = Scorecard("p", NOV_9_0900, NOV_9_0900 + timedelta(hours=2), None, "none", actual=500.0)
    assert card.error_ratio is None and card.shortfall is None
