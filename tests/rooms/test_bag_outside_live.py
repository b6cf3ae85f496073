"""``Brand.bag_outside_live`` is enforced by the server, not only by the product page
hiding its button: an add to the bag outside any show, replay or consultation is refused
(403 ``bag_outside_live``, in words, writing nothing) at a brand that sells only in its
sessions, and allowed at one that sells from its product pages; an add in a live show
works either way. On SQLite, and on PostgreSQL with TEST_DATABASE_URL."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.engine import Engine
from sqlmodel import Session

from sessions import bags
from sessions.access import Actor, ActorKind
from sessions.errors import Forbidden
from tests.rooms.conftest import Room
from tests.security.consultation_world import changed_tables, snapshot


def close_the_shop(session: Session, room: Room) -> None:
    room.brand.bag_outside_live = False
    session.add(room.brand)
    session.commit()


def test_a_product_page_add_is_refused_when_the_brand_sells_only_live(
    app: Flask, room: Room, session: Session, engine: Engine
) -> None:
    close_the_shop(session, room)
    http = app.test_client()
    http.get("/")  # a guest with a cookie, no shopper row yet
    before = snapshot(engine)
    refused = http.post("/api/bag/lines", json={"variant_id": room.variant.id})
    assert refused.status_code == 403
    assert refused.json["error"] == "bag_outside_live"
    assert "live shows, replays and consultations only" in refused.json["message"]
    assert room.brand.name in refused.json["message"]
    assert changed_tables(before, snapshot(engine)) == [], "a refused add wrote rows"
    # In French, the same refusal in French.
    french = http.post(
        "/api/bag/lines",
        json={"variant_id": room.variant.id},
        headers={"Accept-Language": "fr"},
    )
    assert french.status_code == 403 and "uniquement" in french.json["message"]

    # The same piece in the brand's live show: sold.
    in_show = http.post(
        "/api/bag/lines", json={"variant_id": room.variant.id, "live_session_id": room.id}
    )
    assert in_show.status_code == 201, in_show.json
    assert in_show.json["bag"]["count"] == 1


def test_a_product_page_add_works_when_the_brand_allows_it(app: Flask, room: Room) -> None:
    assert room.brand.bag_outside_live
    http = app.test_client()
    added = http.post("/api/bag/lines", json={"variant_id": room.variant.id})
    assert added.status_code == 201, added.json
    assert added.json["bag"]["count"] == 1


def test_the_domain_refuses_too(room: Room, session: Session, factory) -> None:  # type: ignore[no-untyped-def]
    """Whatever the caller (API, socket, a script), ``do_add_to_bag`` asks the gate."""
    close_the_shop(session, room)
    shopper = factory.shopper()
    actor = Actor(kind=ActorKind.SHOPPER, shopper_id=shopper.id)
    try:
        bags.do_add_to_bag(session, actor, variant_id=room.variant.id)
    except Forbidden as refused:
        assert refused.code == "bag_outside_live"
    else:
        raise AssertionError("the add outside a session was not refused")
    session.rollback()
    added = bags.do_add_to_bag(session, actor, variant_id=room.variant.id, live=room.live)
    assert added.bag["count"] == 1
