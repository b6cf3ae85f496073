"""One thread across channels: what the shopper did elsewhere is noted in their thread
(booked, moved, cancelled; a show watched, once; a piece added to the bag, by whom), and
the associate reads it in the thread's history. Browsing makes no thread."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from sessions import bags
from sessions.analytics import events as analytics
from sessions.catalogue import variants_of
from sessions.clock import utcnow
from sessions.models import Thread, ThreadMessage, ThreadMessageKind
from sessions.service import appointments, rooms, threads
from tests.booking.conftest import Team
from tests.factories import Factory
from tests.service.conftest import associate_actor, shopper_actor


def notes(session: Session, brand_id: int | None, shopper_id: int | None) -> list[str]:
    thread = threads.thread_of(session, brand_id or 0, shopper_id or 0)
    if thread is None:
        return []
    rows = session.exec(
        select(ThreadMessage)
        .where(ThreadMessage.thread_id == thread.id, ThreadMessage.kind == ThreadMessageKind.SYSTEM)
        .order_by(ThreadMessage.id)  # type: ignore[arg-type]
    ).all()
    return [m.body for m in rows]


def test_a_booked_consultation_is_noted_booked_moved_and_cancelled(
    session: Session, team: Team, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(appointments, "_check_slot_offered", lambda *a, **k: None)
    shopper = factory.shopper()
    start = (utcnow() + timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    kwargs: dict[str, Any] = {
        "brand_id": team.brand.id,
        "associate_id": team.anna.id,
        "store_id": team.store.id,
        "name": "Camille",
        "email": "camille@example.com",
    }
    booked = appointments.do_book(session, starts_at=start, shopper_id=shopper.id, **kwargs)
    appointments.do_reschedule(session, booked, starts_at=start + timedelta(hours=2))
    appointments.do_cancel(session, booked, by="associate", reason="I am unwell")
    said = notes(session, team.brand.id, shopper.id)
    assert len(said) == 3, said
    assert said[0].startswith("Booked a video consultation with Anna for ")
    assert "09:00" in said[0] or "10:00" in said[0]  # in the store's zone (Paris)
    assert "(Paris time)" in said[0]
    assert said[1].startswith("Moved the video consultation to ")
    assert said[2].startswith("Anna cancelled the video consultation of ")


def test_a_show_watched_is_noted_once_and_only_in_a_thread(
    session: Session, team: Team, factory: Factory
) -> None:
    show = factory.show(team.brand, title="Silk, live")
    live = factory.live_session(show)
    browsing, asking = factory.shopper(), factory.shopper()
    analytics.do_record_join(session, shopper_actor(browsing), live, "view-1")
    assert session.exec(select(Thread)).all() == []  # browsing makes no thread
    threads.do_ask(session, shopper_actor(asking), team.brand, body="Is it silk?")
    for view in ("view-2", "view-3"):
        analytics.do_record_join(session, shopper_actor(asking), live, view)
    assert notes(session, team.brand.id, asking.id).count("Watched the show “Silk, live”") == 1


def test_a_piece_added_to_the_bag_is_noted_with_who_added_it(
    session: Session, team: Team, factory: Factory
) -> None:
    product = factory.product(team.brand, name="Petite Lune", sizes=("S",))
    team.brand.max_per_client = 5
    session.add(team.brand)
    session.commit()
    variant_id = variants_of(session, product.id or 0)[0].id
    shopper = factory.shopper()
    bags.do_add_to_bag(session, shopper_actor(shopper), variant_id=variant_id)
    assert notes(session, team.brand.id, shopper.id) == []  # no thread yet: nothing noted
    threads.do_ask(session, shopper_actor(shopper), team.brand, body="Does it run small?")
    bags.do_add_to_bag(session, shopper_actor(shopper), variant_id=variant_id)
    bags.do_add_to_bag(
        session, associate_actor(team.anna), variant_id=variant_id, for_shopper=shopper.id
    )
    assert notes(session, team.brand.id, shopper.id)[-2:] == [
        "Added 1 × Petite Lune (S) to the bag",
        "Anna added 1 × Petite Lune (S) to the bag",
    ]


def test_the_associate_reads_the_notes_in_the_history(
    session: Session, team: Team, factory: Factory
) -> None:
    shopper = factory.shopper()
    asked = threads.do_ask(session, shopper_actor(shopper), team.brand, body="Hello")
    threads.do_note_in_thread(session, team.brand.id or 0, shopper.id or 0, "Video ended")
    history = threads.history(session, asked.thread)
    assert [m["body"] for m in history][-1] == "Video ended"
    assert history[-1]["side"] == "system"
    assert rooms.activity.note_consultation_ended is not None  # rooms note through activity
