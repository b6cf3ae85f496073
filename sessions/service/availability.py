"""Free consultation slots: pure computation, no database, no clock of its own.

Hours are written in the store's time zone (that is how a store thinks of its
day: "Tuesdays 10:00-13:00 and 14:00-19:00"). Every slot leaves here as an
aware UTC datetime; the shopper's own zone is applied only when displaying.

Walking the day in the store's wall-clock time keeps a 10:00 opening at 10:00
on both sides of a daylight-saving change; a wall time that does not exist
(spring forward) is skipped, an ambiguous one (fall back) takes its first
occurrence.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Appointments occupy cells of this many minutes (see AppointmentSlot): two
# appointments of one associate overlap exactly when they share a cell.
CELL_MINUTES = 5


@dataclass(frozen=True)
class Rules:
    slot_minutes: int = 30
    buffer_minutes: int = 10
    min_notice_minutes: int = 60
    max_per_day: int = 8


@dataclass(frozen=True)
class Span:
    """Working hours on a weekday (0 = Monday), wall-clock in the store's zone."""

    weekday: int
    start: time
    end: time


@dataclass(frozen=True)
class DayException:
    """One date's replacement hours; start/end None means the whole day is off."""

    day: date
    start: time | None = None
    end: time | None = None

    @property
    def is_day_off(self) -> bool:
        return self.start is None or self.end is None


@dataclass(frozen=True)
class Schedule:
    zone: str
    hours: tuple[Span, ...]
    exceptions: tuple[DayException, ...] = ()
    rules: Rules = Rules()


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end


def to_utc(day: date, wall: time, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of a wall-clock time, or None if the clock skipped it."""
    local = datetime.combine(day, wall, tzinfo=zone).replace(fold=0)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None  # inside a spring-forward gap
    return instant


def spans_on(schedule: Schedule, day: date) -> list[tuple[time, time]]:
    """The working spans of one local date: exceptions replace the weekly hours."""
    todays = [e for e in schedule.exceptions if e.day == day]
    if todays:
        if any(e.is_day_off for e in todays):
            return []
        pairs = [(e.start, e.end) for e in todays if e.start and e.end]
    else:
        pairs = [(s.start, s.end) for s in schedule.hours if s.weekday == day.weekday()]
    return sorted(p for p in pairs if p[0] < p[1])


def occupied(start: datetime, rules: Rules) -> Interval:
    """What an appointment starting at `start` blocks: the slot and the buffer after it."""
    return Interval(start, start + timedelta(minutes=rules.slot_minutes + rules.buffer_minutes))


def _wall_starts(span: tuple[time, time], rules: Rules) -> Iterator[time]:
    step = rules.slot_minutes + rules.buffer_minutes
    cursor = datetime.combine(date(2000, 1, 3), span[0])
    limit = datetime.combine(date(2000, 1, 3), span[1])
    while cursor + timedelta(minutes=rules.slot_minutes) <= limit:
        yield cursor.time()
        cursor += timedelta(minutes=step)


def local_dates(start: datetime, end: datetime, zone: ZoneInfo) -> list[date]:
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def free_slots(
    schedule: Schedule,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    booked: Iterable[datetime] = (),
) -> list[datetime]:
    """Slot starts (UTC) in [start, end) that are free, with enough notice, under the day cap.

    `booked` are the starts of the associate's existing appointments (any store):
    they block their slot and buffer, and count towards the day's maximum.
    """
    zone = ZoneInfo(schedule.zone)
    rules = schedule.rules
    taken = [occupied(b, rules) for b in booked]
    earliest = max(start, now + timedelta(minutes=rules.min_notice_minutes))
    slots: list[datetime] = []
    for day in local_dates(start, end, zone):
        per_day = sum(1 for b in taken if b.start.astimezone(zone).date() == day)
        if per_day >= rules.max_per_day:
            continue
        for span in spans_on(schedule, day):
            for wall in _wall_starts(span, rules):
                instant = to_utc(day, wall, zone)
                if instant is None or instant < earliest or instant >= end:
                    continue
                block = occupied(instant, rules)
                if not any(block.overlaps(t) for t in taken):
                    slots.append(instant)
    return sorted(slots)


def is_working(schedule: Schedule, at: datetime) -> bool:
    """Is `at` inside one of the working spans of its local day?"""
    zone = ZoneInfo(schedule.zone)
    day = at.astimezone(zone).date()
    for span in spans_on(schedule, day):
        opens, closes = to_utc(day, span[0], zone), to_utc(day, span[1], zone)
        if opens is not None and closes is not None and opens <= at < closes:
            return True
    return False


def next_opening(schedule: Schedule, after: datetime, days: int = 14) -> datetime | None:
    """The next instant a working span begins (or `after` itself if open now)."""
    if is_working(schedule, after):
        return after
    zone = ZoneInfo(schedule.zone)
    for day in local_dates(after, after + timedelta(days=days), zone):
        for span in spans_on(schedule, day):
            opens = to_utc(day, span[0], zone)
            if opens is not None and opens > after:
                return opens
    return None


def cells(start: datetime, rules: Rules) -> list[datetime]:
    """The grid cells (UTC, aligned to the epoch) an appointment occupies, buffer included."""
    block = occupied(start, rules)
    size = timedelta(minutes=CELL_MINUTES)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    first = epoch + ((block.start - epoch) // size) * size
    out: list[datetime] = []
    cursor = first
    while cursor < block.end:
        out.append(cursor)
        cursor += size
    return out


def in_zone(instant: datetime, zone: str) -> datetime:
    """For display only: the instant in a person's own zone."""
    return instant.astimezone(ZoneInfo(zone))
