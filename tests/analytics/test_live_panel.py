"""The host console's live panel: bag value and revenue so far, pushed to the hosts only."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask_socketio import SocketIOTestClient
from sqlmodel import Session, select

from sessions.models import CheckoutHandoff
from tests.analytics.conftest import SECRET, post_order
from tests.rooms.conftest import Room, guest, join, received
from web.templating import format_money


def test_hosts_see_bag_value_and_revenue_as_they_happen(
    app: Flask, room: Room, session: Session, connect: Callable[..., SocketIOTestClient]
) -> None:
    room.brand.webhook_secret = SECRET
    room.brand.checkout_url_template = "https://shop.example/cart?add={skus}"
    session.add(room.brand)
    session.commit()
    host = connect(room.host_user.email)
    join(host, room)
    shopper = guest(connect, app, room)
    join(shopper, room)
    ack = shopper.emit(
        "add_to_bag",
        {"session_id": room.id, "variant_id": room.variant.id, "quantity": 2},
        callback=True,
    )
    assert ack["ok"], ack
    figures = received(host, "live_figures")
    assert figures[-1]["add_value_minor"] == 2 * room.product.price_minor
    assert received(shopper, "live_figures") == []  # the host side only
    http = shopper.http  # type: ignore[attr-defined]
    assert http.post("/api/bag/checkout", json={"brand_id": room.brand.id}).status_code == 200
    handoff = session.exec(select(CheckoutHandoff)).one()
    session.commit()
    body = {
        "event": "order.created",
        "order_id": "SHOP-9",
        "handoff_id": handoff.id,
        "total_minor": 20000,
        "currency": room.brand.currency,
    }
    assert post_order(app.test_client(), room.brand.id, body).status_code == 201  # type: ignore[arg-type]
    assert received(host, "live_figures")[-1]["revenue_minor"] == 20000
    page = host.http.get(f"/console/shows/{room.show.id}")  # type: ignore[attr-defined]
    assert page.status_code == 200
    assert 'id="stat-revenue">' + format_money(20000, room.brand.currency) in page.text
