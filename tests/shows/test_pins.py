"""Pins in a live show: at most three at once (a 4th is a 409), one marked "showing now",
a product added live from the catalogue, all pushed to the room; the pin's time and price
are kept for the replay's product timeline (sessions/shows/replay.py)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask_socketio import SocketIOTestClient
from sqlmodel import col, select

from sessions.models import AnalyticsEvent, PinnedProduct, ShowStatus
from tests.rooms.conftest import connect, received  # noqa: F401  (the fixture, reused)
from tests.shows.conftest import Cast
from tests.shows.test_push import room_of, viewer

Connect = Callable[..., SocketIOTestClient]


def test_three_pins_one_showing_now_pushed_and_a_fourth_refused(
    cast: Cast,
    app: Flask,
    connect: Connect,  # noqa: F811
) -> None:
    show = cast.show_in(ShowStatus.LIVE)
    live_id = room_of(cast, show)
    products = [cast.factory.product(cast.brand, name=f"Piece {n}") for n in range(4)]
    cast.session.commit()
    watching = viewer(connect, app, live_id)
    host = cast.client(app, "host")
    url = f"/api/live-sessions/{live_id}"

    for product in products[:3]:  # not in the show's list: added live, from the catalogue
        answer = host.post(f"{url}/pins", json={"product_id": product.id})
        assert answer.status_code == 201, answer.get_json()
    pushed = received(watching, "pins")
    assert len(pushed) == 3
    assert [c["id"] for c in pushed[-1]["pinned"]] == [p.id for p in reversed(products[:3])]

    fourth = host.post(f"{url}/pins", json={"product_id": products[3].id})
    assert fourth.status_code == 409
    assert "at most 3" in fourth.get_json()["message"]
    assert received(watching, "pins") == []  # nothing changed, nothing pushed

    # "Showing now": one at a time, put first for every viewer.
    marked = host.post(f"{url}/showing", json={"product_id": products[0].id})
    assert marked.status_code == 200
    first = marked.get_json()["pinned"][0]
    assert (first["id"], first["showing"]) == (products[0].id, True)
    assert [c["showing"] for c in marked.get_json()["pinned"]] == [True, False, False]
    assert received(watching, "pins")[-1]["pinned"][0]["showing"] is True
    moved = host.post(f"{url}/showing", json={"product_id": products[1].id}).get_json()
    assert [(c["id"], c["showing"]) for c in moved["pinned"] if c["showing"]] == [
        (products[1].id, True)
    ]
    # Only a pinned product can be showing now; null clears the mark.
    refused = host.post(f"{url}/showing", json={"product_id": products[3].id})
    assert refused.status_code == 409
    cleared = host.post(f"{url}/showing", json={"product_id": None}).get_json()
    assert not any(c["showing"] for c in cleared["pinned"])

    # Unpinning makes room for the fourth, over the API as over the socket.
    assert host.delete(f"{url}/pins/{products[2].id}").status_code == 200
    assert host.post(f"{url}/pins", json={"product_id": products[3].id}).status_code == 201
    console = connect(cast.emails["host"])
    console.emit("join", {"session_id": live_id}, callback=True)
    ack = console.emit(
        "show_now", {"session_id": live_id, "product_id": products[3].id}, callback=True
    )
    assert ack["ok"] and ack["pinned"][0]["id"] == products[3].id

    # Kept for the replay: each pin's time and the price it had; "showing now" in analytics.
    rows = cast.session.exec(
        select(PinnedProduct).where(PinnedProduct.live_session_id == live_id)
    ).all()
    assert {r.product_id: r.price_minor for r in rows} == {p.id: p.price_minor for p in products}
    marks = cast.session.exec(
        select(AnalyticsEvent.product_id)
        .where(AnalyticsEvent.live_session_id == live_id, AnalyticsEvent.kind == "showing")
        .order_by(col(AnalyticsEvent.id))
    ).all()
    cast.session.commit()  # end the read (SQLite would keep its lock)
    assert marks == [products[0].id, products[1].id, None, products[3].id]


def test_a_shopper_and_a_colleague_of_another_brand_may_not_pin(cast: Cast, app: Flask) -> None:
    show = cast.show_in(ShowStatus.LIVE)
    live_id = room_of(cast, show)
    product = cast.factory.product(cast.brand)
    cast.session.commit()
    body = {"product_id": product.id}
    shopper = cast.client(app, "shopper")
    assert shopper.post(f"/api/live-sessions/{live_id}/pins", json=body).status_code == 401
    other = cast.client(app, "other_admin")
    assert other.post(f"/api/live-sessions/{live_id}/pins", json=body).status_code == 403
    # A colleague of the brand works the show's room (docs/shows.md): pins are theirs too.
    colleague = cast.client(app, "colleague")
    assert colleague.post(f"/api/live-sessions/{live_id}/pins", json=body).status_code == 201
    assert (
        colleague.post(f"/api/live-sessions/{live_id}/pins", json={"product_id": "x"}).status_code
        == 422
    )
