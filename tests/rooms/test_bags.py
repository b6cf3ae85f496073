"""Bags over HTTP: reservation, sold out, expiry, removal, checkout hand-off, media grants."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlmodel import Session, col, func, select

from sessions import bags
from sessions.clock import utcnow
from sessions.events import Event
from sessions.grants import verify_grant
from sessions.models import (
    AnalyticsEvent,
    BagLine,
    Brand,
    CheckoutHandoff,
    LiveSession,
    SessionKind,
    StockReservation,
    Variant,
)
from tests.conftest import login
from tests.rooms.conftest import Room


def shopper_client(app: Flask, room: Room) -> FlaskClient:
    http = app.test_client()
    assert http.get(f"/api/live-sessions/{room.id}").status_code == 200
    return http


def add(http: FlaskClient, room: Room, quantity: int = 1, **extra: Any) -> Any:
    body = {"variant_id": room.variant.id, "quantity": quantity, **extra}
    return http.post("/api/bag/lines", json=body)


def stock_of(session: Session, variant_id: int | None) -> int:
    variant = session.get(Variant, variant_id)
    assert variant is not None
    session.refresh(variant)
    session.commit()
    return variant.stock


def test_add_to_bag_reserves_stock_until_sold_out(app: Flask, room: Room, session: Session) -> None:
    http = shopper_client(app, room)
    added = add(http, room, 3, live_session_id=room.id)
    assert added.status_code == 201, added.json
    assert added.json["stock"]["stock"] == 2
    assert added.json["bag"]["count"] == 3 and added.json["bag"]["total_minor"] == 36000
    refused = add(shopper_client(app, room), room, 3)
    assert refused.status_code == 409
    assert refused.json == {
        "error": "sold_out",
        "message": "Only 2 left.",
        "details": {"variant_id": room.variant.id, "stock": 2},
    }
    assert add(http, room, 2).json["bag"]["lines"][0]["quantity"] == 5  # same line grows
    assert stock_of(session, room.variant.id) == 0
    assert http.get(f"/api/bag?brand_id={room.brand.id}").json["count"] == 5
    assert add(http, room, 0).status_code == 422
    assert http.post("/api/bag/lines", data="nope").status_code == 400


def test_expired_reservations_give_stock_back(
    app: Flask, room: Room, session: Session, events: list[Event]
) -> None:
    http = shopper_client(app, room)
    assert add(http, room, 2, live_session_id=room.id).status_code == 201
    session.exec(update(StockReservation).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert bags.do_release_expired(session) == 1  # what the sweeper runs
    assert bags.do_release_expired(session) == 0  # and never twice
    assert stock_of(session, room.variant.id) == 5
    bag_events = [e for e in events if e.kind == "bag"]
    assert bag_events[-1].data["bag"]["lines"] == []
    stock_events = [e for e in events if e.kind == "stock"]
    assert stock_events[-1].room == room.live.room and stock_events[-1].data["stock"] == 5
    assert http.get(f"/api/bag?brand_id={room.brand.id}").json["lines"] == []


def test_reading_the_bag_releases_lazily(app: Flask, room: Room, session: Session) -> None:
    http = shopper_client(app, room)
    add(http, room, 4)
    session.exec(update(StockReservation).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert http.get(f"/api/bag?brand_id={room.brand.id}").json["count"] == 0
    assert stock_of(session, room.variant.id) == 5


def test_removing_a_line_and_nobody_elses(app: Flask, room: Room, session: Session) -> None:
    http = shopper_client(app, room)
    line_id = add(http, room, 2).json["bag"]["lines"][0]["id"]
    other = shopper_client(app, room)
    refused = other.delete(f"/api/bag/lines/{line_id}")
    assert refused.status_code == 403 and refused.json["error"] == "forbidden"
    assert http.delete(f"/api/bag/lines/{line_id}").json["lines"] == []
    assert stock_of(session, room.variant.id) == 5


def test_changing_a_quantity_reserves_or_gives_back_the_difference(
    app: Flask, room: Room, session: Session, events: list[Event]
) -> None:
    http = shopper_client(app, room)
    line_id = add(http, room, 2, live_session_id=room.id).json["bag"]["lines"][0]["id"]
    url = f"/api/bag/lines/{line_id}"
    more = http.patch(url, json={"quantity": 4})
    assert more.status_code == 200, more.json
    assert [line["quantity"] for line in more.json["lines"]] == [4] and more.json["count"] == 4
    assert stock_of(session, room.variant.id) == 1
    stock_events = [e for e in events if e.kind == "stock"]
    assert stock_events[-1].room == room.live.room and stock_events[-1].data["stock"] == 1
    refused = http.patch(url, json={"quantity": 6})
    assert refused.status_code == 409 and refused.json["message"] == "Only 1 left."
    assert http.patch(url, json={"quantity": 5}).json["count"] == 5
    # Sold out, and known to be: the next tap is refused from the flag...
    other = shopper_client(app, room)
    assert add(other, room, 1).json["error"] == "sold_out"
    adds_before = added_to_bag_events(session)
    fewer = http.patch(url, json={"quantity": 1})
    assert fewer.status_code == 200 and fewer.json["count"] == 1
    assert stock_of(session, room.variant.id) == 4
    # Fewer is the same line (its price, its show), not a new one added again.
    assert [line["id"] for line in fewer.json["lines"]] == [line_id]
    assert session.get(BagLine, line_id).live_session_id == room.id  # type: ignore[union-attr]
    assert added_to_bag_events(session) == adds_before
    reserved = session.exec(
        select(func.sum(StockReservation.quantity)).where(
            StockReservation.bag_line_id == line_id,
            col(StockReservation.released_at).is_(None),
        )
    ).one()
    assert reserved == 1
    session.commit()
    # ... until the stock goes back, which clears it.
    assert add(other, room, 1).status_code == 201
    new_id = fewer.json["lines"][0]["id"]
    assert other.patch(f"/api/bag/lines/{new_id}", json={"quantity": 2}).status_code == 403
    for bad in (11, -1, None, 1.5, "two"):
        answer = http.patch(f"/api/bag/lines/{new_id}", json={"quantity": bad})
        assert answer.status_code == 422 and answer.json["message"], bad
    assert http.patch("/api/bag/lines/999999", json={"quantity": 1}).status_code == 404
    assert http.patch(f"/api/bag/lines/{new_id}", json={"quantity": 0}).json["lines"] == []
    assert stock_of(session, room.variant.id) == 4  # the other shopper still holds one


def added_to_bag_events(session: Session) -> int:
    count = session.exec(select(func.count()).where(AnalyticsEvent.kind == "add_to_bag")).one()
    session.commit()  # end the read: on SQLite an open transaction holds the write lock
    return int(count)


def test_set_line_quantity_in_the_domain(room: Room, session: Session) -> None:
    with pytest.raises(bags.InvalidInput):
        bags.check_quantity(bags.MAX_QUANTITY + 1)
    assert bags.check_quantity(0) == 0


def test_in_a_consultation_the_associate_adds_to_the_shoppers_bag(
    app: Flask, room: Room, session: Session
) -> None:
    http = shopper_client(app, room)
    shopper_bag = add(http, room, 1).json["bag"]
    reservation = session.exec(select(StockReservation)).first()
    assert reservation is not None
    from sessions.models import Bag

    bag = session.get(Bag, shopper_bag["id"])
    assert bag is not None
    consult = LiveSession(
        brand_id=room.brand.id,
        kind=SessionKind.CONSULTATION,
        shopper_id=bag.shopper_id,
        associate_id=room.host.id,
        room="consult-bag",
    )
    session.add(consult)
    session.commit()
    staff = app.test_client()
    login(staff, room.host_user.email)
    added = add(staff, room, 1, live_session_id=consult.id)
    assert added.status_code == 201, added.json
    assert added.json["bag"]["id"] == shopper_bag["id"] and added.json["bag"]["count"] == 2
    seen = staff.get(f"/api/bag?brand_id={room.brand.id}&live_session_id={consult.id}")
    assert seen.json["count"] == 2
    assert http.get(f"/api/bag?brand_id={room.brand.id}").json["count"] == 2


class _Shop(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Shop.received.append((dict(self.headers), body))
        self.send_response(202)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def shop() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Shop)
    _Shop.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/vitrine"
    server.shutdown()


def test_checkout_hands_off_by_url_and_signed_webhook(
    app: Flask, room: Room, session: Session, shop: str
) -> None:
    brand = session.get(Brand, room.brand.id)
    assert brand is not None
    brand.checkout_url_template = "https://shop.example/cart?add={skus}&ref={bag_id}"
    brand.checkout_webhook_url = shop
    brand.webhook_secret = "whsec"
    app.config["ALLOW_PRIVATE_WEBHOOK_HOSTS"] = True  # the shop listens on 127.0.0.1
    session.add(brand)
    session.commit()
    http = shopper_client(app, room)
    assert http.post("/api/bag/checkout", json={"brand_id": brand.id}).json["error"] == "empty_bag"
    bag_id = add(http, room, 2).json["bag"]["id"]
    done = http.post("/api/bag/checkout", json={"brand_id": brand.id})
    assert done.status_code == 200, done.json
    assert done.json == {
        "method": "url",
        "redirect_url": f"https://shop.example/cart?add={room.variant.sku}:2&ref={bag_id}",
        "status_code": 202,
    }
    headers, body = _Shop.received[0]
    stamp, signature = (part.split("=", 1)[1] for part in headers["X-Vitrine-Signature"].split(","))
    expected = hmac.new(b"whsec", f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, expected)
    assert json.loads(body)["bag"]["lines"][0]["sku"] == room.variant.sku
    record = session.exec(select(CheckoutHandoff)).one()
    assert record.total_minor == 24000 and record.status_code == 202
    session.commit()
    assert http.get(f"/api/bag?brand_id={brand.id}").json["count"] == 0  # a new, empty bag
    assert stock_of(session, room.variant.id) == 3  # sold by the shop now, not returned


def test_checkout_without_a_configured_shop_says_so(app: Flask, room: Room) -> None:
    http = shopper_client(app, room)
    add(http, room, 1)
    refused = http.post("/api/bag/checkout", json={"brand_id": room.brand.id})
    assert refused.status_code == 409 and "not set up checkout" in refused.json["message"]


def test_media_grants_follow_the_access_rules(app: Flask, room: Room) -> None:
    viewer = shopper_client(app, room)
    url = f"/api/live-sessions/{room.id}/media-grant"
    view = viewer.post(url, json={"role": "view"})
    assert view.status_code == 200, view.json
    grant = verify_grant("test-media-secret", view.json["grant"])
    assert grant.room == room.live.room and grant.role == "view"
    assert viewer.post(url, json={"role": "publish"}).status_code in (401, 403)
    assert viewer.post(url, json={"role": "shout"}).status_code == 422
    host = app.test_client()
    login(host, room.host_user.email)
    assert host.post(url, json={"role": "publish"}).json["room"] == room.live.room
    assert host.post(url, json={"role": "view", "room_suffix": "shopper"}).status_code == 422


def test_show_start_and_end_need_the_host(app: Flask, room: Room) -> None:
    viewer = shopper_client(app, room)
    assert viewer.post(f"/api/shows/{room.show.id}/end").status_code == 401
    host = app.test_client()
    login(host, room.host_user.email)
    ended = host.post(f"/api/shows/{room.show.id}/end")
    assert ended.json["status"] == "ended"
    assert viewer.get(f"/api/live-sessions/{room.id}").json["status"] == "ended"


def test_bag_page_form_lands_in_the_brands_cart(app: Flask, room: Room, session: Session) -> None:
    brand = session.get(Brand, room.brand.id)
    assert brand is not None
    brand.checkout_url_template = (
        "https://shop.example/{brand}/cart?items={skus}&total={total_minor}"
    )
    session.add(brand)
    session.commit()
    http = shopper_client(app, room)
    add(http, room, 1)
    response = http.post(f"/checkout/{brand.slug}")
    assert response.status_code == 303
    assert response.headers["Location"] == (
        f"https://shop.example/{brand.slug}/cart?items={room.variant.sku}:1&total=12000"
    )
    again = http.post(f"/checkout/{brand.slug}")
    assert again.status_code == 409 and "empty" in again.get_data(as_text=True)
