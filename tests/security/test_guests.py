"""Guest identities cannot be minted without limit: a GET creates no shopper, the first
action creates exactly one, tokens expire, and creation is limited per client address."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlmodel import Session, select

from sessions import ratelimit
from sessions.clock import utcnow
from sessions.models import Shopper
from sessions.shows import lifecycle
from tests.factories import OPERATOR, Factory
from web.extensions import socketio


def shoppers(session: Session) -> int:
    count = session.exec(select(func.count()).select_from(Shopper)).one()
    session.commit()  # end the read: on SQLite it holds the write lock
    return int(count)


def embed_token(http: FlaskClient, show_id: int) -> str:
    html = http.get(f"/embed/shows/{show_id}").get_data(as_text=True)
    match = re.search(r'data-embed-token="([^"]+)"', html)
    assert match, "the embed page carries a token"
    return match.group(1)


def a_live_show(factory: Factory) -> tuple[int, int, int, int]:
    """(brand id, show id, live session id, variant id) of a live show with one product."""
    brand = factory.brand()
    product = factory.product(brand, stock=20)
    show = factory.show(brand, product_ids=[product.id])
    live = lifecycle.do_start_show(factory.session, OPERATOR, show)
    variant = factory.variants(product)[0]
    factory.session.commit()
    assert brand.id and show.id and live.id and variant.id
    return brand.id, show.id, live.id, variant.id


def test_embed_and_page_gets_create_no_shopper_and_the_first_action_one(
    app: Flask, factory: Factory, session: Session
) -> None:
    brand_id, show_id, live_id, variant_id = a_live_show(factory)
    tokens = [embed_token(app.test_client(use_cookies=False), show_id) for _ in range(15)]
    browser = app.test_client()
    for _ in range(5):
        embed_token(browser, show_id)
        assert browser.get(f"/api/live-sessions/{live_id}").status_code == 200
        assert browser.get(f"/api/bag?brand_id={brand_id}").json["count"] == 0
    assert shoppers(session) == 0

    header = {"X-Vitrine-Embed": tokens[0]}
    cookieless = app.test_client(use_cookies=False)
    body = {"variant_id": variant_id}
    assert cookieless.post("/api/bag/lines", json=body, headers=header).status_code == 201
    assert shoppers(session) == 1
    again = cookieless.post("/api/bag/lines", json=body, headers=header)
    assert again.status_code == 201 and again.json["bag"]["count"] == 2  # the same shopper
    assert shoppers(session) == 1
    assert browser.post("/api/bag/lines", json=body).status_code == 201  # the cookie's guest
    assert shoppers(session) == 2


def test_a_socket_guest_becomes_a_shopper_on_its_first_action_only(
    app: Flask, factory: Factory, session: Session
) -> None:
    brand_id, show_id, live_id, variant_id = a_live_show(factory)
    token = embed_token(app.test_client(use_cookies=False), show_id)
    sio = socketio.test_client(app, auth={"embed_token": token})
    try:
        assert sio.emit("join", {"session_id": live_id}, callback=True)["ok"]
        assert shoppers(session) == 0  # connecting and watching create nothing
        assert sio.emit("react", {"session_id": live_id}, callback=True)["ok"]
        assert shoppers(session) == 1
        item = {"session_id": live_id, "variant_id": variant_id}
        added = sio.emit("add_to_bag", item, callback=True)
        assert added["ok"], added
        assert shoppers(session) == 1
        header = {"X-Vitrine-Embed": token}  # the page's API calls: the same shopper
        bag = app.test_client(use_cookies=False).get(
            f"/api/bag?brand_id={brand_id}", headers=header
        )
        assert bag.json["id"] == added["bag"]["id"] and bag.json["count"] == 1
    finally:
        sio.disconnect()


def test_an_expired_token_is_refused_and_the_next_action_makes_a_new_guest(
    app: Flask, factory: Factory, session: Session
) -> None:
    brand_id, _, _, variant_id = a_live_show(factory)
    browser = app.test_client()
    body = {"variant_id": variant_id}
    first = browser.post("/api/bag/lines", json=body)
    assert first.status_code == 201
    assert browser.get("/whoami").json["kind"] == "shopper"
    shopper = session.exec(select(Shopper)).one()
    shopper.expires_at = utcnow() - timedelta(seconds=1)
    session.add(shopper)
    session.commit()

    assert browser.get("/whoami").json["kind"] == "anonymous"  # refused
    assert browser.get(f"/api/bag?brand_id={brand_id}").json["count"] == 0
    again = browser.post("/api/bag/lines", json=body)
    assert again.status_code == 201 and again.json["bag"]["id"] != first.json["bag"]["id"]
    assert shoppers(session) == 2
    assert browser.get("/whoami").json["kind"] == "shopper"  # the new guest, remembered


def test_an_action_moves_the_expiry_forward(app: Flask, factory: Factory, session: Session) -> None:
    _, _, _, variant_id = a_live_show(factory)
    browser = app.test_client()
    assert browser.post("/api/bag/lines", json={"variant_id": variant_id}).status_code == 201
    shopper = session.exec(select(Shopper)).one()
    soon = utcnow() + timedelta(hours=1)
    shopper.expires_at = soon
    session.add(shopper)
    session.commit()
    assert browser.post("/api/bag/lines", json={"variant_id": variant_id}).status_code == 201
    session.refresh(shopper)
    assert shopper.expires_at > utcnow() + timedelta(days=29)
    session.commit()


def test_guest_creation_is_limited_per_client_address(
    app: Flask, factory: Factory, session: Session
) -> None:
    _, _, _, variant_id = a_live_show(factory)
    app.config["GUEST_RATE_LIMIT"] = "3 per hour"
    address = f"2001:db8::{uuid.uuid4().hex[:4]}"  # this test's own count, however run
    body = {"variant_id": variant_id}

    def from_address(ip: str) -> FlaskClient:
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = ip
        return client

    returning = from_address(address)
    assert returning.post("/api/bag/lines", json=body).status_code == 201
    for _ in range(2):
        assert from_address(address).post("/api/bag/lines", json=body).status_code == 201
    refused = from_address(address).post("/api/bag/lines", json=body)
    assert refused.status_code == 429
    assert refused.json["error"] == "too_many_requests"
    assert "Too many new visitors" in refused.json["message"]
    assert shoppers(session) == 3
    assert returning.post("/api/bag/lines", json=body).status_code == 201  # known guests act
    other = from_address(f"2001:db8::{uuid.uuid4().hex[:4]}:1")
    assert other.post("/api/bag/lines", json=body).status_code == 201


def test_guest_creation_over_a_socket_is_limited_too(app: Flask, factory: Factory) -> None:
    _, show_id, live_id, _ = a_live_show(factory)
    ratelimit.reset()  # this process's counts (no Redis here): the address is not ours to pick
    app.config["GUEST_RATE_LIMIT"] = "1 per hour"
    room = {"session_id": live_id}
    made = []
    try:
        for _ in range(2):
            token = embed_token(app.test_client(use_cookies=False), show_id)
            made.append(socketio.test_client(app, auth={"embed_token": token}))
            assert made[-1].emit("join", room, callback=True)["ok"]
        assert made[0].emit("react", room, callback=True)["ok"]
        refused = made[1].emit("react", room, callback=True)
        assert refused["ok"] is False and refused["error"] == "too_many_requests", refused
    finally:
        for sio in made:
            sio.disconnect()
        ratelimit.reset()
