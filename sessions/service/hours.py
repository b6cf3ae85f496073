"""An associate's hours: the weekly pattern per store, exceptions on dates, online or not.

The arithmetic (free slots, next opening) is pure and lives in `availability`;
this module reads and writes the rows it works from.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, time

from sqlmodel import Session, col, delete, select

from sessions.errors import N_, InvalidInput, NotFound
from sessions.models import (
    AssociateProfile,
    AssociateStatus,
    AssociateStore,
    AvailabilityException,
    Store,
    WeeklyHours,
)
from sessions.service import availability as av


@dataclass(frozen=True)
class WorkSpan:
    """One span of the weekly pattern: a weekday (0 = Monday), a store, wall-clock times."""

    weekday: int
    store_id: int
    start: time
    end: time


def at_store(store_id: int, spans: list[av.Span]) -> list[WorkSpan]:
    """The same weekly spans, all at one store."""
    return [WorkSpan(s.weekday, store_id, s.start, s.end) for s in spans]


def rules_of(profile: AssociateProfile) -> av.Rules:
    return av.Rules(
        slot_minutes=profile.slot_minutes,
        buffer_minutes=profile.buffer_minutes,
        min_notice_minutes=profile.min_notice_minutes,
        max_per_day=profile.max_per_day,
    )


def schedule_of(db: Session, profile: AssociateProfile, store: Store) -> av.Schedule:
    hours = db.exec(
        select(WeeklyHours).where(
            WeeklyHours.associate_id == profile.id, WeeklyHours.store_id == store.id
        )
    ).all()
    exceptions = db.exec(
        select(AvailabilityException).where(
            AvailabilityException.associate_id == profile.id,
            (col(AvailabilityException.store_id).is_(None))
            | (AvailabilityException.store_id == store.id),
        )
    ).all()
    return av.Schedule(
        zone=store.timezone,
        hours=tuple(av.Span(h.weekday, h.start_time, h.end_time) for h in hours),
        exceptions=tuple(av.DayException(e.day, e.start_time, e.end_time) for e in exceptions),
        rules=rules_of(profile),
    )


def do_set_weekly_hours(
    db: Session, profile: AssociateProfile, spans: list[WorkSpan], *, store_id: int | None = None
) -> None:
    """Replace the associate's weekly hours: all of them, or only those at `store_id`.

    Split shifts are several spans a day. Two spans of one day must not overlap, at
    one store or across two: an associate cannot be in two places at once."""
    assert profile.id is not None
    for span in spans:
        profile_and_store(db, profile.brand_id, profile.id, span.store_id)
        if store_id is not None and span.store_id != store_id:
            raise InvalidInput("Every span must be at the store being changed.", field="hours")
        if not 0 <= span.weekday <= 6 or span.start >= span.end:
            raise InvalidInput(
                "Each span needs a weekday and a start before its end.", field="hours"
            )
    kept = (
        []
        if store_id is None
        else [
            WorkSpan(h.weekday, h.store_id, h.start_time, h.end_time)
            for h in db.exec(
                select(WeeklyHours).where(
                    WeeklyHours.associate_id == profile.id, WeeklyHours.store_id != store_id
                )
            ).all()
        ]
    )
    by_day = sorted([*kept, *spans], key=lambda s: (s.weekday, s.start))
    for before, after in itertools.pairwise(by_day):
        if before.weekday == after.weekday and after.start < before.end:
            raise InvalidInput("Two spans on the same day overlap.", field="hours")
    replaced = delete(WeeklyHours).where(col(WeeklyHours.associate_id) == profile.id)
    if store_id is not None:
        replaced = replaced.where(col(WeeklyHours.store_id) == store_id)
    db.exec(replaced)
    for span in spans:
        db.add(
            WeeklyHours(
                associate_id=profile.id,
                store_id=span.store_id,
                weekday=span.weekday,
                start_time=span.start,
                end_time=span.end,
            )
        )
    db.commit()


def is_online(profile: AssociateProfile) -> bool:
    return profile.status is AssociateStatus.ONLINE


def do_add_exception(
    db: Session,
    profile: AssociateProfile,
    *,
    day: date,
    start: time | None = None,
    end: time | None = None,
    store_id: int | None = None,
    reason: str = "",
) -> AvailabilityException:
    """A day off (no times) or replacement hours on one date; several rows = a split day."""
    if (start is None) != (end is None):
        raise InvalidInput("Give both a start and an end, or neither for a day off.")
    if start is not None and end is not None and start >= end:
        raise InvalidInput("The start must come before the end.", field="end_time")
    if store_id is not None:
        assert profile.id is not None
        profile_and_store(db, profile.brand_id, profile.id, store_id)
    assert profile.id is not None
    row = AvailabilityException(
        associate_id=profile.id,
        store_id=store_id,
        day=day,
        start_time=start,
        end_time=end,
        reason=reason.strip()[:200],
    )
    db.add(row)
    db.commit()
    return row


def do_remove_exception(db: Session, row: AvailabilityException) -> None:
    db.delete(row)
    db.commit()


def profile_and_store(
    db: Session, brand_id: int, associate_id: int, store_id: int
) -> tuple[AssociateProfile, Store]:
    profile = db.get(AssociateProfile, associate_id)
    store = db.get(Store, store_id)
    if profile is None or profile.brand_id != brand_id:
        raise NotFound(
            N_("No associate with id %(id)s at this brand."), params={"id": associate_id}
        )
    if store is None or store.brand_id != brand_id:
        raise NotFound(N_("No store with id %(id)s at this brand."), params={"id": store_id})
    link = db.exec(
        select(AssociateStore).where(
            AssociateStore.associate_id == associate_id, AssociateStore.store_id == store_id
        )
    ).first()
    if link is None:
        raise InvalidInput("This associate does not work at that store.", field="store_id")
    return profile, store


def stores_of(db: Session, profile: AssociateProfile) -> list[Store]:
    """The stores the associate works at, by name."""
    return list(
        db.exec(
            select(Store)
            .join(AssociateStore, col(AssociateStore.store_id) == col(Store.id))
            .where(AssociateStore.associate_id == profile.id)
            .order_by(col(Store.name))
        ).all()
    )


def weekly_hours_of(db: Session, profile: AssociateProfile) -> list[WeeklyHours]:
    """The weekly pattern, Monday first, each day's spans in order."""
    return list(
        db.exec(
            select(WeeklyHours)
            .where(WeeklyHours.associate_id == profile.id)
            .order_by(col(WeeklyHours.weekday), col(WeeklyHours.start_time))
        ).all()
    )
