"""core/lines.py: the entries of a hand-written ConfigMap, each with where it is."""

from __future__ import annotations

from voicecap.core.lines import entries


def test_every_value_in_key_order_comments_and_blanks_skipped() -> None:
    data = {"b": "x  # a comment\n\n  y\n", "a": "# only a comment\nz"}
    assert list(entries(data)) == [("a line 2", "z"), ("b line 1", "x"), ("b line 3", "y")]
    assert list(entries(None)) == []
