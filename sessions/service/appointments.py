"""Booking consultations: free slots, book, reschedule, cancel, waitlist, manage links.

Double booking is made impossible by the database, not by a check: an
appointment inserts one AppointmentSlot row per grid cell it occupies (slot
plus buffer), and (associate_id, cell_start) is unique. Two shoppers taking
the same slot at the same instant both get past the availability check; only
one transaction's inserts can commit, the other gets an IntegrityError that
becomes a clear 409.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import ModuleType

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from sessions.accounts import normalise_email
from sessions.catalogue import check_timezone, new_room_name
from sessions.clock import MAX_YEAR, MIN_YEAR, as_utc, on_the_calendar, utcnow
from sessions.errors import N_, Conflict, Forbidden, InvalidInput, NotFound
from sessions.events import publish
from sessions.models import (
    Appointment,
    AppointmentSlot,
    AppointmentStatus,
    AssociateProfile,
    AssociateStore,
    LiveSession,
    Reminder,
    SessionKind,
    SessionStatus,
    Shopper,
    Store,
    WaitlistEntry,
)
from sessions.ratelimit import RateLimiter
from sessions.service import availability as av
from sessions.service import waitlist
from sessions.service.hours import profile_and_store, rules_of, schedule_of

# Reminder kinds and how long before the start each is due. "confirm" is the
# booking confirmation itself: sent at once through the same exactly-once path.
REMINDER_OFFSETS = {"24h": timedelta(hours=24), "15m": timedelta(minutes=15)}
MAX_RANGE_DAYS = 31
_TOKEN_SALT = "vitrine.appointment.manage"


@dataclass(frozen=True)
class SlotOption:
    associate_id: int
    associate_name: str
    store_id: int
    starts_at: datetime
    ends_at: datetime


# --- schedules ---------------------------------------------------------------


def booked_starts(db: Session, associate_id: int, exclude: int | None = None) -> list[datetime]:
    """Starts of the associate's bookings and of the slots held for someone on the waitlist
    (both taken, for anyone but appointment ``exclude``)."""
    query = select(Appointment).where(
        Appointment.associate_id == associate_id,
        Appointment.status == AppointmentStatus.BOOKED,
    )
    booked = [a.starts_at for a in db.exec(query).all() if a.id != exclude]
    return booked + waitlist.held_starts(db, associate_id, exclude=exclude)


def _candidates(
    db: Session,
    brand_id: int,
    *,
    store_id: int | None,
    associate_id: int | None,
    language: str | None,
    speciality: str | None,
) -> list[tuple[AssociateProfile, Store]]:
    query = (
        select(AssociateProfile, Store)
        .join(AssociateStore, col(AssociateStore.associate_id) == col(AssociateProfile.id))
        .join(Store, col(Store.id) == col(AssociateStore.store_id))
        .where(AssociateProfile.brand_id == brand_id)
        .order_by(col(AssociateProfile.id), col(Store.id))
    )
    if store_id is not None:
        query = query.where(Store.id == store_id)
    if associate_id is not None:
        query = query.where(AssociateProfile.id == associate_id)
    pairs = [(p, s) for p, s in db.exec(query).all()]
    if language:
        pairs = [(p, s) for p, s in pairs if language.lower() in _codes(p.languages)]
    if speciality:
        needle = speciality.strip().lower()
        pairs = [(p, s) for p, s in pairs if needle in p.specialities.lower()]
    return pairs


def matching_associates(
    db: Session,
    brand_id: int,
    *,
    store_id: int | None = None,
    associate_id: int | None = None,
    language: str | None = None,
    speciality: str | None = None,
) -> list[AssociateProfile]:
    """The associates a shopper's filters leave, each once (the booking page shows them)."""
    pairs = _candidates(
        db,
        brand_id,
        store_id=store_id,
        associate_id=associate_id,
        language=language,
        speciality=speciality,
    )
    seen: dict[int, AssociateProfile] = {}
    for profile, _store in pairs:
        assert profile.id is not None
        seen.setdefault(profile.id, profile)
    return sorted(seen.values(), key=lambda p: p.display_name)


def _codes(text: str) -> set[str]:
    return {part.strip().lower() for part in text.split(",") if part.strip()}


def _check_when(value: datetime, field: str) -> datetime:
    if not on_the_calendar(value):
        raise InvalidInput(
            N_("Choose a date between %(low)s and %(high)s."),
            params={"low": MIN_YEAR, "high": MAX_YEAR},
            field=field,
        )
    return value


