"""Remind me, against a real SMTP server (aiosmtpd): a confirmation with the show's .ics at
once, "starts in N minutes" at the brand's lead time (with the .ics), "we are live" when
the host starts — each sent exactly once, at its time, however many nodes run the job;
an unsubscribe link whose GET changes nothing; the form and the API rate-limited."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from icalendar import Calendar
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from sessions.clock import utcnow
from sessions.mail import Mailer, SmtpSettings
from sessions.models import Show, ShowReminder, ShowReminderMail, ShowStatus
from sessions.shows import lifecycle
from sessions.shows.reminders import ShowLinks, do_ask_reminder, run_due_show_mails
from tests.booking.conftest import SmtpServer
from tests.conftest import app_config, running_app
from tests.security.consultation_world import changed_tables, snapshot
from tests.shows.conftest import Cast
from web import create_app
from web.scheduler import Scheduler, scheduler_of
from web.scheduler import stop as stop_scheduler

PUBLIC = "http://shop.test"
LINKS = ShowLinks(public_url=PUBLIC, secret="test-secret-key")


@pytest.fixture
def app(database_url: str, tmp_path: Path, smtp: SmtpServer) -> Iterator[Flask]:
    """The suite's app, sending its mail to the test's SMTP server."""
    config = app_config(
        database_url,
        tmp_path,
        PUBLIC_URL=PUBLIC,
        SHOW_REMINDER_RATE_LIMIT="4 per hour",
        **smtp.config,
    )
    with running_app(config) as made:
        yield made


def mailer(smtp: SmtpServer) -> Mailer:
    return Mailer(SmtpSettings(host=smtp.host, port=smtp.port))


def upcoming(cast: Cast, minutes_from_now: float, **brand: Any) -> Show:
    for key, value in brand.items():
        setattr(cast.brand, key, value)
    cast.session.add(cast.brand)
    cast.session.commit()
    start = (utcnow() + timedelta(minutes=minutes_from_now)).replace(microsecond=0)
    return cast.show_in(ShowStatus.SCHEDULED, starts_at=start)


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def unsubscribe_link(message: EmailMessage) -> str:
    return next(w for w in text_of(message).split() if "/show-reminders/" in w)


def calendar_of(message: EmailMessage) -> Any:
    ics = next(p for p in message.iter_attachments() if p.get_content_type() == "text/calendar")
    return Calendar.from_ical(ics.get_content()).walk("VEVENT")[0]


def run_as_nodes(engine: Engine, smtp: SmtpServer, now: datetime, nodes: int = 3) -> int:
    """The job, run by several processes at the same instant (on their own connections)."""
    barrier, counts = threading.Barrier(nodes), []

    def run() -> None:
        barrier.wait()
        counts.append(run_due_show_mails(engine, mailer(smtp), LINKS, now))

    threads = [threading.Thread(target=run) for _ in range(nodes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts)


def rows(engine: Engine, show_id: int | None) -> list[ShowReminderMail]:
    with Session(engine) as fresh:
        return list(
            fresh.exec(
                select(ShowReminderMail)
                .join(ShowReminder)
                .where(ShowReminder.show_id == show_id)
                .order_by(ShowReminderMail.id)  # type: ignore[arg-type]
            ).all()
        )


def confirmations_marked_sent(engine: Engine, show_id: int | None) -> None:
    """Until the request's flush has written down "sent" for each confirmation: it does so
    just after the SMTP server has the message, and no event tells a test when."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if all(m.sent_at for m in rows(engine, show_id) if m.kind.value == "confirm"):
            return
        time.sleep(0.05)
    raise AssertionError("the confirmations were not marked sent")


