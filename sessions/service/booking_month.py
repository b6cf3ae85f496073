"""A month of free consultation times, grouped by the shopper's own local day.

The booking page shows a month calendar: a day is marked when it has a free time, in the
zone the shopper reads the page in (a 23:30 slot in Paris is the next day in Shanghai).
The month runs from the first to the last day in that zone; the slots themselves come
from `appointments.find_slots` (the same check the booking itself makes), asked in
windows short enough for its range limit even across a daylight-saving change.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from sessions.service.appointments import SlotOption, find_slots

# How far a shopper may page ahead, and how far "the next free day" is looked for.
MONTHS_AHEAD = 12
WINDOW = timedelta(days=16)
NEXT_FREE_SEARCH = timedelta(days=92)


@dataclass(frozen=True)
class Filters:
    store_id: int | None = None
    associate_id: int | None = None
    language: str | None = None
    speciality: str | None = None


@dataclass
class Month:
    first: date  # the month's first day
    zone: str
    today: date  # in `zone`
    days: dict[date, list[SlotOption]] = field(default_factory=dict)
    next_free_day: date | None = None  # only looked for when the month has none

    @property
    def previous(self) -> date | None:
        """The month before, unless it is wholly in the past."""
        before = add_months(self.first, -1)
        return before if before >= self.today.replace(day=1) else None

    @property
    def next(self) -> date | None:
        after = add_months(self.first, 1)
        return after if after <= add_months(self.today.replace(day=1), MONTHS_AHEAD) else None


def add_months(first: date, count: int) -> date:
    index = first.year * 12 + first.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_is_offered(first: date, today: date) -> bool:
    """This month or one of the next MONTHS_AHEAD, in the shopper's zone."""
    this = today.replace(day=1)
    return this <= first <= add_months(this, MONTHS_AHEAD)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def _slots(
    db: Session, brand_id: int, start: datetime, end: datetime, now: datetime, filters: Filters
) -> list[SlotOption]:
    found: list[SlotOption] = []
    cursor = start
    while cursor < end:
        stop = min(cursor + WINDOW, end)
        found += find_slots(
            db,
            brand_id,
            start=cursor,
            end=stop,
            now=now,
            store_id=filters.store_id,
            associate_id=filters.associate_id,
            language=filters.language,
            speciality=filters.speciality,
        )
        cursor = stop
    return found


def month_of_slots(
    db: Session, brand_id: int, *, first: date, zone: str, now: datetime, filters: Filters
) -> Month:
    """Free times of the month starting `first`, by local day in `zone`, earliest first."""
    tz = ZoneInfo(zone)
    month = Month(first=first, zone=zone, today=now.astimezone(tz).date())
    start = max(_midnight(first, tz), now)
    end = _midnight(add_months(first, 1), tz)
    by_day: dict[date, list[SlotOption]] = defaultdict(list)
    if start < end:
        for slot in _slots(db, brand_id, start, end, now, filters):
            by_day[slot.starts_at.astimezone(tz).date()].append(slot)
    month.days = dict(sorted(by_day.items()))
    if not month.days:
        month.next_free_day = next_free_day(
            db, brand_id, after=max(end, now), zone=tz, now=now, filters=filters
        )
    return month


def next_free_day(
    db: Session, brand_id: int, *, after: datetime, zone: ZoneInfo, now: datetime, filters: Filters
) -> date | None:
    """The first local day after `after` with a free time, within NEXT_FREE_SEARCH."""
    cursor, limit = after, after + NEXT_FREE_SEARCH
    while cursor < limit:
        stop = min(cursor + WINDOW, limit)
        found = _slots(db, brand_id, cursor, stop, now, filters)
        if found:
            return found[0].starts_at.astimezone(zone).date()
        cursor = stop
    return None