def find_slots(
    db: Session,
    brand_id: int,
    *,
    start: datetime,
    end: datetime,
    now: datetime | None = None,
    store_id: int | None = None,
    associate_id: int | None = None,
    language: str | None = None,
    speciality: str | None = None,
) -> list[SlotOption]:
    """Free slots of every matching associate in [start, end), earliest first."""
    _check_when(start, "start")
    _check_when(end, "end")
    if end <= start:
        raise InvalidInput("The end of the range must come after its start.", field="end")
    if end - start > timedelta(days=MAX_RANGE_DAYS):
        raise InvalidInput(
            N_("Ask for at most %(n)s days at once."), params={"n": MAX_RANGE_DAYS}, field="end"
        )
    now = now or utcnow()
    options: list[SlotOption] = []
    pairs = _candidates(
        db,
        brand_id,
        store_id=store_id,
        associate_id=associate_id,
        language=language,
        speciality=speciality,
    )
    for profile, store in pairs:
        assert profile.id is not None and store.id is not None
        schedule = schedule_of(db, profile, store)
        length = timedelta(minutes=profile.slot_minutes)
        booked = booked_starts(db, profile.id)
        for slot in av.free_slots(schedule, start=start, end=end, now=now, booked=booked):
            options.append(
                SlotOption(profile.id, profile.display_name, store.id, slot, slot + length)
            )
    return sorted(options, key=lambda o: (o.starts_at, o.associate_id))


def _check_slot_offered(
    db: Session,
    profile: AssociateProfile,
    store: Store,
    starts_at: datetime,
    now: datetime,
    exclude: int | None = None,
) -> None:
    assert profile.id is not None
    schedule = schedule_of(db, profile, store)
    window_end = starts_at + timedelta(minutes=1)
    booked = booked_starts(db, profile.id, exclude=exclude)
    free = av.free_slots(schedule, start=starts_at, end=window_end, now=now, booked=booked)
    if starts_at not in free:
        raise Conflict(
            "This time is no longer available. Choose another slot.", code="slot_unavailable"
        )


check_slot_offered = _check_slot_offered  # the waitlist checks a slot it holds the same way


# --- booking -----------------------------------------------------------------


def _occupy(db: Session, appointment: Appointment, rules: av.Rules) -> None:
    assert appointment.id is not None
    for cell in av.cells(appointment.starts_at, rules):
        db.add(
            AppointmentSlot(
                appointment_id=appointment.id,
                associate_id=appointment.associate_id,
                cell_start=cell,
            )
        )


def _schedule_reminders(db: Session, appointment: Appointment, now: datetime) -> None:
    assert appointment.id is not None
    for kind, before in REMINDER_OFFSETS.items():
        due = appointment.starts_at - before
        if due > now:
            db.add(Reminder(appointment_id=appointment.id, kind=kind, due_at=due))


def _commit_or_conflict(db: Session) -> None:
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise Conflict(
            "Someone has just taken this time. Choose another slot.", code="slot_taken"
        ) from None


# Each booking sends a confirmation e-mail to the address typed in, so a stranger
# could make us mail anyone, many times: budgets per address and per client.
CONFIRMATIONS_PER_ADDRESS = RateLimiter(
    "mail:confirm:address",
    "5 per hour",
    N_("Several bookings were just made for this e-mail address; try again in %(wait)s seconds."),
)
CONFIRMATIONS_PER_CLIENT = RateLimiter(
    "mail:confirm:client",
    "20 per hour",
    N_("Too many bookings from your connection; try again in %(wait)s seconds."),
)


def do_create_customer_for_staff(db: Session) -> Shopper:
    """A shopper identity for a customer booked by staff (a phone call): their own row."""
    shopper = Shopper(token=secrets.token_urlsafe(32))
    db.add(shopper)
    db.commit()
    return shopper


def check_confirmation_budget(email: str, client: str | None) -> None:
    """Raise TooManyRequests if this address or client has no confirmation left."""
    CONFIRMATIONS_PER_ADDRESS.check(email)
    if client:
        CONFIRMATIONS_PER_CLIENT.check(client)


def _spend_confirmation_budget(email: str, client: str | None) -> None:
    """Count a confirmation once its booking is stored: a booking that lost its slot
    sends nothing. (Simultaneous bookings may pass the check together and overshoot
    by a few; the budget bounds abuse, it is not an exact quota.)"""
    CONFIRMATIONS_PER_ADDRESS.allow(email)
    if client:
        CONFIRMATIONS_PER_CLIENT.allow(client)


