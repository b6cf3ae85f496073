"""The sold-out fast path (sessions/stockflags.py): a variant known at zero is refused
without a write, and the flag never refuses a unit that is in stock again — a
reservation expiring (swept or not), a line removed, an admin restock."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient
from sqlalchemy import func
from sqlmodel import Session, select

from sessions import bags, stockflags
from sessions import catalogue as cat
from sessions.clock import utcnow
from sessions.models import Shopper, Variant
from tests.factories import Factory
from tests.rooms.conftest import Room, guest, join

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def flags(request: pytest.FixtureRequest, app: Flask) -> Iterator[str]:
    """Flags in process memory (one node) or in Redis (several), trusted without the time
    cap: only the clearing rules are under test."""
    store = request.param
    url = REDIS_URL if store == "redis" else None
    stockflags.configure(url, f"test-{uuid.uuid4().hex[:10]}", app.config["DATABASE_URL"])
    cap = stockflags.MAX_TRUST_SECONDS
    stockflags.MAX_TRUST_SECONDS = 24 * 3600.0
    yield store
    stockflags.MAX_TRUST_SECONDS = cap
    stockflags.configure(None, "", "")


def shopper(app: Flask, room: Room) -> FlaskClient:
    http = app.test_client()
    assert http.get(f"/api/live-sessions/{room.id}").status_code == 200
    return http


def add(http: FlaskClient, room: Room, quantity: int = 1) -> tuple[int, dict]:
    body = {"variant_id": room.variant.id, "quantity": quantity, "live_session_id": room.id}
    r = http.post("/api/bag/lines", json=body)
    return r.status_code, r.json or {}


def shoppers(session: Session) -> int:
    count = session.exec(select(func.count()).select_from(Shopper)).one()
    session.commit()
    return int(count)


def sell_out(app: Flask, room: Room) -> FlaskClient:
    """One shopper takes all 5; the next is refused the long way, which sets the flag."""
    buyer = shopper(app, room)
    assert add(buyer, room, 5)[0] == 201
    status, body = add(shopper(app, room), room)
    assert (status, body["error"], body["details"]["stock"]) == (409, "sold_out", 0)
    assert stockflags.known_sold_out(room.variant.id or 0) == room.brand.id
    return buyer


def test_known_sold_out_is_refused_without_a_write(
    app: Flask, room: Room, session: Session, flags: str
) -> None:
    sell_out(app, room)
    before = shoppers(session)
    for _ in range(3):
        status, body = add(shopper(app, room), room)
        assert (status, body["error"], body["message"]) == (409, "sold_out", "Sold out.")
    assert shoppers(session) == before  # the refused guests never became shopper rows


def test_an_expiring_reservation_ends_the_flag_swept_or_not(
    app: Flask, room: Room, session: Session, flags: str
) -> None:
    sell_out(app, room)
    later = utcnow() + timedelta(minutes=room.brand.reservation_minutes, seconds=1)
    with time_machine.travel(later, tick=True):
        # Not swept yet: the flag is trusted only until the first reservation's expiry,
        # so this tap takes the long way, which gives the expired units back.
        status, body = add(shopper(app, room), room)
        assert status == 201, body
        assert body["stock"]["stock"] == 4
    sell_out_again = shopper(app, room)
    assert add(sell_out_again, room, 2)[0] == 201
    assert add(shopper(app, room), room, 2)[0] == 201
    assert add(shopper(app, room), room)[0] == 409  # zero again: flagged again
    assert stockflags.known_sold_out(room.variant.id or 0) == room.brand.id
    with time_machine.travel(utcnow() + timedelta(hours=1), tick=True):
        assert bags.do_release_expired(session) == 3  # what the sweeper runs: it clears
        session.commit()  # end its reads (on SQLite a transaction holds the write lock)
        assert stockflags.known_sold_out(room.variant.id or 0) is None
        assert add(shopper(app, room), room, 5)[0] == 201


def test_an_admin_restock_ends_the_flag_at_once(
    app: Flask, room: Room, session: Session, factory: Factory, flags: str
) -> None:
    sell_out(app, room)
    variant = session.get(Variant, room.variant.id)
    assert variant is not None
    cat.do_set_stock(session, variant, 1)
    session.commit()
    assert add(shopper(app, room), room)[0] == 201


def test_removing_a_line_ends_the_flag(
    app: Flask, room: Room, session: Session, flags: str
) -> None:
    buyer = sell_out(app, room)
    status, _ = add(buyer, room, 0)  # bad input still answers 422 on a flagged variant
    assert status == 422
    line_id = buyer.get(f"/api/bag?brand_id={room.brand.id}").json["lines"][0]["id"]
    assert buyer.delete(f"/api/bag/lines/{line_id}").status_code == 200
    assert add(shopper(app, room), room)[0] == 201


def test_a_mark_after_stock_rose_is_refused(app: Flask, flags: str) -> None:
    """The refused request read the generation before the stock; a rise committed after
    that moves it, and the flag it would have set is never set."""
    seen = stockflags.generation()
    stockflags.stock_rose([7])
    assert not stockflags.mark_sold_out(7, 1, float("inf"), seen)
    assert stockflags.known_sold_out(7) is None
    assert stockflags.mark_sold_out(7, 1, float("inf"), stockflags.generation())
    assert stockflags.known_sold_out(7) == 1


def test_the_socket_event_takes_the_fast_path_too(
    app: Flask,
    room: Room,
    session: Session,
    connect: Callable[..., SocketIOTestClient],
    flags: str,
) -> None:
    sell_out(app, room)
    sio = guest(connect, app, room)
    assert join(sio, room)["ok"]
    before = shoppers(session)
    ack = sio.emit(
        "add_to_bag", {"session_id": room.id, "variant_id": room.variant.id}, callback=True
    )
    assert ack["ok"] is False and ack["error"] == "sold_out"
    assert shoppers(session) == before
    variant = session.get(Variant, room.variant.id)
    assert variant is not None
    cat.do_set_stock(session, variant, 2)
    session.commit()
    ack = sio.emit(
        "add_to_bag", {"session_id": room.id, "variant_id": room.variant.id}, callback=True
    )
    assert ack["ok"] is True and ack["stock"]["stock"] == 1


def test_the_last_unit_taken_sets_the_flag(app: Flask, room: Room, flags: str) -> None:
    """The taps behind the one that took the last unit need not wait for a refusal."""
    assert add(shopper(app, room), room, 5)[0] == 201
    assert stockflags.known_sold_out(room.variant.id or 0) == room.brand.id


def test_a_short_variant_is_refused_before_the_guest_becomes_a_shopper(
    app: Flask, room: Room, session: Session, flags: str
) -> None:
    """With no flag (expired, or set on another node without Redis), one plain read of
    the stock refuses the tap: no shopper row, and the flag is set again."""
    sell_out(app, room)
    stockflags.stock_rose([room.variant.id or 0])  # as if the flag had run out
    before = shoppers(session)
    status, body = add(shopper(app, room), room)
    assert (status, body["error"], body["message"]) == (409, "sold_out", "Sold out.")
    assert shoppers(session) == before
    assert stockflags.known_sold_out(room.variant.id or 0) == room.brand.id

    variant = session.get(Variant, room.variant.id)
    assert variant is not None
    cat.do_set_stock(session, variant, 2)
    session.commit()
    status, body = add(shopper(app, room), room, 3)
    assert (status, body["message"], body["details"]["stock"]) == (409, "Only 2 left.", 2)
    assert shoppers(session) == before
    assert stockflags.known_sold_out(room.variant.id or 0) is None  # 2 left is not zero
    assert add(shopper(app, room), room, 2)[0] == 201


def test_a_take_refused_by_the_cap_leaves_no_flag(
    app: Flask, room: Room, session: Session, flags: str
) -> None:
    """The last unit taken, then refused by the per-client cap, goes back: the flag that
    a take to zero sets must not be left behind."""
    variant = session.get(Variant, room.variant.id)
    assert variant is not None
    cat.do_set_stock(session, variant, 6)
    room.brand.max_per_client = 5
    session.add(room.brand)
    session.commit()
    buyer = shopper(app, room)
    assert add(buyer, room, 5)[0] == 201
    status, body = add(buyer, room)  # would take the last unit, past the cap of 5
    assert (status, body["error"]) == (409, "limit_per_client"), body
    assert stockflags.known_sold_out(room.variant.id or 0) is None
    status, body = add(shopper(app, room), room)
    assert status == 201 and body["stock"]["stock"] == 0
    assert stockflags.known_sold_out(room.variant.id or 0) == room.brand.id
