"""Constrained scalar types of the API: each parses its YAML form and declares its CRD schema.

Patterns are written in the subset that Go's RE2 (the API server), ECMA 262 (kubectl) and Python's
`re` all read the same way: no look-arounds, no back-references.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated

import promql_parser
from croniter import croniter
from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from voicecap.api import zones

DURATION_PATTERN = r"^([0-9]+h)?([0-9]+m)?([0-9]+s)?$"
_DURATION_RE = re.compile(DURATION_PATTERN)
# Latencies: the same, with milliseconds (800ms, 1s200ms), as Go's time.ParseDuration reads them.
FINE_DURATION_PATTERN = r"^([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?$"
_FINE_DURATION_RE = re.compile(FINE_DURATION_PATTERN)
_DURATION_UNITS = {"h": 3600, "m": 60, "s": 1}


def _names(*names: str) -> list[str]:
    """Month and day names as cron reads them, in the three cases people write (MON, Mon, mon)."""
    return [form for name in names for form in (name, name.capitalize(), name.lower())]


def _cron_field(
    numbers: str, names: list[str], *, any_mark: bool = False, extra: tuple[str, ...] = ()
) -> str:
    """One cron field as a regular expression: a list of `*`, values and ranges of values, each
    with an optional /step, every value inside the field's range (so an hour of 25 is refused
    by the pattern itself, at `kubectl apply`)."""
    value = "(" + "|".join([numbers, *names]) + ")"
    star = r"[*?]" if any_mark else r"[*]"
    element = f"({star}|{value}(-{value})?)(/[1-9][0-9]?)?"
    return "(" + "|".join([f"{element}(,{element})*", *extra]) + ")"


_MONTHS = _names("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = _names("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_DAY = "[0-7]|" + "|".join(_DAYS)
# minute hour day-of-month month day-of-week; L is the month's last day, DAY#N its Nth weekday.
CRON_FIELDS = (
    ("minute", _cron_field("[0-5]?[0-9]", [])),
    ("hour", _cron_field("[01]?[0-9]|2[0-3]", [])),
    ("day of month", _cron_field("0?[1-9]|[12][0-9]|3[01]", [], any_mark=True, extra=("L",))),
    ("month", _cron_field("0?[1-9]|1[0-2]", _MONTHS)),
    ("day of week", _cron_field("[0-7]", _DAYS, any_mark=True, extra=(f"({_DAY})#[1-5]",))),
)
CRON_PATTERN = "^" + " +".join(pattern for _, pattern in CRON_FIELDS) + "$"
_CRON_RE = re.compile(CRON_PATTERN)
_CRON_FIELD_RES = [(name, re.compile(f"^{pattern}$")) for name, pattern in CRON_FIELDS]

# Kubernetes resource.Quantity, as the API server's own OpenAPI publishes it.
QUANTITY_PATTERN = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
_QUANTITY_RE = re.compile(QUANTITY_PATTERN)
_BINARY_SUFFIXES = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL_SUFFIXES = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}

# Names of namespaced objects (DNS subdomains), as the API server checks them.
OBJECT_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
# Kubernetes label values, and Prometheus label names (for generated alert rules).
LABEL_VALUE_PATTERN = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
PROMETHEUS_LABEL_NAME_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
# An extended resource: a domain-prefixed name (nvidia.com/gpu, example.com/gpu-memory).
RESOURCE_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"


def parse_duration(value: object) -> timedelta:
    """Parse `90s`, `10m`, `2h`, `1h30m` (the Go duration subset that CRD users write)."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str) or not value or not _DURATION_RE.match(value):
        raise ValueError(f"expected a duration such as 90s, 10m, 2h or 1h30m, got {value!r}")
    seconds = sum(
        int(number) * _DURATION_UNITS[unit]
        for number, unit in re.findall(r"([0-9]+)([hms])", value)
    )
    return timedelta(seconds=seconds)


