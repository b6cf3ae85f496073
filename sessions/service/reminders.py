"""The outbox of appointment e-mails: confirmations, reminders, moves, cancellations.

Every such e-mail is a Reminder row due at a time. Whoever sends it first
claims it with ``UPDATE ... SET claimed_at WHERE claimed_at IS NULL``: only one
process's update matches, so two web nodes, a CLI loop and a restart never
send one twice. A send that fails releases its claim, so none is lost; a
claim left by a process that died mid-send is taken back after
STALE_CLAIM (the claiming is sessions/outbox.py's, shared by every such
e-mail); the Message-ID is derived from the row, so a mail client shows
that rare resend as one message.

Run it in the web node (a background task) and/or as ``python -m
sessions.service.reminders`` (loop).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from sessions import outbox
from sessions.clock import as_utc, utcnow
from sessions.mail import (
    Invitation,
    Mailer,
    SmtpSettings,
    cancelled_message,
    confirmation_message,
    moved_message,
    reminder_message,
    waitlist_hold_message,
    waitlist_message,
)
from sessions.models import (
    Appointment,
    AppointmentStatus,
    AssociateProfile,
    Brand,
    Reminder,
    Store,
    WaitlistHold,
)
from sessions.service import appointments, waitlist

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Links:
    """How to build the no-account links in e-mails."""

    public_url: str
    secret: str

    @classmethod
    def from_env(cls) -> Links:
        return cls(
            public_url=os.environ.get("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
            secret=os.environ.get("SECRET_KEY", ""),
        )

    def manage_url(self, appointment: Appointment) -> str:
        return (
            f"{self.public_url}/appointments/{appointments.manage_token(self.secret, appointment)}"
        )

    def join_url(self, appointment: Appointment) -> str:
        return self.manage_url(appointment) + "/join"

    def hold_url(self, appointment: Appointment, hold: WaitlistHold) -> str:
        return f"{self.manage_url(appointment)}/hold/{hold.id}"


def invitation(db: Session, appointment: Appointment, links: Links) -> Invitation:
    brand = db.get(Brand, appointment.brand_id)
    profile = db.get(AssociateProfile, appointment.associate_id)
    store = db.get(Store, appointment.store_id)
    assert brand is not None and profile is not None and store is not None
    return Invitation(
        uid=f"appointment-{appointment.id}@vitrine",
        brand_name=brand.name,
        associate_name=profile.display_name,
        store_name=store.name,
        store_timezone=store.timezone,
        shopper_name=appointment.shopper_name,
        shopper_email=appointment.shopper_email,
        shopper_timezone=appointment.shopper_timezone,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        join_url=links.join_url(appointment),
        manage_url=links.manage_url(appointment),
        # A later sequence makes calendars replace the event after a move.
        sequence=int(appointment.starts_at.timestamp()) // 60 % 100000,
        language=appointment.language,
    )


def compose(db: Session, reminder: Reminder, links: Links) -> EmailMessage | None:
    """The e-mail for a reminder row, or None if there is nothing to say any more."""
    appointment = db.get(Appointment, reminder.appointment_id)
    if appointment is None:
        return None
    invite = invitation(db, appointment, links)
    kind = reminder.kind
    if kind.startswith("cancel-"):
        by_associate = kind != "cancel-shopper"
        return cancelled_message(
            invite, by_associate=by_associate, reason=appointment.cancel_reason
        )
    if appointment.status is not AppointmentStatus.BOOKED:
        return None
    if kind == "confirm":
        return confirmation_message(invite)
    if kind.startswith("moved-"):
        return moved_message(invite)
    if kind.startswith("hold-"):
        return _hold_message(db, appointment, invite, kind, links)
    if kind.startswith("wait-"):
        brand = db.get(Brand, appointment.brand_id)
        slug = brand.slug if brand else ""
        return waitlist_message(invite, f"{links.public_url}/b/{slug}/book")
    if appointment.starts_at <= utcnow():
        return None  # a reminder for a consultation already begun helps nobody
    return reminder_message(invite, kind)


def _hold_message(
    db: Session, appointment: Appointment, invite: Invitation, kind: str, links: Links
) -> EmailMessage | None:
    """The waitlist's "held for you" e-mail, while the hold is still open."""
    hold_id = kind.removeprefix("hold-")
    hold = db.get(WaitlistHold, int(hold_id)) if hold_id.isdigit() else None
    if hold is None or not waitlist.is_open(hold, utcnow()):
        return None  # taken or passed on before the e-mail went: nothing to offer
    return waitlist_hold_message(
        invite,
        held_start=as_utc(hold.starts_at),
        held_until=as_utc(hold.held_until),
        take_url=links.hold_url(appointment, hold),
    )


def deliver(engine: Engine, mailer: Mailer, reminder_id: int, now: datetime, links: Links) -> bool:
    """Claim, compose and send one reminder (sessions/outbox.py). True if this call sent it."""
    return outbox.deliver(
        engine,
        mailer,
        Reminder,
        reminder_id,
        now,
        lambda db, reminder: compose(db, reminder, links),  # None: nothing to send, done
        lambda reminder: f"<reminder-{reminder.id}@vitrine.local>",
        "reminder",
        logger=log,
    )


def due_ids(engine: Engine, now: datetime, limit: int = 100) -> list[int]:
    return outbox.due_ids(
        engine,
        Reminder,
        now,
        col(Reminder.due_at) <= now,
        order_by=col(Reminder.due_at),
        max_attempts=MAX_ATTEMPTS,
        limit=limit,
    )


def run_due_reminders(
    engine: Engine, mailer: Mailer, now: datetime | None = None, links: Links | None = None
) -> int:
    """Send every reminder due by `now`; returns how many this call sent."""
    now = now or utcnow()
    links = links or Links.from_env()
    return sum(deliver(engine, mailer, rid, now, links) for rid in due_ids(engine, now))


def run_forever(
    engine: Engine,
    mailer: Mailer,
    links: Links,
    *,
    interval: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
    should_stop: Callable[[], bool] = lambda: False,
) -> None:
    while not should_stop():
        try:
            sent = run_due_reminders(engine, mailer, utcnow(), links)
            if sent:
                log.info("sent %d appointment e-mail(s)", sent)
        except Exception:
            log.exception("reminder run failed; trying again in %ss", interval)
        sleep(interval)


def main() -> None:
    """``python -m sessions.service.reminders``: the scheduler on its own, from the environment."""
    from sessions.db import DEFAULT_DATABASE_URL, make_engine

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    engine = make_engine(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    mailer = Mailer(SmtpSettings.from_mapping(os.environ))
    interval = float(os.environ.get("REMINDER_INTERVAL_SECONDS", "30"))
    run_forever(engine, mailer, Links.from_env(), interval=interval)


if __name__ == "__main__":
    main()
