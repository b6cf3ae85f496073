"""The app's scheduler: each job runs on its own timer, and two nodes' schedulers on one
database do each piece of work once.

Periods are short here (50 ms) and every test awaits the job's effect (the event it
publishes, the e-mail it sends), never a fixed sleep. A second node is a second app on
the same database with its own scheduler, as on a second machine.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import update
from sqlmodel import Session, col, select

from sessions import bags
from sessions.access import Actor, ActorKind
from sessions.clock import utcnow
from sessions.events import Event, bus
from sessions.models import FlashOffer, QueueRequest, Reminder, StockReservation, Variant
from sessions.service import queue
from tests.booking.conftest import Inbox, SmtpServer, staff
from tests.booking.test_reminders import book, in_two_days
from tests.factories import Factory
from tests.rooms.conftest import Room
from tests.servers import free_port
from web import create_app
from web.scheduler import Scheduler, scheduler_of
from web.scheduler import stop as stop_scheduler

FAST = {
    "RESERVATION_SWEEP_SECONDS": 0.05,
    "OFFER_TICK_SECONDS": 0.05,
    "QUEUE_TICK_SECONDS": 0.05,
    "REMINDER_INTERVAL_SECONDS": 0.05,
}


class Recorder:
    """Every event published, and a way to wait for one."""

    def __init__(self) -> None:
        self.seen: list[Event] = []
        self._cond = threading.Condition()

    def __call__(self, event: Event) -> None:
        with self._cond:
            self.seen.append(event)
            self._cond.notify_all()

    def clear(self) -> None:
        """Forget what the test's setup published: only the job's events count."""
        with self._cond:
            self.seen.clear()

    def of(self, kind: str, audience: str | None = None) -> list[Event]:
        with self._cond:
            return [
                e
                for e in self.seen
                if e.kind == kind and (audience is None or e.audience == audience)
            ]

    def wait_for(self, kind: str, audience: str | None = None, timeout: float = 20) -> Event:
        with self._cond:
            ok = self._cond.wait_for(lambda: bool(self.of(kind, audience)), timeout=timeout)
        assert ok, f"no {kind} event for {audience or 'anyone'}"
        return self.of(kind, audience)[0]


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    made = Recorder()
    bus.subscribe(made)
    yield made
    bus.unsubscribe(made)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on loopback (as tests/booking has)."""
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield SmtpServer("127.0.0.1", port, inbox)
    controller.stop()


@pytest.fixture
def second_node(app: Flask, tmp_path: Path) -> Iterator[Flask]:
    """Another web node on the same database, with its own engine and scheduler."""
    keys = ("VITRINE_ENV", "TESTING", "SECRET_KEY", "MEDIA_GRANT_SECRET", "DATABASE_URL")
    node = create_app(
        {key: app.config[key] for key in keys}
        | {"SOCKETIO_ASYNC_MODE": "threading", "UPLOAD_DIR": str(tmp_path / "up2")}
    )
    yield node
    stop_scheduler(node)
    node.extensions["vitrine.engine"].dispose()


def start(app: Flask, job: str, **config: Any) -> Scheduler:
    app.config.update(FAST | config)
    scheduler = scheduler_of(app)
    scheduler.start(job)
    return scheduler


def both_ran(schedulers: list[Scheduler], job: str, times: int = 3) -> None:
    """Each scheduler has run the job a few times since the work became due."""
    for scheduler in schedulers:
        assert scheduler.wait_for_runs(job, times), f"{job} did not run {times} times"


# --- flash offers end on time ------------------------------------------------------------


def offer_ending(session: Session, room: Room, seconds: float) -> FlashOffer:
    offer = FlashOffer(
        live_session_id=room.id,
        product_id=room.product.id,  # type: ignore[arg-type]
        price_minor=900,
        quantity=2,
        ends_at=utcnow() + timedelta(seconds=seconds),
    )
    session.add(offer)
    session.commit()
    return offer


def test_an_offer_ends_on_the_scheduler_timer(
    app: Flask, session: Session, room: Room, recorder: Recorder
) -> None:
    offer = offer_ending(session, room, 0.3)
    start(app, "offers")
    ended = recorder.wait_for("offer")
    assert ended.room == room.live.room and ended.data == {"offer": None, "offer_id": offer.id}
    assert utcnow() >= offer.ends_at  # not before its time


def test_two_nodes_end_an_offer_once(
    app: Flask, second_node: Flask, session: Session, room: Room, recorder: Recorder
) -> None:
    offer_ending(session, room, -1)
    schedulers = [start(app, "offers"), start(second_node, "offers")]
    both_ran(schedulers, "offers")
    assert len(recorder.of("offer")) == 1


# --- expired reservations give their stock back --------------------------------------------


def reserved(session: Session, factory: Factory, room: Room, expires_in: float) -> int:
    """A shopper holds one of the room's variant; the hold expires in `expires_in` s."""
    shopper = factory.shopper()
    actor = Actor(kind=ActorKind.SHOPPER, shopper_id=shopper.id)
    bags.do_add_to_bag(session, actor, variant_id=room.variant.id, quantity=1, live=room.live)
    session.exec(
        update(StockReservation).values(expires_at=utcnow() + timedelta(seconds=expires_in))
    )
    session.commit()
    assert shopper.id is not None
    return shopper.id


def stock_of(session: Session, variant_id: int | None) -> int:
    session.commit()  # a fresh read
    stock = session.exec(select(Variant.stock).where(Variant.id == variant_id)).one()
    session.commit()
    return int(stock)


