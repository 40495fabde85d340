"""Timestamps as the Kubernetes API writes them (RFC 3339, UTC, `Z`), and back.

Every time the operator shows or stores (status, Events, plans, reports) goes through here.
"""

from __future__ import annotations

from datetime import UTC, datetime


def iso(moment: datetime) -> str:
    """Seconds precision, the way metav1.Time serializes (`2026-11-23T14:00:00Z`)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_or_none(moment: datetime | None) -> str | None:
    return iso(moment) if moment is not None else None


def micro_iso(moment: datetime) -> str:
    """Microseconds precision, the way metav1.MicroTime serializes (Event.eventTime)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str | None) -> datetime | None:
    """An RFC 3339 time, or None when absent or unreadable; a missing offset is taken as UTC."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
