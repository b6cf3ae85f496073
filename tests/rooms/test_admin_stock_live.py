"""A stock change made in the brand admin reaches the viewers of a live show: the show's
room gets a pushed ``stock`` event (a real web node, a real Socket.IO client as a viewer)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session

from sessions import catalogue as cat
from sessions.db import create_all, make_engine
from sessions.events import Event
from sessions.models import PinnedProduct, ShowProduct
from sessions.shows.lifecycle import do_end_show, do_start_show
from tests.factories import OPERATOR, Factory
from tests.rooms.live_clients import RoomClient, guest_http, staff_http
from tests.servers import WebServer


def test_the_rooms_told_are_those_showing_the_product(
    session: Session, factory: Factory, events: list[Event]
) -> None:
    brand = factory.brand()
    scarf, bag, belt = (factory.product(brand, stock=3) for _ in range(3))
    listing = factory.show(brand, product_ids=[scarf.id])
    pinning = factory.show(brand)
    quiet = factory.show(brand, product_ids=[belt.id])  # scheduled, not live
    listed = do_start_show(session, OPERATOR, listing)
    pinned = do_start_show(session, OPERATOR, pinning)
    session.add(PinnedProduct(live_session_id=pinned.id or 0, product_id=bag.id or 0))
    session.commit()
    assert quiet.id is not None

    assert cat.live_rooms_showing(session, brand.id or 0, scarf.id or 0) == [listed.room]
    assert cat.live_rooms_showing(session, brand.id or 0, bag.id or 0) == [pinned.room]
    assert cat.live_rooms_showing(session, brand.id or 0, belt.id or 0) == []

    variant = factory.variants(scarf)[0]
    cat.do_set_stock(session, variant, 1)
    told = [(e.room, e.audience, e.data) for e in events if e.kind == "stock"]
    assert (
        listed.room,
        "room",
        {"product_id": scarf.id, "variant_id": variant.id, "stock": 1, "product_stock": 1},
    ) in told
    assert (None, f"brand:{brand.id}") in [(room, audience) for room, audience, _ in told]
    assert pinned.room not in [room for room, _, _ in told]

    do_end_show(session, OPERATOR, listing)  # an ended show's room hears nothing more
    events.clear()
    cat.do_set_stock(session, variant, 0)
    assert [e.room for e in events if e.kind == "stock"] == [None]


@pytest.mark.slow
def test_an_admin_stock_change_is_pushed_to_a_live_shows_viewer(
    database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        factory = Factory(session)
        brand = factory.brand()
        admin_email = factory.admin(brand).email
        scarf = factory.product(brand, stock=4, sizes=("S", "M"), name="Carré")
        small, medium = factory.variants(scarf)
        show = factory.show(brand, title="Silk, live")
        session.add(ShowProduct(show_id=show.id or 0, product_id=scarf.id or 0))
        session.commit()
        live = do_start_show(session, OPERATOR, show)
        live_id, product_id = live.id or 0, scarf.id or 0
        fields = {
            "name": scarf.name,
            "price": f"{scarf.price_minor / 100:.2f}",
            "category": scarf.category,
            "description": scarf.description,
            "is_active": "1",
            f"stock_v{small.id}": "4",
            f"stock_v{medium.id}": "1",  # the admin counts the shelf again: 1 left in M
        }
    engine.dispose()

    with WebServer(database_url, tmp_path) as server:
        base = server.url
        viewer = RoomClient(base, guest_http(base, live_id))
        viewer.connect()
        try:
            joined = viewer.call("join", {"session_id": live_id})
            assert joined["ok"] and joined["role"] == "viewer", joined
            admin = staff_http(base, admin_email)
            fields["csrf_token"] = admin.headers["X-CSRFToken"]
            saved = admin.post(
                f"{base}/admin/products/{product_id}",
                data=fields,
                allow_redirects=False,
                timeout=10,
            )
            assert saved.status_code == 302, saved.text[:500]
            stock = viewer.wait_for("stock", lambda d: d["product_id"] == product_id, timeout=20)
            assert stock == {
                "product_id": product_id,
                "variant_id": medium.id,
                "stock": 1,
                "product_stock": 5,
            }
        finally:
            viewer.close()