def test_an_expired_reservation_returns_its_stock_on_the_timer(
    app: Flask, session: Session, factory: Factory, room: Room, recorder: Recorder
) -> None:
    before = stock_of(session, room.variant.id)
    shopper_id = reserved(session, factory, room, 0.3)
    assert stock_of(session, room.variant.id) == before - 1
    recorder.clear()
    start(app, "reservations")
    released = recorder.wait_for("bag", f"shopper:{shopper_id}")
    assert released.data["bag"]["lines"] == []
    assert stock_of(session, room.variant.id) == before


def test_two_nodes_release_a_reservation_once(
    app: Flask,
    second_node: Flask,
    session: Session,
    factory: Factory,
    room: Room,
    recorder: Recorder,
) -> None:
    before = stock_of(session, room.variant.id)
    shopper_id = reserved(session, factory, room, -1)
    recorder.clear()
    schedulers = [start(app, "reservations"), start(second_node, "reservations")]
    both_ran(schedulers, "reservations")
    assert stock_of(session, room.variant.id) == before  # given back once, not twice
    assert len(recorder.of("bag", f"shopper:{shopper_id}")) == 1


# --- a talk-now offer nobody accepts passes on -----------------------------------------------


def offered(session: Session, factory: Factory, offered_seconds_ago: float) -> QueueRequest:
    team = staff(factory, session)
    team.anna.status = team.anna.status.ONLINE
    team.anna.console_seen_at = utcnow()  # her console is open (auto-away: routing.py)
    session.add(team.anna)
    session.commit()
    shopper = factory.shopper()
    assert shopper.id is not None
    request = queue.do_enqueue(session, brand=team.brand, shopper_id=shopper.id)
    assert isinstance(request, QueueRequest) and request.associate_id == team.anna.id
    request.offered_at = utcnow() - timedelta(seconds=offered_seconds_ago)
    session.add(request)
    session.commit()
    return request


def test_an_unanswered_queue_offer_passes_on_on_the_timer(
    app: Flask, session: Session, factory: Factory, recorder: Recorder
) -> None:
    request = offered(session, factory, 0)
    recorder.clear()
    start(app, "queue", QUEUE_ACCEPT_SECONDS=1)
    withdrawn = recorder.wait_for("queue_offer_withdrawn", f"associate:{request.associate_id}")
    assert withdrawn.data == {"request_id": request.id}
    session.refresh(request)
    assert str(withdrawn.audience.split(":")[1]) in request.declined_by


def test_two_nodes_pass_an_offer_on_once(
    app: Flask, second_node: Flask, session: Session, factory: Factory, recorder: Recorder
) -> None:
    request = offered(session, factory, 60)
    recorder.clear()
    schedulers = [start(app, "queue"), start(second_node, "queue")]
    both_ran(schedulers, "queue")
    assert len(recorder.of("queue_offer_withdrawn")) == 1
    # Nobody else is free: it comes back to the same associate, offered once, not twice.
    assert [e.audience for e in recorder.of("queue_offer")] == [f"associate:{request.associate_id}"]


# --- appointment e-mails go out when due -------------------------------------------------------


def due_reminders(session: Session) -> int:
    session.commit()
    due = session.exec(select(Reminder).where(col(Reminder.due_at) <= utcnow())).all()
    session.commit()
    return len(due)


def test_a_due_confirmation_is_mailed_on_the_timer(
    app: Flask, session: Session, factory: Factory, smtp: SmtpServer
) -> None:
    team = staff(factory, session)
    book(session, team, factory, in_two_days())
    assert due_reminders(session) == 1  # the confirmation
    start(app, "reminders", **smtp.config)
    [mail] = smtp.inbox.wait_for(1)
    assert "camille@example.com" in mail["To"]


def test_two_nodes_mail_a_reminder_once(
    app: Flask, second_node: Flask, session: Session, factory: Factory, smtp: SmtpServer
) -> None:
    team = staff(factory, session)
    book(session, team, factory, in_two_days())
    schedulers = [start(app, "reminders", **smtp.config)]
    schedulers.append(start(second_node, "reminders", **smtp.config))
    both_ran(schedulers, "reminders")
    assert len(smtp.inbox.messages) == due_reminders(session) == 1


def test_a_job_that_fails_runs_again(app: Flask) -> None:
    """One bad run (here: the database is gone) is logged, and the job keeps its timer."""
    failures: list[int] = []

    def broken(_: Flask) -> object:
        failures.append(1)
        raise RuntimeError("database gone")

    from web.scheduler import Job

    scheduler = Scheduler(app, (Job("broken", "BROKEN_SECONDS", 0.05, broken),))
    scheduler.start()
    try:
        assert scheduler.wait_for_runs("broken", 3)
    finally:
        scheduler.stop()
    assert len(failures) >= 3


def test_the_app_starts_its_scheduler_outside_the_test_client(app: Flask, tmp_path: Path) -> None:
    keys = ("VITRINE_ENV", "SECRET_KEY", "MEDIA_GRANT_SECRET", "DATABASE_URL")
    node = create_app(
        {key: app.config[key] for key in keys}
        | FAST
        | {"SOCKETIO_ASYNC_MODE": "threading", "UPLOAD_DIR": str(tmp_path / "up3")}
    )
    try:
        for job in ("reservations", "offers", "queue", "reminders"):
            assert scheduler_of(node).wait_for_runs(job, 1), f"{job} never ran"
    finally:
        stop_scheduler(node)
        node.extensions["vitrine.engine"].dispose()
