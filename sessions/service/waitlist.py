"""The waitlist: a freed slot is held for the next shopper in line, then the next.

A shopper with a booking asks to hear of an earlier time ("tell me if an earlier
time opens": a ``WaitlistEntry`` of their appointment). When a slot of that
associate and store frees up (a cancellation, a move), it is *held* for the
first in line whose booking is later: a ``WaitlistHold`` for the brand's
``waitlist_hold_minutes`` (never past the slot's start), whose grid cells are
``AppointmentSlot`` rows of the shopper's own appointment. The unique
``(associate_id, cell_start)`` that makes double booking impossible makes the
hold real too: nobody else can book it, and availability hides it from everyone
else. The e-mail's link takes it in one step (``do_take_hold``: the appointment
moves there). A hold that lapses (the scheduler's ``waitlist`` job,
``do_pass_lapsed_holds``) gives its cells back and the slot is held for the
next in line; after the last, the slot is free for everybody.

Every move is a conditional UPDATE on the hold's status, so two nodes never
pass one hold twice, and a take and a lapse never both win.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from sessions.clock import as_utc, utcnow
from sessions.errors import N_, Conflict, DomainError, NotFound
from sessions.models import (
    Appointment,
    AppointmentSlot,
    AppointmentStatus,
    Brand,
    HoldStatus,
    Reminder,
    WaitlistEntry,
    WaitlistHold,
)
from sessions.service import availability as av
from sessions.service.hours import profile_and_store, rules_of

DEFAULT_HOLD_MINUTES = 120


def held_starts(db: Session, associate_id: int, exclude: int | None = None) -> list[datetime]:
    """Starts of the slots held for someone (not for appointment ``exclude``): booked, for
    everyone else."""
    rows = db.exec(
        select(WaitlistHold.starts_at, WaitlistHold.appointment_id).where(
            WaitlistHold.associate_id == associate_id,
            WaitlistHold.status == HoldStatus.HELD,
        )
    ).all()
    return [as_utc(start) for start, appointment_id in rows if appointment_id != exclude]


def hold_of(db: Session, appointment: Appointment, hold_id: int) -> WaitlistHold:
    hold = db.get(WaitlistHold, hold_id)
    if hold is None or hold.appointment_id != appointment.id:
        raise NotFound("This offer is not for this booking.")
    return hold


def is_open(hold: WaitlistHold, now: datetime) -> bool:
    return hold.status is HoldStatus.HELD and as_utc(hold.held_until) > now


# --- offering a freed slot ------------------------------------------------------------


def _next_in_line(
    db: Session, associate_id: int, store_id: int, starts_at: datetime
) -> list[tuple[WaitlistEntry, Appointment]]:
    """Who waits for this associate and store with a later booking, first come first,
    leaving out whoever already had this slot held, or holds another one now."""
    had = set(
        db.exec(
            select(WaitlistHold.entry_id).where(
                WaitlistHold.associate_id == associate_id,
                WaitlistHold.starts_at == starts_at,
            )
        ).all()
    )
    holding = set(
        db.exec(select(WaitlistHold.entry_id).where(WaitlistHold.status == HoldStatus.HELD)).all()
    )
    rows = db.exec(
        select(WaitlistEntry, Appointment)
        .join(Appointment, col(Appointment.id) == col(WaitlistEntry.appointment_id))
        .where(
            WaitlistEntry.associate_id == associate_id,
            Appointment.store_id == store_id,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.starts_at > starts_at,
        )
        .order_by(col(WaitlistEntry.created_at), col(WaitlistEntry.id))
    ).all()
    return [(e, a) for e, a in rows if e.id not in had and e.id not in holding]


def _hold_for(
    db: Session,
    entry: WaitlistEntry,
    appointment: Appointment,
    store_id: int,
    starts_at: datetime,
    now: datetime,
) -> WaitlistHold | None:
    """Hold the slot for this entry (its cells inserted), or None if it cannot be had."""
    # Inside the late import: appointments imports this module.
    from sessions.service.appointments import check_slot_offered

    assert entry.id is not None and appointment.id is not None
    profile, store = profile_and_store(db, appointment.brand_id, appointment.associate_id, store_id)
    try:  # still a slot of the schedule, with the notice (their own booking aside)?
        check_slot_offered(db, profile, store, starts_at, now, exclude=appointment.id)
    except DomainError:
        db.rollback()
        return None
    brand = db.get(Brand, appointment.brand_id)
    minutes = brand.waitlist_hold_minutes if brand else DEFAULT_HOLD_MINUTES
    hold = WaitlistHold(
        brand_id=appointment.brand_id,
        entry_id=entry.id,
        appointment_id=appointment.id,
        associate_id=appointment.associate_id,
        store_id=store_id,
        starts_at=starts_at,
        offered_at=now,
        held_until=min(now + timedelta(minutes=minutes), starts_at),
    )
    db.add(hold)
    db.flush()
    own = set(
        as_utc(c)
        for c in db.exec(
            select(AppointmentSlot.cell_start).where(
                AppointmentSlot.appointment_id == appointment.id
            )
        ).all()
    )
    for cell in av.cells(starts_at, rules_of(profile)):
        if cell not in own:  # the booking's own time may touch the held one
            db.add(
                AppointmentSlot(
                    appointment_id=appointment.id,
                    associate_id=appointment.associate_id,
                    cell_start=cell,
                    hold_id=hold.id,
                )
            )
    entry.notified_at = now
    db.add(entry)
    db.add(Reminder(appointment_id=appointment.id, kind=f"hold-{hold.id}", due_at=now))
    try:
        db.commit()
    except IntegrityError:
        db.rollback()  # someone booked it, or another node held it, in the same instant
        return None
    return hold


def offer_freed_slot(
    db: Session,
    associate_id: int,
    store_id: int,
    starts_at: datetime,
    now: datetime | None = None,
) -> WaitlistHold | None:
    """Hold a freed slot for the first in line who can have it; None: it is free for all."""
    now = now or utcnow()
    starts_at = as_utc(starts_at)
    if starts_at <= now:
        db.commit()
        return None
    for entry, appointment in _next_in_line(db, associate_id, store_id, starts_at):
        hold = _hold_for(db, entry, appointment, store_id, starts_at, now)
        if hold is not None:
            return hold
    db.commit()  # end the read: on SQLite an open transaction holds the write lock
    return None


# --- taking it, or letting it lapse ------------------------------------------------------


def do_take_hold(
    db: Session, appointment: Appointment, hold: WaitlistHold, *, now: datetime | None = None
) -> Appointment:
    """The e-mail's link: move the booking to the held slot, in one step."""
    from sessions.service.appointments import do_reschedule

    now = now or utcnow()
    if hold.appointment_id != appointment.id:
        raise NotFound("This offer is not for this booking.")
    if hold.status is HoldStatus.TAKEN:
        raise Conflict("You already took this time.", code="hold_taken")
    if not is_open(hold, now):
        raise Conflict(
            N_(
                "Sorry, this time was held for you until %(time)s UTC and has passed to "
                "someone else."
            ),
            params={"time": f"{as_utc(hold.held_until):%H:%M}"},
            code="hold_lapsed",
        )
    # Claimed in the reschedule's own transaction: a lapse at the same instant loses.
    claimed = db.exec(
        update(WaitlistHold)
        .where(col(WaitlistHold.id) == hold.id, col(WaitlistHold.status) == HoldStatus.HELD)
        .values(status=HoldStatus.TAKEN)
    )
    if claimed.rowcount != 1:
        db.rollback()
        raise Conflict("This time has just passed to someone else.", code="hold_lapsed")
    try:
        moved = do_reschedule(db, appointment, starts_at=as_utc(hold.starts_at), now=now)
    except DomainError:
        db.rollback()
        raise
    db.refresh(hold)
    return moved


