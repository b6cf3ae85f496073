"""A line removed while the same shopper's add to it is in flight (PostgreSQL, two
connections): the removal waits for the add's bag lock, then gives back every unit the line
holds, the add's included. Before the lock it released only what it had read, and the
add's unit stayed taken under a line that was gone."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from sessions import bags
from sessions.access import Actor, ActorKind
from sessions.clock import utcnow
from sessions.db import make_engine
from sessions.models import BagLine, StockReservation, Variant
from tests.factories import Factory
from tests.rooms.conftest import Room


@pytest.fixture
def pg_url(database_url: str) -> str:
    if database_url.startswith("sqlite"):
        pytest.skip("row locks between two connections: PostgreSQL")
    return database_url


def _waiting_on_a_lock(url: str, pid: int, timeout: float = 30.0) -> bool:
    """Has backend `pid` started waiting for a lock? PostgreSQL sends no event of it:
    its activity view is asked again (every 20 ms, for at most `timeout`) until it says so."""
    query = text("SELECT 1 FROM pg_stat_activity WHERE pid = :pid AND wait_event_type = 'Lock'")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            deadline = utcnow() + timedelta(seconds=timeout)
            while conn.execute(query, {"pid": pid}).first() is None:
                if utcnow() > deadline:
                    return False
                conn.execute(text("SELECT pg_sleep(0.02)"))
            return True
    finally:
        engine.dispose()


def test_a_removal_racing_an_add_gives_back_every_unit(
    pg_url: str, room: Room, session: Session, factory: Factory
) -> None:
    shopper = factory.shopper()
    actor = Actor(kind=ActorKind.SHOPPER, shopper_id=shopper.id)
    added = bags.do_add_to_bag(session, actor, variant_id=room.variant.id, live=room.live)
    session.commit()
    line_id, bag_id = added.bag["lines"][0]["id"], added.bag["id"]
    variant_id = room.variant.id
    start = session.exec(select(Variant.stock).where(Variant.id == variant_id)).one()
    session.commit()

    # The add in flight, as _reserve_in runs it: the bag locked, the line grown, a unit
    # taken and its reservation written, not yet committed.
    adder = make_engine(pg_url)
    remover = make_engine(pg_url)
    add = adder.connect()
    add.execute(text("SELECT id FROM bags WHERE id = :b FOR UPDATE"), {"b": bag_id})
    add.execute(text("UPDATE bag_lines SET quantity = quantity + 1 WHERE id = :l"), {"l": line_id})
    add.execute(text("UPDATE variants SET stock = stock - 1 WHERE id = :v"), {"v": variant_id})
    add.execute(
        text(
            "INSERT INTO stock_reservations (variant_id, bag_line_id, quantity, expires_at,"
            " created_at) VALUES (:v, :l, 1, :e, :c)"
        ),
        {"v": variant_id, "l": line_id, "e": utcnow() + timedelta(minutes=10), "c": utcnow()},
    )

    outcome: list[object] = []
    pid: list[int] = []
    ready = threading.Event()

    def remove() -> None:
        with Session(remover, expire_on_commit=False) as db:
            pid.append(int(db.exec(text("SELECT pg_backend_pid()")).one()[0]))  # type: ignore[call-overload]
            ready.set()
            try:
                outcome.append(bags.do_remove_line(db, actor, line_id))
            except Exception as exc:  # handed to the test
                outcome.append(exc)

    thread = threading.Thread(target=remove)
    thread.start()
    assert ready.wait(30)
    assert _waiting_on_a_lock(pg_url, pid[0]), "the removal did not wait for the add"
    add.commit()
    add.close()
    thread.join(30)
    adder.dispose()
    remover.dispose()

    assert len(outcome) == 1 and isinstance(outcome[0], dict), outcome
    assert outcome[0]["lines"] == []
    assert session.exec(select(Variant.stock).where(Variant.id == variant_id)).one() == start + 1
    held = session.exec(
        select(StockReservation).where(
            StockReservation.variant_id == variant_id,
            StockReservation.released_at.is_(None),  # type: ignore[union-attr]
        )
    ).all()
    assert held == []  # the add's unit too
    assert session.get(BagLine, line_id) is None
