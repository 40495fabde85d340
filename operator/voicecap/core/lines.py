"""The lines of a ConfigMap users write by hand (holiday calendars, tenant caps): every data value,
keys in order, one entry per line, `#` starting a comment, blank lines skipped. Each entry comes
with where it is ("<key> line <n>"), so a bad one can be named and skipped."""

from __future__ import annotations

from collections.abc import Iterator, Mapping


def entries(data: Mapping[str, str] | None) -> Iterator[tuple[str, str]]:
    """(where, entry) for every non-blank line, comments stripped."""
    for key, text in sorted((data or {}).items()):
        for number, line in enumerate(str(text).splitlines(), start=1):
            entry = line.split("#", 1)[0].strip()
            if entry:
                yield f"{key} line {number}", entry
