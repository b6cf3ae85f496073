"""Appointment e-mails reach a real SMTP server exactly once, with a parseable invitation."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from icalendar import Calendar
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from sessions.clock import utcnow
from sessions.mail import Mailer, SmtpSettings
from sessions.models import Appointment, Reminder
from sessions.service import appointments
from sessions.service.reminders import Links, run_due_reminders
from tests.booking.conftest import SmtpServer, Team
from tests.factories import Factory

LINKS = Links(public_url="http://shop.test", secret="test-secret-key")


def book(session: Session, team: Team, factory: Factory, starts_at: datetime) -> Appointment:
    return appointments.do_book(
        session,
        brand_id=team.brand.id,  # type: ignore[arg-type]
        associate_id=team.anna.id,  # type: ignore[arg-type]
        store_id=team.store.id,  # type: ignore[arg-type]
        starts_at=starts_at,
        shopper_id=factory.shopper().id,  # type: ignore[arg-type]
        name="Camille",
        email="camille@example.com",
        timezone="America/New_York",
    )


def in_two_days(hour: int = 9) -> datetime:
    # 09:00 UTC is 10:00 (or 11:00 in summer) in Paris: inside the 08:00-20:00 hours.
    return (utcnow() + timedelta(days=2)).replace(hour=hour, minute=0, second=0, microsecond=0)


def run_concurrently(engine: Engine, mailer: Mailer, now: datetime, runs: int = 4) -> int:
    barrier = threading.Barrier(runs)
    counts: list[int] = []

    def run() -> None:
        barrier.wait()
        counts.append(run_due_reminders(engine, mailer, now, LINKS))

    threads = [threading.Thread(target=run) for _ in range(runs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts)


def test_confirmation_and_reminders_are_sent_exactly_once(
    engine: Engine, session: Session, team: Team, factory: Factory, smtp: SmtpServer
) -> None:
    mailer = Mailer(SmtpSettings(host=smtp.host, port=smtp.port))
    start = in_two_days()
    appointment = book(session, team, factory, start)
    now = utcnow()
    assert run_concurrently(engine, mailer, now) == 1  # four schedulers at once: one confirmation
    assert run_due_reminders(engine, mailer, now, LINKS) == 0  # a restart finds nothing to resend
    confirmation = smtp.inbox.wait_for(1)[0]
    assert confirmation["To"].addresses[0].addr_spec == "camille@example.com"
    assert "booked" in confirmation["Subject"]

    # The 24 h reminder comes due; two passes (say two nodes) send it once.
    day_before = start - timedelta(hours=24) + timedelta(seconds=1)
    assert run_concurrently(engine, mailer, day_before, runs=2) == 1
    assert run_due_reminders(engine, mailer, start - timedelta(minutes=15), LINKS) == 1
    assert run_due_reminders(engine, mailer, start, LINKS) == 0
    messages = smtp.inbox.wait_for(3)
    assert [m["Subject"] for m in messages[1:]] == [
        "Reminder: your consultation starts tomorrow",
        "Reminder: your consultation starts in 15 minutes",
    ]
    session.expire_all()
    reminders = session.exec(select(Reminder).where(Reminder.appointment_id == appointment.id))
    assert all(r.sent_at is not None and r.attempts == 1 for r in reminders)

    # Each carries a valid invitation: the store's zone, the right instant, the join link.
    for message in messages:
        body = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        join = next(line for line in body.splitlines() if "/join" in line).split()[-1]
        assert join.startswith("http://shop.test/appointments/") and join.endswith("/join")
        ics = next(p for p in message.iter_attachments() if p.get_content_type() == "text/calendar")
        cal = Calendar.from_ical(ics.get_content())
        event = cal.walk("VEVENT")[0]
        assert str(event["DTSTART"].params["TZID"]) == "Europe/Paris"
        assert event.decoded("DTSTART") == start
        assert event.decoded("DTEND") == start + timedelta(minutes=30)
        assert str(event["URL"]) == join
        assert cal.walk("VTIMEZONE")[0]["TZID"] == "Europe/Paris"


def test_a_failed_send_is_retried_not_lost(
    engine: Engine, session: Session, team: Team, factory: Factory, smtp: SmtpServer
) -> None:
    book(session, team, factory, in_two_days())
    down = Mailer(SmtpSettings(host="127.0.0.1", port=1, timeout=2))  # nothing listens there
    assert run_due_reminders(engine, down, utcnow(), LINKS) == 0
    session.expire_all()
    pending = session.exec(select(Reminder).where(Reminder.kind == "confirm")).one()
    assert pending.sent_at is None and pending.claimed_at is None and pending.attempts == 1
    session.commit()  # end the read: on SQLite it would hold the write lock
    up = Mailer(SmtpSettings(host=smtp.host, port=smtp.port))
    assert run_due_reminders(engine, up, utcnow(), LINKS) == 1
    assert len(smtp.inbox.wait_for(1)) == 1


def test_cancelled_appointment_gets_no_reminder_but_a_cancellation(
    engine: Engine, session: Session, team: Team, factory: Factory, smtp: SmtpServer
) -> None:
    mailer = Mailer(SmtpSettings(host=smtp.host, port=smtp.port))
    start = in_two_days()
    appointment = book(session, team, factory, start)
    appointments.do_cancel(
        session, appointment, by="associate", reason="Store closed for stock-take."
    )
    # Pending e-mails (the unsent confirmation, the reminders) go; the cancellation is sent.
    assert run_due_reminders(engine, mailer, start - timedelta(minutes=1), LINKS) == 1
    subjects = [m["Subject"] for m in smtp.inbox.wait_for(1)]
    assert subjects == ["Your consultation is cancelled"]
    cancel = next(m for m in smtp.inbox.messages if "cancelled" in m["Subject"])
    text = cancel.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Store closed for stock-take." in text
    assert not any("Reminder" in s for s in subjects)