def parse_fine_duration(value: object) -> timedelta:
    """Parse `800ms`, `1s500ms`, `2s`, `1m` (durations with milliseconds, for latencies)."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str) or not value or not _FINE_DURATION_RE.match(value):
        raise ValueError(f"expected a duration such as 800ms, 1s500ms or 2s, got {value!r}")
    units = {"h": 3600_000, "m": 60_000, "s": 1000, "ms": 1}
    millis = sum(int(n) * units[u] for n, u in re.findall(r"([0-9]+)(ms|h|m|s)", value))
    return timedelta(milliseconds=millis)


def format_fine_duration(value: timedelta) -> str:
    """The shortest form parse_fine_duration reads back: 0.8 s -> 800ms, 90 s -> 1m30s."""
    millis = round(value.total_seconds() * 1000)
    whole, rest = divmod(millis, 1000)
    text = format_duration(timedelta(seconds=whole)) if whole else ""
    return text + f"{rest}ms" if rest else text or "0s"


def parse_promql(value: object) -> str:
    """One PromQL expression, or "" (the default query). A function the parser does not know
    (an extension of Thanos, Mimir or VictoriaMetrics) is left to the store to judge."""
    if not isinstance(value, str):
        raise ValueError(f"expected a PromQL expression, got {value!r}")
    if not value.strip():
        return ""
    try:
        promql_parser.parse(value)
    except ValueError as error:
        if "unknown function" not in str(error):
            raise ValueError(f"not one PromQL expression: {error} in {value!r}") from error
    return value


def format_duration(value: timedelta) -> str:
    """The shortest form that parse_duration reads back: 5400s -> 1h30m, 0 -> 0s."""
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = "".join(f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if n)
    return text or "0s"


def parse_cron(value: object) -> str:
    if not isinstance(value, str) or len(value.split()) != len(CRON_FIELDS):
        raise ValueError(
            f"expected a 5-field cron expression (minute hour day-of-month month day-of-week), "
            f"got {value!r}"
        )
    for text, (name, pattern) in zip(value.split(), _CRON_FIELD_RES, strict=True):
        if not pattern.match(text):
            raise ValueError(f"invalid cron expression {value!r}: {name} {text!r} is out of range")
    if not _CRON_RE.match(value) or not croniter.is_valid(" ".join(value.split())):
        raise ValueError(f"invalid cron expression {value!r}")
    return " ".join(value.split())


def parse_time_zone(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected an IANA time zone such as America/New_York, got {value!r}")
    if not zones.known(value):
        raise ValueError(f"unknown IANA time zone {value!r} (tzdata {zones.tzdata_version()})")
    return value


# A day (2026-12-25) or an inclusive range of days (2026-12-24/2026-12-26, ISO 8601's interval
# form), months and days in range; a day that no month has (02-30) is the models' to refuse.
_DAY = r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
DATE_SPAN_PATTERN = f"^{_DAY}(/{_DAY})?$"
_DATE_SPAN_RE = re.compile(DATE_SPAN_PATTERN)
DaySpan = tuple[date, date]


def parse_date_span(value: object) -> DaySpan:
    """`2026-12-25` -> (Dec 25, Dec 25); `2026-12-24/2026-12-26` -> (Dec 24, Dec 26)."""
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, date) for v in value):
        return value
    if not isinstance(value, str) or not _DATE_SPAN_RE.match(value):
        raise ValueError(
            f"expected a date such as 2026-12-25 or a range such as 2026-12-24/2026-12-26, "
            f"got {value!r}"
        )
    first, _, last = value.partition("/")
    try:
        start = date.fromisoformat(first)
        end = date.fromisoformat(last) if last else start
    except ValueError as error:
        raise ValueError(f"{value!r} is not a calendar date: {error}") from error
    if end < start:
        raise ValueError(f"{value!r}: the range ends before it starts")
    return (start, end)


def format_date_span(value: DaySpan) -> str:
    start, end = value
    return start.isoformat() if start == end else f"{start.isoformat()}/{end.isoformat()}"


def parse_quantity(value: object) -> Decimal:
    """The numeric value of a Kubernetes quantity: `50m` -> 0.05, `120Mi` -> 125829120."""
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else None
    if text is None or not _QUANTITY_RE.match(text):
        raise ValueError(f"expected a Kubernetes quantity such as 50m, 2 or 120Mi, got {value!r}")
    number, suffix = re.match(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9.]+)?)(.*)$", text).groups()  # type: ignore[union-attr]
    try:
        if suffix in _BINARY_SUFFIXES:
            return Decimal(number) * _BINARY_SUFFIXES[suffix]
        return Decimal(number) * _DECIMAL_SUFFIXES[suffix]
    except (InvalidOperation, KeyError) as error:
        raise ValueError(f"invalid Kubernetes quantity {value!r}") from error


def _quantity_text(value: object) -> str:
    parse_quantity(value)
    return str(value)


class AutoLeadTime(timedelta):
    """`leadTime: auto`: a duration the planner measures (core/planner/lead_time.py); until then
    AUTO_LEAD_DEFAULT. It serializes back as "auto"."""


AUTO_LEAD_DEFAULT = timedelta(minutes=10)
LEAD_TIME_PATTERN = r"^(auto|([0-9]+h)?([0-9]+m)?([0-9]+s)?)$"


def parse_lead_time(value: object) -> timedelta:
    """A duration, or "auto" (an AutoLeadTime of AUTO_LEAD_DEFAULT until measured)."""
    if isinstance(value, timedelta):
        return value
    if value == "auto":
        return AutoLeadTime(seconds=AUTO_LEAD_DEFAULT.total_seconds())
    try:
        return parse_duration(value)
    except ValueError:
        raise ValueError(
            f"expected auto or a duration such as 90s, 10m, 2h or 1h30m, got {value!r}"
        ) from None


def format_lead_time(value: timedelta) -> str:
    return "auto" if isinstance(value, AutoLeadTime) else format_duration(value)


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN, "minLength": 2}),
]
LeadTime = Annotated[
    timedelta,
    BeforeValidator(parse_lead_time),
    PlainSerializer(format_lead_time, return_type=str),
    WithJsonSchema({"type": "string", "pattern": LEAD_TIME_PATTERN, "minLength": 2}),
]
FineDuration = Annotated[
    timedelta,
    BeforeValidator(parse_fine_duration),
    PlainSerializer(format_fine_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": FINE_DURATION_PATTERN, "minLength": 2}),
]
PromQL = Annotated[
    str,
    BeforeValidator(parse_promql),
    WithJsonSchema({"type": "string", "maxLength": 4096}),
]
Cron = Annotated[
    str,
    BeforeValidator(parse_cron),
    WithJsonSchema({"type": "string", "pattern": CRON_PATTERN, "maxLength": 128}),
]
TimeZone = Annotated[
    str,
    BeforeValidator(parse_time_zone),
    # An enum of the zones in the pinned tzdata: the API server refuses America/Nowhere at apply.
    WithJsonSchema({"type": "string", "enum": list(zones.time_zones())}),
]
DateSpan = Annotated[
    DaySpan,
    BeforeValidator(parse_date_span),
    PlainSerializer(format_date_span, return_type=str),
    WithJsonSchema({"type": "string", "pattern": DATE_SPAN_PATTERN, "maxLength": 21}),
]
Quantity = Annotated[
    str,
    BeforeValidator(_quantity_text),
    WithJsonSchema(
        {
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "pattern": QUANTITY_PATTERN,
            "x-kubernetes-int-or-string": True,
        }
    ),
]
