"""`voicecap calendar`: a holiday calendar ConfigMap (the format peaks[].calendarRef reads) for a
country or one of its subdivisions, from the `holidays` package (the public holidays of 150+
countries and their regions, kept current by its maintainers) instead of dates typed by hand.

    voicecap calendar US --subdivision NY --years 2026 2027 -n voice | kubectl apply -f -
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
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
    days = public_holidays(args.country, args.subdivision, args.years)
    name = args.name or "-".join(["holidays", *filter(None, (args.country, args.subdivision))])
    print(structured(config_map(name.lower(), args.namespace, days, args), args.output))
    return 0


def public_holidays(
    country: str, subdivision: str | None, years: Iterable[int]
) -> list[tuple[date, str]]:
    """(day, name) for every public holiday, in order; UsageError names what is unknown."""
    wanted = sorted(set(years))
    if not wanted or any(year < 1900 or year > 2200 for year in wanted):
        raise UsageError(f"--years {' '.join(map(str, years))}: years between 1900 and 2200")
    supported = holidays.list_supported_countries()
    code = country.upper()
    if code not in supported:
        raise UsageError(
            f"unknown country {country!r}: give an ISO 3166-1 alpha-2 code the holidays "
            "package knows (US, GB, DE, FR, IN, ...)"
        )
    subdivisions = supported[code]
    if subdivision is not None and subdivision.upper() not in {s.upper() for s in subdivisions}:
        known = ", ".join(subdivisions[:12]) + (", ..." if len(subdivisions) > 12 else "")
        raise UsageError(f"unknown subdivision {subdivision!r} of {code}: {known or 'it has none'}")
    found = holidays.country_holidays(
        code, subdiv=subdivision and subdivision.upper(), years=wanted
    )
    return sorted(found.items())


def config_map(
    name: str, namespace: str | None, days: list[tuple[date, str]], args: argparse.Namespace
) -> dict[str, Any]:
    """The calendar ConfigMap: one key per year, a `YYYY-MM-DD  # name` line per day (the
    operator's own reader, core/peaks/calendar.py, reads it back: a unit test checks)."""
    data: dict[str, str] = {}
    for day, title in days:
        data.setdefault(str(day.year), "")
        data[str(day.year)] += f"{day.isoformat()}  # {title}\n"
    where = args.country.upper() + (f"-{args.subdivision.upper()}" if args.subdivision else "")
    metadata: dict[str, Any] = {
        "name": name,
        **({"namespace": namespace} if namespace else {}),
        "labels": {"app.kubernetes.io/managed-by": "voicecap-calendar"},
        "annotations": {
            "voicecap.io/calendar": f"public holidays of {where}, "
            f"{' '.join(map(str, sorted(set(args.years))))}, from holidays "
            f"{version('holidays')}"
        },
    }
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}
