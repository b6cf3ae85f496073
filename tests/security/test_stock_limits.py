"""One client cannot empty a variant: the brand's per-client cap holds through every
entry point (HTTP, the socket's add_to_bag, a flash offer), across requests, lines and
a checkout, even when the same client taps many times at once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from sessions.db import create_all, make_engine
from sessions.models import Brand, Variant
from sessions.shows import lifecycle
from tests.conftest import login
from tests.factories import OPERATOR, Factory
from tests.rooms.live_clients import RoomClient, csrf_token, guest_http, staff_http
from tests.servers import WebServer

CAP_MESSAGE = "At most 2 of this piece per client."


@dataclass
class Drop:
    """A live show selling one scarce variant, at a brand with the default cap."""

    brand_id: int
    live_id: int
    product_id: int
    variant_id: int
    host_email: str


def _seed(session: Session, stock: int = 10) -> Drop:
    factory = Factory(session)
    brand = factory.brand()
    host = factory.associate(brand)
    product = factory.product(brand, stock=stock, name="Kelly bag")
    show = factory.show(brand, host_ids=[host.id], product_ids=[product.id])
    live = lifecycle.do_start_show(session, OPERATOR, show)
    variant = factory.variants(product)[0]
    email = factory.user_of(host).email
    session.commit()  # end the read: on SQLite it holds the write lock
    assert brand.id and live.id and product.id and variant.id
    return Drop(brand.id, live.id, product.id, variant.id, email)


@pytest.fixture
def drop(session: Session) -> Drop:
    return _seed(session)


@pytest.fixture
def served_drop(database_url: str) -> Iterator[Drop]:
    """The same drop in a database a real web node will open."""
    engine = make_engine(database_url)
    create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        yield _seed(session)
    engine.dispose()


def stock_of(database_url: str, variant_id: int) -> int:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            variant = session.get(Variant, variant_id)
            assert variant is not None
            return variant.stock
    finally:
        engine.dispose()


def guest(app: Flask, drop: Drop) -> FlaskClient:
    http = app.test_client()
    assert http.get(f"/api/live-sessions/{drop.live_id}").status_code == 200
    return http


def add(http: FlaskClient, drop: Drop, quantity: int = 1) -> Any:
    return http.post("/api/bag/lines", json={"variant_id": drop.variant_id, "quantity": quantity})


def test_default_cap_is_two_and_holds_across_requests(
    app: Flask, drop: Drop, database_url: str
) -> None:
    shopper = guest(app, drop)
    assert add(shopper, drop).status_code == 201
    assert add(shopper, drop).status_code == 201  # the same line grows to 2
    refused = add(shopper, drop)
    assert refused.status_code == 409
    assert refused.json == {
        "error": "limit_per_client",
        "message": CAP_MESSAGE,
        "details": {"variant_id": drop.variant_id, "max_per_client": 2, "held": 2},
    }
    at_once = add(guest(app, drop), drop, 3)  # one request for more than the cap
    assert at_once.status_code == 409 and at_once.json["message"] == CAP_MESSAGE
    assert shopper.get(f"/api/bag?brand_id={drop.brand_id}").json["count"] == 2
    assert stock_of(database_url, drop.variant_id) == 8  # the rest is left for others
    assert add(guest(app, drop), drop, 2).status_code == 201


def test_checking_out_and_adding_again_does_not_reset_the_cap(
    app: Flask, drop: Drop, session: Session, database_url: str
) -> None:
    brand = session.get(Brand, drop.brand_id)
    assert brand is not None
    brand.checkout_url_template = "https://shop.example/cart?add={skus}"
    session.add(brand)
    session.commit()
    shopper = guest(app, drop)
    assert add(shopper, drop, 2).status_code == 201
    done = shopper.post("/api/bag/checkout", json={"brand_id": drop.brand_id})
    assert done.status_code == 200, done.json
    again = add(shopper, drop)
    assert again.status_code == 409 and again.json["error"] == "limit_per_client"
    assert stock_of(database_url, drop.variant_id) == 8


def test_the_brand_sets_its_cap_in_the_api(app: Flask, drop: Drop, factory: Factory) -> None:
    brand = factory.session.get(Brand, drop.brand_id)
    assert brand is not None
    admin = factory.admin(brand)
    factory.session.commit()
    staff = app.test_client()
    login(staff, admin.email)
    url = f"/api/brands/{drop.brand_id}"
    assert staff.patch(url, json={"max_per_client": 0}).status_code == 422
    changed = staff.patch(url, json={"max_per_client": 3})
    assert changed.status_code == 200 and changed.json["max_per_client"] == 3
    shopper = guest(app, drop)
    assert add(shopper, drop, 3).status_code == 201
    refused = add(shopper, drop)
    assert refused.status_code == 409
    assert refused.json["message"] == "At most 3 of this piece per client."


@pytest.mark.slow
def test_socket_http_and_flash_offer_share_one_cap_on_a_real_node(
    database_url: str, tmp_path: Path, served_drop: Drop
) -> None:
    drop = served_drop
    room = {"session_id": drop.live_id}
    with WebServer(database_url, tmp_path) as server:
        host = RoomClient(server.url, staff_http(server.url, drop.host_email)).connect()
        http = guest_http(server.url, drop.live_id)
        viewer = RoomClient(server.url, http).connect()
        try:
            assert host.call("join", room)["ok"] and viewer.call("join", room)["ok"]
            offer = {**room, "product_id": drop.product_id, "price_minor": 9000}
            assert host.call("start_offer", {**offer, "quantity": 5, "seconds": 600})["ok"]
            item = {**room, "variant_id": drop.variant_id, "quantity": 1}
            first = viewer.call("add_to_bag", item)
            assert first["ok"], first
            assert first["bag"]["lines"][0]["unit_price_minor"] == 9000  # the offer's price
            http.headers["X-CSRFToken"] = csrf_token(http, server.url)
            over_http = http.post(
                f"{server.url}/api/bag/lines", json={"variant_id": drop.variant_id}, timeout=10
            )
            assert over_http.status_code == 201, over_http.text  # the same client, over HTTP
            third = viewer.call("add_to_bag", item)
            assert third == {
                "ok": False,
                "error": "limit_per_client",
                "message": CAP_MESSAGE,
                "details": {"variant_id": drop.variant_id, "max_per_client": 2, "held": 2},
            }
        finally:
            host.close()
            viewer.close()
    assert stock_of(database_url, drop.variant_id) == 8


async def _taps(base: str, live_id: int, variant_id: int, taps: int) -> list[int]:
    """One client (one cookie) taps add-to-bag `taps` times at the same moment."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        async with s.get(f"{base}/api/live-sessions/{live_id}") as r:
            assert r.status == 200
        async with s.get(f"{base}/login") as r:
            token = (await r.text()).split('name="csrf-token" content="')[1].split('"')[0]

        async def tap() -> int:
            body = {"variant_id": variant_id, "quantity": 1}
            async with s.post(
                f"{base}/api/bag/lines", json=body, headers={"X-CSRFToken": token}
            ) as r:
                payload = await r.json()
                assert r.status == 201 or payload["error"] == "limit_per_client", payload
                return r.status

        return list(await asyncio.gather(*(tap() for _ in range(taps))))