def test_confirmation_then_before_the_start_then_live_each_once(
    cast: Cast, app: Flask, engine: Engine, smtp: SmtpServer
) -> None:
    show = upcoming(cast, 120, show_reminder_minutes=30)
    show_id, start = show.id, show.starts_at
    shopper = cast.client(app, "shopper")

    asked = shopper.post(f"/api/shows/{show_id}/reminders", json={"email": " Camille@Example.com "})
    assert asked.status_code == 201 and asked.json["new"] is True
    confirmation = smtp.inbox.wait_for(1)[0]  # sent at once, by the request's own flush
    assert confirmation["To"].addresses[0].addr_spec == "camille@example.com"
    assert confirmation["Subject"] == "Maison Aurèle: we will remind you of The autumn edit"
    assert "30 minutes before it starts and when it goes live" in text_of(confirmation)
    event = calendar_of(confirmation)
    assert event.decoded("DTSTART") == start
    assert event.decoded("DTEND") == start + timedelta(minutes=show.duration_minutes)
    assert str(event["UID"]) == f"show-{show_id}@vitrine"
    assert str(event["URL"]) == f"{PUBLIC}/b/{cast.brand.slug}/shows/{show_id}"
    link = unsubscribe_link(confirmation)
    assert link.startswith(f"{PUBLIC}/show-reminders/")
    assert confirmation["List-Unsubscribe"] == f"<{link}>"
    assert confirmation["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    again = shopper.post(f"/api/shows/{show_id}/reminders", json={"email": "camille@example.com"})
    assert again.status_code == 200 and again.json["new"] is False  # asked once
    # Before the clock moves: a confirmation whose sender has not yet written down "sent"
    # is only claimed, and a claim 89 minutes old is rightly taken as abandoned and sent
    # again (the one failure of a loaded run).
    confirmations_marked_sent(engine, show_id)
    assert run_as_nodes(engine, smtp, utcnow()) == 0

    # Not a second before its time; at its time, three nodes at once send it once.
    assert run_as_nodes(engine, smtp, start - timedelta(minutes=30, seconds=1)) == 0
    assert run_as_nodes(engine, smtp, start - timedelta(minutes=30) + timedelta(seconds=1)) == 1
    assert run_as_nodes(engine, smtp, start - timedelta(minutes=5)) == 0
    soon = smtp.inbox.wait_for(2)[1]
    assert soon["Subject"] == "The autumn edit starts in 30 minutes"
    assert calendar_of(soon).decoded("DTSTART") == start
    assert unsubscribe_link(soon) == link

    # The host goes live: "we are live" goes at once (the start's own flush), once.
    host = cast.client(app, "host")
    assert host.post(f"/api/shows/{show_id}/start").status_code == 200
    live = smtp.inbox.wait_for(3)[2]
    assert live["Subject"] == "We are live: The autumn edit"
    assert f"{PUBLIC}/b/{cast.brand.slug}/shows/{show_id}" in text_of(live)
    assert run_as_nodes(engine, smtp, utcnow()) == 0
    assert [(m.kind.value, m.attempts) for m in rows(engine, show_id)] == [
        ("confirm", 1),
        ("before", 1),
        ("live", 1),
        ("cancelled", 0),  # the show went ahead: never due
    ]
    # Sent (its sender may still be writing down "sent" for the last one: claimed till then).
    assert all(
        m.sent_at is not None or m.claimed_at is not None
        for m in rows(engine, show_id)
        if m.kind.value != "cancelled"
    )
    assert len(smtp.inbox.messages) == 3


def test_whoever_asks_after_the_lead_time_gets_the_confirmation_only(
    cast: Cast, engine: Engine, smtp: SmtpServer, session: Session
) -> None:
    show = upcoming(cast, 20, show_reminder_minutes=30)  # the lead time has passed
    do_ask_reminder(session, cast.actors["shopper"], show, "late@example.com")
    assert run_due_show_mails(engine, mailer(smtp), LINKS, utcnow()) == 1
    assert [m["Subject"] for m in smtp.inbox.wait_for(1)] == [
        "Maison Aurèle: we will remind you of The autumn edit"
    ]
    assert (
        run_due_show_mails(engine, mailer(smtp), LINKS, show.starts_at - timedelta(minutes=1)) == 0
    )


def test_a_show_moved_later_is_reminded_at_its_new_time(
    cast: Cast, engine: Engine, smtp: SmtpServer, session: Session
) -> None:
    show = upcoming(cast, 120, show_reminder_minutes=15)
    do_ask_reminder(session, cast.actors["shopper"], show, "a@example.com")
    old_start = show.starts_at
    lifecycle.do_update_show(session, show, starts_at=old_start + timedelta(hours=1))
    assert run_due_show_mails(engine, mailer(smtp), LINKS, old_start - timedelta(minutes=14)) == 1
    assert run_due_show_mails(engine, mailer(smtp), LINKS, old_start + timedelta(minutes=46)) == 1
    subjects = [m["Subject"] for m in smtp.inbox.wait_for(2)]
    assert subjects[1] == "The autumn edit starts in 14 minutes"


def test_a_cancelled_show_is_announced_once_and_reminds_nobody_after(
    cast: Cast, engine: Engine, smtp: SmtpServer, session: Session
) -> None:
    show = upcoming(cast, 60)
    do_ask_reminder(session, cast.actors["shopper"], show, "a@example.com")
    do_ask_reminder(session, cast.actors["shopper"], show, "b@example.com")
    lifecycle.do_cancel_show(session, cast.actors["admin"], show)
    # Each who asked hears it once, however many nodes run the job, and nothing else:
    # no confirmation, no "starts soon", no "we are live".
    assert run_as_nodes(engine, smtp, utcnow()) == 2
    told = smtp.inbox.wait_for(2)
    assert sorted(m["To"].addresses[0].addr_spec for m in told) == [
        "a@example.com",
        "b@example.com",
    ]
    assert {m["Subject"] for m in told} == {"Cancelled: The autumn edit"}
    assert "has been cancelled and will not take place" in text_of(told[0])
    assert str(calendar_of(told[0])["STATUS"]) == "CANCELLED"  # the calendar drops it
    assert unsubscribe_link(told[0]).startswith(f"{PUBLIC}/show-reminders/")
    assert run_as_nodes(engine, smtp, show.starts_at - timedelta(minutes=10)) == 0
    assert len(smtp.inbox.messages) == 2


def test_cancelling_over_the_api_tells_them_at_once(
    cast: Cast, app: Flask, smtp: SmtpServer
) -> None:
    show = upcoming(cast, 60)
    shopper = cast.client(app, "shopper")
    assert (
        shopper.post(f"/api/shows/{show.id}/reminders", json={"email": "c@example.com"}).status_code
        == 201
    )
    assert smtp.inbox.wait_for(1)[0]["Subject"].endswith("we will remind you of The autumn edit")
    admin = cast.client(app, "admin")
    assert admin.post(f"/api/shows/{show.id}/cancel").status_code == 200
    # Sent by the request's own flush, not at the scheduler's next tick.
    assert smtp.inbox.wait_for(2)[1]["Subject"] == "Cancelled: The autumn edit"


def test_the_unsubscribe_link_asks_then_does(
    cast: Cast, app: Flask, engine: Engine, smtp: SmtpServer
) -> None:
    show = upcoming(cast, 120)
    show_id = show.id
    shopper = cast.client(app, "shopper")
    shopper.post(f"/api/shows/{show_id}/reminders", json={"email": "camille@example.com"})
    shopper.post(f"/api/shows/{show_id}/reminders", json={"email": "hugo@example.com"})
    camille = next(
        m for m in smtp.inbox.wait_for(2) if m["To"].addresses[0].addr_spec.startswith("camille")
    )
    path = unsubscribe_link(camille).removeprefix(PUBLIC)
    admin = cast.client(app, "admin")
    assert admin.get(f"/api/shows/{show_id}/reminders").json == {"show_id": show_id, "count": 2}

    confirmations_marked_sent(engine, show_id)  # the flush's last write, then look
    before = snapshot(engine)
    page = app.test_client().get(path)  # a mail client's preview, a link scanner: nothing
    assert page.status_code == 200 and "Stop the reminders" in page.get_data(as_text=True)
    assert changed_tables(before, snapshot(engine)) == []
    assert app.test_client().get("/show-reminders/forged-token").status_code == 403

    done = app.test_client().post(path)  # the page's button, or a one-click POST
    assert done.status_code == 200 and "No more e-mails" in done.get_data(as_text=True)
    assert app.test_client().post(path).status_code == 200  # twice is once
    assert admin.get(f"/api/shows/{show_id}/reminders").json["count"] == 1
    listing = admin.get("/admin/shows").get_data(as_text=True)
    row = listing.split(f'data-show-id="{show_id}"', 1)[1].split("</tr>", 1)[0]
    assert "<td data-reminders>1</td>" in row
    assert "<strong data-reminders>1</strong>" in admin.get(f"/admin/shows/{show_id}").get_data(
        as_text=True
    )

    assert cast.client(app, "host").post(f"/api/shows/{show_id}/start").status_code == 200
    smtp.inbox.wait_for(3)  # hugo's "we are live"; camille left
    assert run_due_show_mails(engine, mailer(smtp), LINKS, utcnow()) == 0
    live = [m for m in smtp.inbox.messages if m["Subject"].startswith("We are live")]
    assert [m["To"].addresses[0].addr_spec for m in live] == ["hugo@example.com"]


def test_one_click_unsubscribe_needs_no_csrf_token(
    cast: Cast, database_url: str, tmp_path: Path, session: Session
) -> None:
    show = upcoming(cast, 60)
    asked = do_ask_reminder(session, cast.actors["shopper"], show, "a@example.com")
    with running_app(app_config(database_url, tmp_path, WTF_CSRF_ENABLED=True)) as strict:
        link = ShowLinks(PUBLIC, "test-secret-key").unsubscribe_url(asked.reminder)
        client = strict.test_client()
        assert client.post(link.removeprefix(PUBLIC)).status_code == 200
        assert client.post(f"/b/{cast.brand.slug}/shows/{show.id}/remind").status_code == 400
    session.expire_all()
    reminder = session.get(ShowReminder, asked.reminder.id)
    assert reminder is not None and reminder.unsubscribed_at is not None
    session.commit()


def test_the_show_page_form(cast: Cast, app: Flask, smtp: SmtpServer) -> None:
    show = upcoming(cast, 90, show_reminder_minutes=45)
    page = f"/b/{cast.brand.slug}/shows/{show.id}"
    shopper = cast.client(app, "shopper")
    html = shopper.get(page).get_data(as_text=True)
    assert f'action="{page}/remind"' in html and 'name="csrf_token"' in html
    assert "An e-mail 45 minutes before the start, and one when we go live." in html

    bad = shopper.post(f"{page}/remind", data={"email": "not an address"})
    assert bad.status_code == 422
    assert "Enter a valid e-mail address." in bad.get_data(as_text=True)
    assert 'value="not an address"' in bad.get_data(as_text=True)

    done = shopper.post(
        f"{page}/remind", data={"email": "camille@example.com"}, follow_redirects=True
    )
    assert done.status_code == 200
    assert (
        "We will remind you. A confirmation is on its way to camille@example.com."
        in done.get_data(as_text=True)
    )
    assert smtp.inbox.wait_for(1)[0]["To"].addresses[0].addr_spec == "camille@example.com"

    lifecycle.do_start_show(cast.session, cast.actors["host"], show)
    cast.session.commit()
    assert 'id="remind"' not in shopper.get(page).get_data(as_text=True)
    late = shopper.post(f"{page}/remind", data={"email": "late@example.com"})
    assert late.status_code == 409 and "The show is live now" in late.get_data(as_text=True)


def test_remind_me_is_rate_limited(cast: Cast, app: Flask, smtp: SmtpServer) -> None:
    """Per client address (SHOW_REMINDER_RATE_LIMIT: 4 per hour here) and per e-mail
    address (5 new reminders an hour, whoever asks): nobody makes Vitrine mail a stranger
    at will."""
    show = upcoming(cast, 90)
    shopper = cast.client(app, "shopper")
    answers = [
        shopper.post(f"/api/shows/{show.id}/reminders", json={"email": f"p{i}@example.com"})
        for i in range(5)
    ]
    assert [a.status_code for a in answers] == [201, 201, 201, 201, 429]
    assert "try again in" in answers[-1].json["message"]

    shows = [upcoming(cast, 91 + i) for i in range(6)]
    codes = []
    for i, each in enumerate(shows):  # six different clients, one address
        answer = shopper.post(
            f"/api/shows/{each.id}/reminders",
            json={"email": "victim@example.com"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{i + 1}"},
        )
        codes.append(answer.status_code)
    assert codes == [201, 201, 201, 201, 201, 429]
    assert "this e-mail address" in answer.json["message"]


def test_bad_requests_are_4xx(cast: Cast, app: Flask) -> None:
    show = upcoming(cast, 90)
    shopper = cast.client(app, "shopper")
    assert shopper.post(f"/api/shows/{show.id}/reminders", json={"email": "x"}).status_code == 422
    assert shopper.post(f"/api/shows/{show.id}/reminders", json={}).status_code == 422
    assert shopper.post("/api/shows/999999/reminders", json={"email": "a@b.co"}).status_code == 404
    draft = cast.show_in(ShowStatus.DRAFT)
    assert (
        shopper.post(f"/api/shows/{draft.id}/reminders", json={"email": "a@b.co"}).status_code
        == 404
    )
    ended = cast.show_in(ShowStatus.ENDED)
    answer = shopper.post(f"/api/shows/{ended.id}/reminders", json={"email": "a@b.co"})
    assert answer.status_code == 409 and answer.json["error"] == "not_upcoming"
    assert (
        shopper.post("/api/show-reminders/unsubscribe", json={"token": "nope"}).status_code == 403
    )


# --- two nodes, one database, the app's own scheduler ----------------------------------------


@pytest.fixture
def second_node(app: Flask, tmp_path: Path, smtp: SmtpServer) -> Iterator[Flask]:
    """Another web node on the same database, with its own engine and scheduler."""
    keys = (
        "VITRINE_ENV",
        "TESTING",
        "SECRET_KEY",
        "MEDIA_GRANT_SECRET",
        "DATABASE_URL",
        "PUBLIC_URL",
    )
    node = create_app(
        {key: app.config[key] for key in keys}
        | {"SOCKETIO_ASYNC_MODE": "threading", "UPLOAD_DIR": str(tmp_path / "up2")}
        | smtp.config
    )
    yield node
    stop_scheduler(node)
    node.extensions["vitrine.engine"].dispose()


def start_job(app: Flask) -> Scheduler:
    app.config["SHOW_REMINDER_INTERVAL_SECONDS"] = 0.05
    scheduler = scheduler_of(app)
    scheduler.start("show_reminders")
    return scheduler


def ran(schedulers: list[Scheduler], times: int) -> None:
    """Each node has run the job ``times`` more times."""
    for scheduler in schedulers:
        target = scheduler.runs["show_reminders"] + times
        assert scheduler.wait_for_runs("show_reminders", target), "the job did not run"


def test_two_nodes_running_the_job_send_each_mail_once_at_its_time(
    cast: Cast,
    app: Flask,
    second_node: Flask,
    engine: Engine,
    smtp: SmtpServer,
    session: Session,
) -> None:
    # The "starts soon" e-mail is due 4 seconds from now: one minute of lead time.
    show = upcoming(cast, 1 + 4 / 60, show_reminder_minutes=1)
    show_id, due = show.id, show.starts_at - timedelta(minutes=1)
    do_ask_reminder(session, cast.actors["shopper"], show, "camille@example.com")
    session.commit()
    nodes = [start_job(app), start_job(second_node)]

    assert smtp.inbox.wait_for(1)[0]["Subject"].endswith("we will remind you of The autumn edit")
    ran(nodes, 3)
    if utcnow() < due:  # (a very slow machine may already be past it)
        assert len(smtp.inbox.messages) == 1, "the reminder went before its time"

    soon = smtp.inbox.wait_for(2)[1]
    arrived = utcnow()
    assert soon["Subject"] == "The autumn edit starts in 1 minute"
    assert arrived >= due
    ran(nodes, 5)  # (and the sender has marked it sent)
    assert len(smtp.inbox.messages) == 2
    sent = next(m for m in rows(engine, show_id) if m.kind.value == "before")
    assert sent.sent_at is not None and due <= sent.sent_at <= arrived

    # Live: the start alone (no request flush here), both nodes' jobs, one e-mail.
    with Session(engine, expire_on_commit=False) as db:
        mine = db.get(Show, show_id)
        assert mine is not None
        lifecycle.do_start_show(db, cast.actors["host"], mine)
    assert smtp.inbox.wait_for(3)[2]["Subject"] == "We are live: The autumn edit"
    ran(nodes, 5)
    assert len(smtp.inbox.messages) == 3
    assert [m.attempts for m in rows(engine, show_id)] == [1, 1, 1, 0]  # (not cancelled)
