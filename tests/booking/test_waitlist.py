"""The waitlist: a freed slot is held for the next in line, taken in one step, passed on.

Real SMTP (aiosmtpd), the app's own scheduler job, and ``clock.travel`` to let a hold lapse.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from email.message import EmailMessage

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from sessions import clock
from sessions.clock import utcnow
from sessions.errors import Conflict
from sessions.mail import Mailer, SmtpSettings
from sessions.models import Appointment, AppointmentSlot, HoldStatus, WaitlistHold
from sessions.service import appointments, waitlist
from sessions.service.reminders import Links, run_due_reminders
from tests.booking.conftest import SmtpServer, Team
from tests.factories import Factory
from web.scheduler import scheduler_of

LINKS = Links(public_url="http://shop.test", secret="test-secret-key")
HELD = "An earlier consultation time is held for you"


def day(n: int, hour: int = 9) -> datetime:
    # 09:00 UTC is 10:00 or 11:00 in Paris: inside the team's 08:00-20:00.
    return (utcnow() + timedelta(days=n)).replace(hour=hour, minute=0, second=0, microsecond=0)


def book(session: Session, team: Team, factory: Factory, when: datetime, who: str) -> Appointment:
    return appointments.do_book(
        session,
        brand_id=team.brand.id,  # type: ignore[arg-type]
        associate_id=team.anna.id,  # type: ignore[arg-type]
        store_id=team.store.id,  # type: ignore[arg-type]
        starts_at=when,
        shopper_id=factory.shopper().id,  # type: ignore[arg-type]
        name=who.title(),
        email=f"{who}@example.com",
    )


def free_starts(session: Session, team: Team) -> set[datetime]:
    found = appointments.find_slots(
        session, team.brand.id or 0, start=day(1, 0), end=day(6, 0), associate_id=team.anna.id
    )
    session.commit()
    return {o.starts_at for o in found}


def mails_to(messages: list[EmailMessage], who: str, subject: str) -> list[EmailMessage]:
    return [
        m
        for m in messages
        if m["To"].addresses[0].addr_spec == f"{who}@example.com" and m["Subject"] == subject
    ]


def take_link(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    found = re.search(r"Take this time[^:]*: (\S+)", body.get_content())
    assert found, body.get_content()
    return found[1]


def hold_of(session: Session, appointment: Appointment) -> WaitlistHold:
    session.expire_all()
    hold = session.exec(
        select(WaitlistHold).where(WaitlistHold.appointment_id == appointment.id)
    ).one()
    session.commit()  # end the read: on SQLite it would hold the write lock
    return hold


@pytest.fixture
def mailer(smtp: SmtpServer) -> Mailer:
    return Mailer(SmtpSettings(host=smtp.host, port=smtp.port))


def test_a_freed_slot_is_held_for_the_first_in_line_then_passes_to_the_next(
    app: Flask,
    engine: Engine,
    session: Session,
    team: Team,
    factory: Factory,
    smtp: SmtpServer,
    mailer: Mailer,
    client: FlaskClient,
) -> None:
    app.config.update(smtp.config, PUBLIC_URL="http://shop.test", WAITLIST_TICK_SECONDS=0.05)
    early = day(2)
    alice = book(session, team, factory, early, "alice")
    bob = book(session, team, factory, day(3), "bob")
    carol = book(session, team, factory, day(4), "carol")
    appointments.do_join_waitlist(session, bob)
    appointments.do_join_waitlist(session, carol)  # after Bob: second in line
    run_due_reminders(engine, mailer, utcnow(), LINKS)  # the confirmations, out of the way

    appointments.do_cancel(session, alice, by="shopper")
    held = hold_of(session, bob)
    assert held.status is HoldStatus.HELD and held.starts_at == early
    assert clock.as_utc(held.held_until) - clock.as_utc(held.offered_at) == timedelta(hours=2)

    # Held: nobody else sees it or can book it, not even by racing the check.
    assert early not in free_starts(session, team)
    with pytest.raises(Conflict):
        book(session, team, factory, early, "dave")
    session.rollback()
    assert session.exec(select(AppointmentSlot).where(AppointmentSlot.hold_id == held.id)).all()
    session.commit()

    # Bob's e-mail, through a real SMTP server, with a link to the held time.
    assert run_due_reminders(engine, mailer, utcnow(), LINKS) >= 1
    bob_mail = mails_to(smtp.inbox.wait_for(5), "bob", HELD)
    assert len(bob_mail) == 1
    bob_link = take_link(bob_mail[0]).removeprefix("http://shop.test")
    assert bob_link.endswith(f"/hold/{held.id}")
    page = client.get(bob_link)
    assert page.status_code == 200 and b"Take this time" in page.data
    assert hold_of(session, bob).status is HoldStatus.HELD  # reading the page took nothing

    # Bob lets it lapse: the app's scheduler passes it to Carol, whose e-mail goes at once.
    count = len(smtp.inbox.messages)
    with clock.travel(timedelta(hours=2, minutes=1)):
        scheduler = scheduler_of(app)
        scheduler.start("waitlist")
        assert scheduler.wait_for_runs("waitlist", 2)
        messages = smtp.inbox.wait_for(count + 1)
        assert hold_of(session, bob).status is HoldStatus.LAPSED
        carols = hold_of(session, carol)
        assert carols.status is HoldStatus.HELD and carols.starts_at == early
        assert len(mails_to(messages, "carol", HELD)) == 1
        carol_link = take_link(mails_to(messages, "carol", HELD)[0])

        # Bob's link now says so, and taking it is refused with a message.
        assert b"passed to someone else" in client.get(bob_link).data
        refused = client.post(bob_link)
        assert refused.status_code == 409
        assert b"passed to someone else" in refused.data

        # Carol takes it in one step: her booking moves to the earlier time.
        taken = client.post(carol_link.removeprefix("http://shop.test"))
        assert taken.status_code == 302 and "moved=1" in taken.headers["Location"]
    session.expire_all()
    moved = session.get(Appointment, carol.id)
    assert moved is not None and clock.as_utc(moved.starts_at) == early
    assert hold_of(session, carol).status is HoldStatus.TAKEN
    assert session.get(Appointment, bob.id).starts_at == bob.starts_at  # type: ignore[union-attr]
    # Her old time is later than everyone waiting: free for everybody.
    assert day(4) in free_starts(session, team)
    assert client.post(carol_link.removeprefix("http://shop.test")).status_code == 409


def test_after_the_last_in_line_the_slot_is_free_for_everybody(
    engine: Engine, session: Session, team: Team, factory: Factory, mailer: Mailer
) -> None:
    early = day(2)
    alice = book(session, team, factory, early, "alice")
    bob = book(session, team, factory, day(3), "bob")
    appointments.do_join_waitlist(session, bob)
    appointments.do_cancel(session, alice, by="shopper")
    assert early not in free_starts(session, team)

    later = utcnow() + timedelta(hours=3)
    assert waitlist.do_pass_lapsed_holds(session, now=utcnow()) == 0  # not yet
    assert waitlist.do_pass_lapsed_holds(session, now=later) == 1
    assert waitlist.do_pass_lapsed_holds(session, now=later) == 0  # once
    assert hold_of(session, bob).status is HoldStatus.LAPSED
    assert early in free_starts(session, team)
    assert book(session, team, factory, early, "dave").starts_at == early
    # The e-mail of a lapsed hold is not sent any more.
    assert run_due_reminders(engine, mailer, later, LINKS) >= 0
    with pytest.raises(Conflict):
        waitlist.do_take_hold(session, bob, hold_of(session, bob), now=later)
    session.rollback()


def test_the_hold_lasts_as_long_as_the_brand_says(
    session: Session, team: Team, factory: Factory
) -> None:
    team.brand.waitlist_hold_minutes = 30
    session.add(team.brand)
    session.commit()
    alice = book(session, team, factory, day(2), "alice")
    bob = book(session, team, factory, day(3), "bob")
    appointments.do_join_waitlist(session, bob)
    appointments.do_cancel(session, alice, by="shopper")
    held = hold_of(session, bob)
    assert clock.as_utc(held.held_until) - clock.as_utc(held.offered_at) == timedelta(minutes=30)


def test_travel_moves_utcnow_and_comes_back() -> None:
    before = utcnow()
    with clock.travel(timedelta(hours=5)):
        assert utcnow() - before >= timedelta(hours=5)
    assert utcnow() - before < timedelta(hours=1)
