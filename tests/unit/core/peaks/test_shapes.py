"""core/peaks/shapes.py: what a forecast query is about (its shape), the spans it asks for and
how an answer reads back as weekly values, the same for the operator and `voicecap replay`."""

from __future__ import annotations

from datetime import timedelta

from support.objects import at, capacity, peak
from voicecap.core.peaks.shapes import SINGLE, series_key, shape_of, weekly_spans, weeks_from

MONDAY = peak()
NOV_9_0900 = at("2026-11-09T09:00:00-05:00")


def test_peaks_that_ask_the_same_question_share_a_shape() -> None:
    healthcare = capacity()
    sales = capacity(forecast={"quantile": 0.99})
    assert shape_of(healthcare, MONDAY) == shape_of(sales, MONDAY)
    assert shape_of(healthcare, MONDAY) != shape_of(healthcare, peak(duration="3h"))
    assert shape_of(healthcare, MONDAY) != shape_of(capacity(forecast={"quantile": 0.9}), MONDAY)
    holiday = peak(exclude=["2026-12-28"])
    assert shape_of(healthcare, holiday).exclude != shape_of(healthcare, MONDAY).exclude


def test_every_slot_of_every_week_is_one_labelled_span() -> None:
    spans = weekly_spans(MONDAY, NOV_9_0900, 2)
    labels = [span.label for span in spans]
    assert labels[0] == "1.0" and labels[-1].startswith("2.")
    assert spans[0].start == NOV_9_0900 - timedelta(weeks=1)
    slots = sum(1 for label in labels if label.startswith("1."))
    assert slots == len(labels) // 2 and slots > 1  # a 2h window is several slots
    assert spans[slots - 1].end == NOV_9_0900 - timedelta(weeks=1) + timedelta(hours=2)


def test_an_answer_reads_back_newest_week_first_with_missing_slots_as_none() -> None:
    spans = weekly_spans(MONDAY, NOV_9_0900, 2)
    values = {span.label: 100.0 + index for index, span in enumerate(spans) if span.label != "1.0"}
    weeks = weeks_from(values, MONDAY, NOV_9_0900, 2)
    assert [week.start for week in weeks] == [
        at("2026-11-02T09:00:00-05:00"),
        at("2026-10-26T09:00:00-04:00"),  # 09:00 local before the DST change: 13:00 UTC
    ]
    assert weeks[0].slots[0] is None and weeks[1].slots[0] is not None


def test_weeks_are_flagged_offered_where_refusals_were_counted_else_censored_at_the_limit() -> None:
    spans = weekly_spans(MONDAY, NOV_9_0900, 3)
    values = {span.label: 100.0 for span in spans}
    flags = {"offered": {"1": 0.5, "3": 0.0}, "censored": {"1": 0.99, "2": 0.96, "3": 0.9}}
    weeks = weeks_from(values, MONDAY, NOV_9_0900, 3, flags)
    assert [(week.offered, week.censored) for week in weeks] == [
        (True, False),  # at its limit, but the refused calls are in its value
        (False, True),  # at its limit and nothing counted the refused: a lower bound
        (False, False),  # below the limit
    ]


def test_the_default_query_is_batched_by_vertical_and_an_override_is_one_series() -> None:
    assert series_key(capacity()) == ("voice", "healthcare")
    override = capacity(sessions={"perPod": 200, "targetUtilization": 0.7, "query": "sum(x)"})
    assert series_key(override) == SINGLE
