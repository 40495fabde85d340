"""Holiday calendars: the days a ConfigMap lists, and a VoiceCapacity with them merged into the
peaks that reference it (peaks[].calendarRef). Pure: the service reads the ConfigMaps.

A calendar's every data value is read, one day (2026-12-25) or inclusive range
(2026-12-24/2026-12-26) per line; `#` starts a comment, blank lines are skipped. A line that is
not a day is a problem named by its key and line, and the other lines still count.

A peak whose calendar is missing or unreadable opens its windows as if it had none: pre-scaling
on a holiday costs pods for a few hours, skipping a real peak would cost calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from voicecap.api.models import Peak, VoiceCapacity
from voicecap.api.types import DaySpan, parse_date_span
from voicecap.core.lines import entries


@dataclass(frozen=True)
class Calendar:
    """What one calendar ConfigMap holds (found=False: it does not exist)."""

    spans: tuple[DaySpan, ...] = ()
    problems: tuple[str, ...] = ()
    found: bool = True


MISSING = Calendar(found=False)


def parse_calendar(data: Mapping[str, str] | None) -> Calendar:
    spans: list[DaySpan] = []
    problems: list[str] = []
    for where, entry in entries(data):
        try:
            spans.append(parse_date_span(entry))
        except ValueError as error:
            problems.append(f"{where}: {error}")
    return Calendar(tuple(spans), tuple(problems))


@dataclass(frozen=True)
class CalendarReport:
    """What the calendars the peaks name said: condition CalendarsReady."""

    days: Mapping[str, int] | None = None  # calendar name -> days it lists; None: none named
    problems: tuple[str, ...] = ()
    reason: str = "Resolved"  # CalendarNotFound | CalendarInvalid | CalendarUnread


@dataclass(frozen=True)
class Resolved:
    """A VoiceCapacity with its calendars' days in its peaks' exclude, and the report."""

    capacity: VoiceCapacity
    report: CalendarReport = CalendarReport()


def with_calendars(capacity: VoiceCapacity, calendars: Mapping[str, Calendar | None]) -> Resolved:
    """`calendars`: by ConfigMap name in the capacity's namespace (None: not read yet)."""
    names = {peak.calendar_ref.name for peak in capacity.spec.peaks if peak.calendar_ref}
    if not names:
        return Resolved(capacity)
    problems: list[str] = []
    reasons: set[str] = set()
    peaks: list[Peak] = []
    for index, peak in enumerate(capacity.spec.peaks):
        ref = peak.calendar_ref
        if ref is None:
            peaks.append(peak)
            continue
        field = f"spec.peaks[{index}].calendarRef.name"
        where = f"ConfigMap {capacity.namespace}/{ref.name}"
        calendar = calendars.get(ref.name)
        if calendar is None or not calendar.found:
            reasons.add("CalendarUnread" if calendar is None else "CalendarNotFound")
            problems.append(
                f"{field}: {where} {'could not be read' if calendar is None else 'not found'}; "
                f"{peak.name} opens its windows as if it had no calendar"
            )
            peaks.append(peak)
            continue
        if calendar.problems:
            reasons.add("CalendarInvalid")
            problems += [f"{field}: {where}: {problem}" for problem in calendar.problems]
        peaks.append(peak.model_copy(update={"exclude": [*peak.exclude, *calendar.spans]}))
    spec = capacity.spec.model_copy(update={"peaks": peaks})
    days = {
        name: sum((end - start).days + 1 for start, end in found.spans)
        for name in sorted(names)
        if (found := calendars.get(name)) is not None and found.found
    }
    # The worst first: a missing calendar, then one never read, then a bad line.
    order = ("CalendarNotFound", "CalendarUnread", "CalendarInvalid")
    reason = next((r for r in order if r in reasons), "Resolved")
    report = CalendarReport(days, tuple(problems), reason)
    return Resolved(capacity.model_copy(update={"spec": spec}), report)
