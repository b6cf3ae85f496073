"""Retention per brand, enforced by the scheduler's ``privacy`` job with the clock moved
on: a consultation's snapshots go after the recordings period, chat after the chat period,
a guest after the guest period (erased at the brand once, though two nodes run the job)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func
from sqlmodel import Session, col, select

from sessions.clock import travel
from sessions.events import Event
from sessions.models import (
    AuditEntry,
    Bag,
    Brand,
    ChatMessage,
    Shopper,
    Thread,
    ThreadMessage,
    ThreadSide,
)
from tests.factories import Factory
from tests.privacy.world import World, make_world
from tests.rooms.test_scheduler import second_node  # noqa: F401  (a fixture)
from web.privacy import purge
from web.scheduler import scheduler_of

NOWHERE = "http://127.0.0.1:9"  # no relay: its deletions wait for the next run


@pytest.fixture
def world(app: Flask, factory: Factory, session: Session) -> World:
    app.config["RELAY_INTERNAL_URL"] = NOWHERE
    made = make_world(factory, session, Path(app.config["UPLOAD_DIR"]))
    brand = session.get(Brand, made.brand.id)
    assert brand is not None
    brand.chat_retention_days, brand.recording_retention_days = 30, 7
    brand.guest_retention_days = 10
    session.add(brand)
    session.commit()
    return made


@pytest.fixture
def guest(session: Session, world: World) -> Iterator[Shopper]:
    """A guest (no verified e-mail) who talked to the brand and left a bag."""
    shopper = Shopper(token="tok-gaston", name="Gaston Guestname", email="gaston@example.com")
    session.add(shopper)
    session.flush()
    thread = Thread(brand_id=world.brand.id or 0, shopper_id=shopper.id or 0)
    session.add(thread)
    session.flush()
    session.add(
        ThreadMessage(
            thread_id=thread.id or 0,
            side=ThreadSide.SHOPPER,
            author_name="Gaston Guestname",
            body="Gaston's question",
        )
    )
    session.add(Bag(brand_id=world.brand.id or 0, shopper_id=shopper.id or 0))
    session.commit()
    yield shopper


def count(session: Session, model: type, *where: object) -> int:
    found = int(session.exec(select(func.count()).select_from(model).where(*where)).one())
    session.commit()
    return found


def fresh(session: Session, shopper_id: int | None) -> Shopper:
    session.expire_all()
    row = session.get(Shopper, shopper_id)
    assert row is not None
    session.commit()
    return row


def test_purge_by_retention_with_the_clock_moved_on(
    app: Flask,
    second_node: Flask,  # noqa: F811
    world: World,
    guest: Shopper,
    session: Session,
    events: list[Event],
) -> None:
    chat, thread_messages = count(session, ChatMessage), count(session, ThreadMessage)
    assert world.a.snapshot.exists() and world.b.snapshot.exists()

    with travel(timedelta(days=6)):  # within every period: nothing goes
        purge(app)
    assert world.a.snapshot.exists()
    assert count(session, ChatMessage) == chat

    with travel(timedelta(days=8)):  # the consultations ended 8 days ago: their pictures go
        purge(app)
        assert purge(app) == 0, "a brand is purged once per round, whoever runs it"
    assert not world.a.snapshot.exists() and not world.b.snapshot.exists()
    assert count(session, ChatMessage, col(ChatMessage.attachment_path).is_not(None)) == 0
    assert count(session, ThreadMessage, col(ThreadMessage.attachment_url).is_not(None)) == 0
    assert count(session, ChatMessage) == chat  # the chat itself is kept 30 days
    assert fresh(session, guest.id).name == "Gaston Guestname"

    with travel(timedelta(days=31)):  # the chat's period is over
        purge(app)
    assert (
        count(
            session,
            ChatMessage,
            col(ChatMessage.live_session_id).in_(
                [world.show_live.id, world.a.consultation.id, world.b.consultation.id]
            ),
        )
        == 0
    )
    assert count(session, ThreadMessage) == 0 < thread_messages
    assert fresh(session, guest.id).name == "Gaston Guestname"  # the guest's token lived 30 days

    # 41 days on the guest's token has been dead for 11 (> 10): two nodes run the job.
    app.config["PRIVACY_PURGE_SECONDS"] = second_node.config["PRIVACY_PURGE_SECONDS"] = 0.1
    second_node.config["RELAY_INTERNAL_URL"] = NOWHERE
    with travel(timedelta(days=41)):
        schedulers = [scheduler_of(app), scheduler_of(second_node)]
        for scheduler in schedulers:
            scheduler.start("privacy")
        for scheduler in schedulers:
            assert scheduler.wait_for_runs("privacy", 3)
    gone = fresh(session, guest.id)
    assert (gone.name, gone.email) == (None, None) and gone.token != "tok-gaston"
    assert count(session, Bag, Bag.shopper_id == guest.id) == 1  # the brand's record stays
    erasures = session.exec(
        select(AuditEntry).where(
            AuditEntry.action == "shopper.erase", AuditEntry.target == f"shopper:{guest.id}"
        )
    ).all()
    session.commit()
    assert len(erasures) == 1 and '"retention"' in erasures[0].detail
    assert len([e for e in events if e.kind == "shopper_erased"]) == 1
    # Shoppers with a verified e-mail are not guests: they stay until they erase themselves.
    assert fresh(session, world.a.id).name == world.a.secrets[0]