@pytest.mark.slow
def test_one_client_tapping_at_once_gets_only_the_cap(
    database_url: str, tmp_path: Path, served_drop: Drop
) -> None:
    with WebServer(database_url, tmp_path) as server:
        statuses = asyncio.run(_taps(server.url, served_drop.live_id, served_drop.variant_id, 8))
    assert statuses.count(201) == 2 and statuses.count(409) == 6
    assert stock_of(database_url, served_drop.variant_id) == 8


def test_the_brand_sets_its_cap_in_the_admin_settings_form(
    app: Flask, drop: Drop, factory: Factory
) -> None:
    brand = factory.session.get(Brand, drop.brand_id)
    assert brand is not None
    admin = factory.admin(brand)
    factory.session.commit()
    staff = app.test_client()
    login(staff, admin.email)
    page = staff.get("/admin/settings").get_data(as_text=True)
    assert 'name="max_per_client"' in page and 'value="2"' in page
    form = {
        "name": brand.name,
        "primary_color": brand.primary_color,
        "accent_color": brand.accent_color,
        "offline_message": brand.offline_message,
        "blocked_words": "",
        "checkout_url_template": "",
        "checkout_webhook_url": "",
        "bag_outside_live": "1",  # as the page shows it: this brand sells from product pages
    }
    bad = staff.post("/admin/settings", data={**form, "max_per_client": "0"})
    assert bad.status_code == 422 and 'id="e-max_per_client"' in bad.get_data(as_text=True)
    assert staff.post("/admin/settings", data={**form, "max_per_client": "1"}).status_code == 302
    shopper = guest(app, drop)
    assert add(shopper, drop).status_code == 201
    refused = add(shopper, drop)
    assert refused.status_code == 409
    assert refused.json["message"] == "At most 1 of this piece per client."
