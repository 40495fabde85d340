"""Constrained scalar types of the API: each parses its YAML form and declares its CRD schema.

Patterns are written in the subset that Go's RE2 (the API server), ECMA 262 (kubectl) and Python's
`re` all read the same way: no look-arounds, no back-references.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated

from croniter import croniter
from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

DURATION_PATTERN = r"^([0-9]+h)?([0-9]+m)?([0-9]+s)?$"
_DURATION_RE = re.compile(DURATION_PATTERN)
_DURATION_UNITS = {"h": 3600, "m": 60, "s": 1}

# Five whitespace-separated fields of cron characters; croniter checks the values.
CRON_PATTERN = r"^[0-9A-Za-z*,/?-]+( +[0-9A-Za-z*,/?-]+){4}$"
_CRON_RE = re.compile(CRON_PATTERN)

TIME_ZONE_PATTERN = r"^[A-Za-z][A-Za-z0-9_+/-]*$"

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

# Kubernetes label values, and Prometheus label names (for generated alert rules).
LABEL_VALUE_PATTERN = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
PROMETHEUS_LABEL_NAME_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]*$"


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


def format_duration(value: timedelta) -> str:
    """The shortest form that parse_duration reads back: 5400s -> 1h30m, 0 -> 0s."""
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = "".join(f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if n)
    return text or "0s"


def parse_cron(value: object) -> str:
    if not isinstance(value, str) or not _CRON_RE.match(value.strip()):
        raise ValueError(
            f"expected a 5-field cron expression (minute hour day-of-month month day-of-week), "
            f"got {value!r}"
        )
    expression = " ".join(value.split())
    if not croniter.is_valid(expression):
        raise ValueError(f"invalid cron expression {value!r}")
    return expression


def parse_time_zone(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected an IANA time zone such as America/New_York, got {value!r}")
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown IANA time zone {value!r}") from error
    return value


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


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN, "minLength": 2}),
]
Cron = Annotated[
    str,
    BeforeValidator(parse_cron),
    WithJsonSchema({"type": "string", "pattern": CRON_PATTERN, "maxLength": 128}),
]
TimeZone = Annotated[
    str,
    BeforeValidator(parse_time_zone),
    WithJsonSchema({"type": "string", "pattern": TIME_ZONE_PATTERN, "maxLength": 64}),
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
