"""Time inside Vitrine is timezone-aware UTC; a person's own zone only at the edges."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Databases may hand naive datetimes back (SQLite does); they are UTC by our rule."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
