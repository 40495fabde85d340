"""`voicecap calendar`: a holiday calendar ConfigMap (the format peaks[].calendarRef reads) for a
country or one of its subdivisions, from the `holidays` package (the public holidays of 150+
countries and their regions, kept current by its maintainers) instead of dates typed by hand.

    voicecap calendar US --subdivision NY --years 2026 2027 -n voice | kubectl apply -f -
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from importlib.metadata import version
from typing import Any

import holidays

from voicecap.cli.args import UsageError
from voicecap.cli.output import structured


def add_calendar(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `calendar`."""
    calendar = commands.add_parser(
        "calendar",
        help="print a holiday calendar ConfigMap (peaks[].calendarRef) for a country",
        description="Print a ConfigMap of a country's (or subdivision's) public holidays, one "
        "key per year, one `YYYY-MM-DD  # name` line per day: the format peaks[].calendarRef "
        "reads. From the `holidays` package.",
    )
    calendar.add_argument("country", help="ISO 3166-1 alpha-2 code: US, GB, DE, IN, ...")
    calendar.add_argument(
        "--subdivision", "-s", help="ISO 3166-2 subdivision: NY (US), ENG (GB), BY (DE), ..."
    )
    calendar.add_argument(
        "--years",
        type=int,
        nargs="+",
        default=[datetime.now(UTC).year, datetime.now(UTC).year + 1],
        metavar="YEAR",
        help="the years to list (default: this year and the next)",
    )
    calendar.add_argument(
        "--name", help="the ConfigMap's name (default holidays-<country>[-<sub>])"
    )
    calendar.add_argument("--namespace", "-n", help="the ConfigMap's namespace (that of the peaks)")
    calendar.add_argument("--output", "-o", choices=("yaml", "json"), default="yaml")
    calendar.set_defaults(handler=print_calendar)


def print_calendar(args: argparse.Namespace) -> int:
    """`voicecap calendar`: the ConfigMap on stdout; an unknown country or subdivision is one
    line and exit 2."""
    country = args.country.upper()
    subdivision = args.subdivision.upper() if args.subdivision else None
    years = sorted(set(args.years))
    days = public_holidays(country, subdivision, years)
    where = "-".join(filter(None, (country, subdivision)))
    name = args.name or f"holidays-{where.lower()}"
    print(structured(config_map(name, args.namespace, days, where, years), args.output))
    return 0


def public_holidays(
    country: str, subdivision: str | None, years: list[int]
) -> list[tuple[date, str]]:
    """(day, name) for every public holiday of the (upper-case) country or subdivision, in
    order; UsageError names what is unknown."""
    if not years or any(year < 1900 or year > 2200 for year in years):
        raise UsageError(f"--years {' '.join(map(str, years))}: years between 1900 and 2200")
    supported = holidays.list_supported_countries()
    if country not in supported:
        raise UsageError(
            f"unknown country {country!r}: give an ISO 3166-1 alpha-2 code the holidays "
            "package knows (US, GB, DE, FR, IN, ...)"
        )
    subdivisions = supported[country]
    if subdivision is not None and subdivision not in {s.upper() for s in subdivisions}:
        known = ", ".join(subdivisions[:12]) + (", ..." if len(subdivisions) > 12 else "")
        raise UsageError(
            f"unknown subdivision {subdivision!r} of {country}: {known or 'it has none'}"
        )
    return sorted(holidays.country_holidays(country, subdiv=subdivision, years=years).items())


def config_map(
    name: str, namespace: str | None, days: list[tuple[date, str]], where: str, years: list[int]
) -> dict[str, Any]:
    """The calendar ConfigMap: one key per year, a `YYYY-MM-DD  # name` line per day (the
    operator's own reader, core/peaks/calendar.py, reads it back: a unit test checks)."""
    data: dict[str, str] = {}
    for day, title in days:
        data.setdefault(str(day.year), "")
        data[str(day.year)] += f"{day.isoformat()}  # {title}\n"
    metadata: dict[str, Any] = {
        "name": name,
        **({"namespace": namespace} if namespace else {}),
        "labels": {"app.kubernetes.io/managed-by": "voicecap-calendar"},
        "annotations": {
            "voicecap.io/calendar": f"public holidays of {where}, "
            f"{' '.join(map(str, years))}, from holidays {version('holidays')}"
        },
    }
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}
