"""Time inside Vitrine is timezone-aware UTC; a person's own zone only at the edges."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

# Added to the real time by utcnow(): zero, except inside a test's travel().
_offset = timedelta(0)


def utcnow() -> datetime:
    return datetime.now(UTC) + _offset


@contextmanager
def travel(by: timedelta) -> Iterator[None]:
    """Tests: within the block, every utcnow() (any thread: a scheduler's job, a
    request) reads ``by`` later than the real time. Blocks nest; the clock keeps ticking."""
    global _offset
    before = _offset
    _offset = before + by
    try:
        yield
    finally:
        _offset = before


def as_utc(value: datetime) -> datetime:
    """Databases may hand naive datetimes back (SQLite does); they are UTC by our rule."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# Appointments, shows and ranges live between these years. Beyond them a value is a
# typo or a probe, and arithmetic near datetime.min/max overflows (OverflowError).
MIN_YEAR = 2000
MAX_YEAR = 2100


def on_the_calendar(value: datetime) -> bool:
    """Whether ``value`` is a date Vitrine can plan around (years MIN_YEAR..MAX_YEAR)."""
    return MIN_YEAR <= value.year <= MAX_YEAR