def _lapse(db: Session, hold: WaitlistHold) -> bool:
    result = db.exec(
        update(WaitlistHold)
        .where(col(WaitlistHold.id) == hold.id, col(WaitlistHold.status) == HoldStatus.HELD)
        .values(status=HoldStatus.LAPSED)
    )
    db.exec(delete(AppointmentSlot).where(col(AppointmentSlot.hold_id) == hold.id))
    if result.rowcount != 1:
        db.rollback()
        return False
    db.commit()
    return True


def do_pass_lapsed_holds(db: Session, now: datetime | None = None, limit: int = 100) -> int:
    """Holds past their time (or whose booking went) give their slot to the next in line.

    Returns how many passed on. The scheduler's ``waitlist`` job, on every node."""
    now = now or utcnow()
    rows = db.exec(
        select(WaitlistHold, Appointment.status)
        .join(Appointment, col(Appointment.id) == col(WaitlistHold.appointment_id))
        .where(WaitlistHold.status == HoldStatus.HELD)
        .order_by(col(WaitlistHold.held_until))
        .limit(limit)
    ).all()
    due = [
        h for h, status in rows if as_utc(h.held_until) <= now or status != AppointmentStatus.BOOKED
    ]
    db.commit()
    passed = 0
    for hold in due:
        if _lapse(db, hold):
            passed += 1
            offer_freed_slot(db, hold.associate_id, hold.store_id, as_utc(hold.starts_at), now)
    return passed