def do_book(
    db: Session,
    *,
    brand_id: int,
    associate_id: int,
    store_id: int,
    starts_at: datetime,
    shopper_id: int,
    name: str,
    email: str,
    timezone: str = "UTC",
    language: str = "en",
    notes: str = "",
    waitlist: bool = False,
    now: datetime | None = None,
    client: str | None = None,
) -> Appointment:
    """Book a slot: the appointment, its grid cells, its live session and reminders, at once.

    ``client`` (the caller's network address) and the e-mail each have a budget of
    confirmation e-mails: checked before anything is written, spent once it is stored.
    """
    now = now or utcnow()
    starts_at = as_utc(_check_when(starts_at, "starts_at"))
    if not name.strip():
        raise InvalidInput("Tell us your name.", field="name")
    email = normalise_email(email)
    check_timezone(timezone)
    profile, store = profile_and_store(db, brand_id, associate_id, store_id)
    _check_slot_offered(db, profile, store, starts_at, now)
    check_confirmation_budget(email, client)
    appointment = Appointment(
        brand_id=brand_id,
        associate_id=associate_id,
        store_id=store_id,
        shopper_id=shopper_id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=profile.slot_minutes),
        shopper_name=name.strip()[:120],
        shopper_email=email,
        shopper_timezone=timezone,
        language=language[:8] or "en",
        notes=notes[:5000],
    )
    db.add(appointment)
    db.flush()
    assert appointment.id is not None
    _occupy(db, appointment, rules_of(profile))
    db.add(
        LiveSession(
            brand_id=brand_id,
            kind=SessionKind.CONSULTATION,
            appointment_id=appointment.id,
            shopper_id=shopper_id,
            associate_id=associate_id,
            room=new_room_name("consult"),
        )
    )
    db.add(Reminder(appointment_id=appointment.id, kind="confirm", due_at=now))
    _schedule_reminders(db, appointment, now)
    if waitlist:
        db.add(
            WaitlistEntry(
                brand_id=brand_id, appointment_id=appointment.id, associate_id=associate_id
            )
        )
    _commit_or_conflict(db)
    _spend_confirmation_budget(email, client)
    publish(
        "appointment_booked",
        None,
        audience=f"associate:{associate_id}",
        appointment_id=appointment.id,
        starts_at=starts_at.isoformat(),
    )
    _activity().note_booked(db, appointment)
    return appointment


def do_reschedule(
    db: Session,
    appointment: Appointment,
    *,
    starts_at: datetime,
    now: datetime | None = None,
) -> Appointment:
    """Move to another free slot of the same associate and store, in one transaction."""
    now = now or utcnow()
    starts_at = as_utc(_check_when(starts_at, "starts_at"))
    _check_open(appointment, now)
    assert appointment.id is not None
    profile, store = profile_and_store(
        db, appointment.brand_id, appointment.associate_id, appointment.store_id
    )
    _check_slot_offered(db, profile, store, starts_at, now, exclude=appointment.id)
    freed = appointment.starts_at
    db.exec(delete(AppointmentSlot).where(col(AppointmentSlot.appointment_id) == appointment.id))
    db.exec(
        delete(Reminder).where(
            col(Reminder.appointment_id) == appointment.id,
            col(Reminder.kind).in_(list(REMINDER_OFFSETS)),
            col(Reminder.claimed_at).is_(None),
        )
    )
    db.flush()
    appointment.starts_at = starts_at
    appointment.ends_at = starts_at + timedelta(minutes=profile.slot_minutes)
    db.add(appointment)
    _occupy(db, appointment, rules_of(profile))
    _schedule_reminders_after_move(db, appointment, now)
    db.add(Reminder(appointment_id=appointment.id, kind=f"moved-{_stamp(now)}", due_at=now))
    _commit_or_conflict(db)
    _offer_to_waitlist(db, appointment.associate_id, freed, now, appointment.store_id)
    _activity().note_moved(db, appointment)
    return appointment


def _stamp(now: datetime) -> str:
    return now.strftime("%H%M%S%f")[:9]


def _schedule_reminders_after_move(db: Session, appointment: Appointment, now: datetime) -> None:
    # A reminder already sent for the old time stays (unique per kind); the others are new.
    assert appointment.id is not None
    sent = set(
        db.exec(select(Reminder.kind).where(Reminder.appointment_id == appointment.id)).all()
    )
    for kind, before in REMINDER_OFFSETS.items():
        due = appointment.starts_at - before
        if due > now and kind not in sent:
            db.add(Reminder(appointment_id=appointment.id, kind=kind, due_at=due))


def _check_open(appointment: Appointment, now: datetime) -> None:
    if appointment.status is not AppointmentStatus.BOOKED:
        raise Conflict("This appointment was already cancelled or has taken place.")
    if appointment.ends_at <= now:
        raise Conflict("This appointment is over.")


def do_cancel(
    db: Session,
    appointment: Appointment,
    *,
    by: str,
    reason: str = "",
    now: datetime | None = None,
) -> Appointment:
    """Cancel (by "shopper" or "associate"): the cells free up, pending reminders go."""
    now = now or utcnow()
    _check_open(appointment, now)
    assert appointment.id is not None
    if by == "associate" and not reason.strip():
        raise InvalidInput("Tell the shopper why, in a few words.", field="message")
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancel_reason = reason.strip()[:500]
    db.add(appointment)
    db.exec(delete(AppointmentSlot).where(col(AppointmentSlot.appointment_id) == appointment.id))
    db.exec(
        delete(Reminder).where(
            col(Reminder.appointment_id) == appointment.id, col(Reminder.claimed_at).is_(None)
        )
    )
    live = consultation_of(db, appointment)
    if live is not None:
        live.status = SessionStatus.ENDED
        live.ended_at = now
        db.add(live)
    # Tell the shopper (the associate cancelled) or confirm it (the shopper did).
    db.add(Reminder(appointment_id=appointment.id, kind=f"cancel-{by[:8]}", due_at=now))
    db.commit()
    _offer_to_waitlist(
        db, appointment.associate_id, appointment.starts_at, now, appointment.store_id
    )
    publish(
        "appointment_cancelled",
        None,
        audience=f"associate:{appointment.associate_id}",
        appointment_id=appointment.id,
        by=by,
    )
    _activity().note_cancelled(db, appointment, by=by)
    return appointment


def consultation_of(db: Session, appointment: Appointment) -> LiveSession | None:
    return db.exec(select(LiveSession).where(LiveSession.appointment_id == appointment.id)).first()


# --- waitlist ----------------------------------------------------------------


def do_join_waitlist(db: Session, appointment: Appointment) -> WaitlistEntry:
    existing = db.exec(
        select(WaitlistEntry).where(
            WaitlistEntry.appointment_id == appointment.id,
            col(WaitlistEntry.notified_at).is_(None),
        )
    ).first()
    if existing is not None:
        return existing
    _check_open(appointment, utcnow())
    assert appointment.id is not None
    entry = WaitlistEntry(
        brand_id=appointment.brand_id,
        appointment_id=appointment.id,
        associate_id=appointment.associate_id,
    )
    db.add(entry)
    db.commit()
    return entry


def _offer_to_waitlist(
    db: Session, associate_id: int, freed: datetime, now: datetime, store_id: int
) -> None:
    """The freed slot is held for the first in line with a later booking at this associate
    and store, then the next (sessions/service/waitlist.py); after the last, it is free."""
    waitlist.offer_freed_slot(db, associate_id, store_id, freed, now)


# --- manage links --------------------------------------------------------------


def manage_token(secret: str, appointment: Appointment) -> str:
    """A signed token for the no-account reschedule/cancel/join link."""
    serializer = URLSafeSerializer(secret, salt=_TOKEN_SALT)
    return str(serializer.dumps({"a": appointment.id, "s": appointment.shopper_id}))


def appointment_from_token(db: Session, secret: str, token: str) -> Appointment:
    serializer = URLSafeSerializer(secret, salt=_TOKEN_SALT)
    try:
        data = serializer.loads(token)
    except BadSignature:
        raise Forbidden("This link is not valid. Use the link from your e-mail.") from None
    if not isinstance(data, dict) or not isinstance(data.get("a"), int):
        raise Forbidden("This link is not valid. Use the link from your e-mail.")
    appointment = db.get(Appointment, data["a"])
    if appointment is None or appointment.shopper_id != data.get("s"):
        raise NotFound("This appointment no longer exists.")
    return appointment


# --- associate's side ------------------------------------------------------------


def appointments_between(
    db: Session, associate_id: int, start: datetime, end: datetime
) -> list[Appointment]:
    return list(
        db.exec(
            select(Appointment)
            .where(
                Appointment.associate_id == associate_id,
                Appointment.starts_at >= start,
                Appointment.starts_at < end,
            )
            .order_by(col(Appointment.starts_at))
        ).all()
    )


# --- the consultation room's door ------------------------------------------------


# --- exceptions to the weekly hours -------------------------------------------------


def _activity() -> ModuleType:
    """The thread's notes (imported late: the thread's module reads slots from here)."""
    from sessions.service import activity

    return activity
