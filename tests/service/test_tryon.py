"""Try it on for me": routed to the store that holds the variant and is open (or the
next to open, with its time), the honest answer with the nearest variant when no store
holds it, and shelf edits beside bag reservations leaving the online stock alone."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from sessions.access import Actor, ActorKind
from sessions.bags import do_add_to_bag
from sessions.csv_import import do_import_catalogue, parse_catalogue_csv
from sessions.errors import Forbidden, InvalidInput, SoldOut
from sessions.events import Event
from sessions.i18n import unpack
from sessions.models import (
    AssociateProfile,
    AssociateStatus,
    StockReservation,
    ThreadMessage,
    ThreadSide,
    ThreadStatus,
    User,
    Variant,
)
from sessions.service import availability as av
from sessions.service import queue, threads, tryon
from sessions.service.hours import at_store, do_set_weekly_hours
from tests.booking.conftest import Team
from tests.conftest import login
from tests.factories import Factory
from tests.service.conftest import associate_actor, shopper_actor

NOW = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)  # Monday, 11:00 in Paris
AFTERNOON = [av.Span(d, time(14, 0), time(18, 0)) for d in range(7)]


def admin_actor(team: Team, factory: Factory) -> Actor:
    admin = factory.admin(team.brand)
    return Actor(kind=ActorKind.BRAND_ADMIN, name="Admin", user_id=admin.id, brand_id=team.brand.id)


def online(session: Session, *people: AssociateProfile) -> None:
    for person in people:
        queue.do_set_status(session, person, AssociateStatus.ONLINE, now=NOW)


def variant_of(
    factory: Factory, team: Team, sizes: tuple[str, ...] = ("S", "M", "L")
) -> list[Variant]:
    return factory.variants(factory.product(team.brand, sizes=sizes))


def test_stock_in_one_store_routes_the_request_there_with_the_shelf_in_the_thread(
    app: Flask, session: Session, team: Team, factory: Factory
) -> None:
    other = factory.store(team.brand, name="Lyon")
    ben = factory.associate(team.brand, other, name="Ben")
    assert other.id is not None
    do_set_weekly_hours(session, ben, at_store(other.id, [av.Span(0, time(8), time(20))]))
    online(session, team.anna, ben)
    _, medium, _ = variant_of(factory, team)
    assert medium.id is not None and other.id is not None
    tryon.do_set_store_stock(session, admin_actor(team, factory), medium.id, other.id, 2)
    with app.test_request_context():
        result = tryon.do_ask_tryon(
            session, shopper_actor(factory.shopper()), team.brand, variant_id=medium.id, now=NOW
        )
    assert result.route is not None and result.route.store.id == other.id
    assert result.route.is_open(NOW)
    assert result.asked is not None
    thread = result.asked.thread
    assert thread.store_id == other.id and thread.offered_to == ben.id  # not Anna (Paris)
    notes = session.exec(
        select(ThreadMessage).where(
            ThreadMessage.thread_id == thread.id, ThreadMessage.side == ThreadSide.SYSTEM
        )
    ).all()
    assert any("M / Black" in n.body and "Lyon: 2" in n.body for n in notes)
    asked = session.exec(
        select(ThreadMessage).where(
            ThreadMessage.thread_id == thread.id, ThreadMessage.side == ThreadSide.SHOPPER
        )
    ).one()
    assert asked.product_id == medium.product_id  # the product card: add to bag from it


def test_an_open_store_wins_over_a_closed_one_and_a_closed_one_says_when_it_opens(
    app: Flask, session: Session, team: Team, factory: Factory
) -> None:
    later = factory.store(team.brand, name="Nice")
    cleo = factory.associate(team.brand, later, name="Cleo")
    assert later.id is not None and team.store.id is not None
    do_set_weekly_hours(session, cleo, at_store(later.id, AFTERNOON))
    (variant,) = variant_of(factory, team, sizes=("M",))
    assert variant.id is not None
    admin = admin_actor(team, factory)
    tryon.do_set_store_stock(session, admin, variant.id, later.id, 5)
    tryon.do_set_store_stock(session, admin, variant.id, team.store.id, 1)
    route = tryon.route_for(session, variant, NOW)
    assert route is not None and route.store.id == team.store.id  # open now beats more stock
    tryon.do_set_store_stock(session, admin, variant.id, team.store.id, 0)
    route = tryon.route_for(session, variant, NOW)
    assert route is not None and route.store.id == later.id
    assert not route.is_open(NOW)
    assert route.opens_at == datetime(2026, 3, 30, 12, 0, tzinfo=UTC)  # 14:00 in Nice
    with app.test_request_context():
        result = tryon.do_ask_tryon(
            session, shopper_actor(factory.shopper()), team.brand, variant_id=variant.id, now=NOW
        )
    assert result.asked is not None and result.asked.thread.store_id == later.id
    assert result.asked.back_at is not None  # nobody there yet: the automatic answer says when


def test_none_in_stock_is_said_and_the_nearest_variant_is_offered(
    app: Flask, session: Session, team: Team, factory: Factory
) -> None:
    small, medium, large = variant_of(factory, team, sizes=("XS", "M", "L"))
    assert team.store.id is not None and large.id is not None and small.id is not None
    admin = admin_actor(team, factory)
    tryon.do_set_store_stock(session, admin, small.id, team.store.id, 3)
    tryon.do_set_store_stock(session, admin, large.id, team.store.id, 1)
    assert medium.id is not None
    with app.test_request_context():
        result = tryon.do_ask_tryon(
            session, shopper_actor(factory.shopper()), team.brand, variant_id=medium.id, now=NOW
        )
    assert result.route is None and result.asked is None
    assert result.nearest is not None and result.nearest.id == large.id  # L is one step, XS two
    # Only another colour in the same size on a shelf: that one is offered.
    product = factory.product(team.brand, sizes=("M",))
    (black,) = factory.variants(product)
    blue = Variant(
        product_id=black.product_id, brand_id=black.brand_id, sku="BLUE-M", size="M", colour="Blue"
    )
    session.add(blue)
    session.commit()
    assert blue.id is not None
    tryon.do_set_store_stock(session, admin, blue.id, team.store.id, 1)
    assert tryon.nearest_variant(session, black) == blue
    # Nothing anywhere: no route and nothing to offer.
    (alone,) = variant_of(factory, team, sizes=("M",))
    assert tryon.route_for(session, alone, NOW) is None
    assert tryon.nearest_variant(session, alone) is None


def test_only_a_shopper_asks_and_only_the_brand_admin_edits_the_shelf(
    app: Flask, session: Session, team: Team, factory: Factory
) -> None:
    (variant,) = variant_of(factory, team, sizes=("M",))
    assert variant.id is not None and team.store.id is not None
    with app.test_request_context():
        with pytest.raises(Forbidden):
            tryon.do_ask_tryon(
                session, associate_actor(team.anna), team.brand, variant_id=variant.id, now=NOW
            )
        with pytest.raises(Forbidden):
            tryon.do_set_store_stock(
                session, associate_actor(team.anna), variant.id, team.store.id, 3
            )
        with pytest.raises(InvalidInput):
            tryon.do_set_store_stock(
                session, admin_actor(team, factory), variant.id, team.store.id, -1
            )


def test_shelf_edits_and_try_on_requests_beside_the_bag_leave_the_online_stock_alone(
    app: Flask, engine: Engine, session: Session, team: Team, factory: Factory
) -> None:
    """Many shoppers reserve the last units online while the admin edits shelves and
    shoppers ask to try it on: the online stock is what the bag took, never below zero,
    and each reservation is one unit the stock lost."""
    online_stock = 5
    (variant,) = variant_of(factory, team, sizes=("M",))
    session.exec(select(Variant).where(col(Variant.id) == variant.id)).one().stock = online_stock
    session.commit()
    assert variant.id is not None and team.store.id is not None
    variant_id, store_id, brand = variant.id, team.store.id, team.brand
    admin = admin_actor(team, factory)
    online(session, team.anna)
    shoppers = [factory.shopper() for _ in range(12)]
    start = threading.Barrier(len(shoppers) + 4)
    outcomes: list[str] = []
    lock = threading.Lock()

    def buyer(index: int) -> None:
        with app.app_context(), Session(engine) as db:
            start.wait()
            try:
                do_add_to_bag(db, shopper_actor(shoppers[index]), variant_id=variant_id)
                result = "reserved"
            except SoldOut:
                result = "sold out"
            with lock:
                outcomes.append(result)

    def shelf(count: int) -> None:
        with app.test_request_context(), Session(engine) as db:
            start.wait()
            tryon.do_set_store_stock(db, admin, variant_id, store_id, count)
            tryon.do_ask_tryon(
                db, shopper_actor(shoppers[count]), brand, variant_id=variant_id, now=NOW
            )

    workers = [threading.Thread(target=buyer, args=(i,)) for i in range(len(shoppers))]
    workers += [threading.Thread(target=shelf, args=(n,)) for n in (1, 2, 3, 4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    session.expire_all()
    reserved = session.exec(
        select(func.coalesce(func.sum(StockReservation.quantity), 0)).where(
            StockReservation.variant_id == variant_id
        )
    ).one()
    left = session.exec(select(Variant.stock).where(col(Variant.id) == variant_id)).one()
    session.commit()
    assert outcomes.count("reserved") == online_stock == reserved
    assert outcomes.count("sold out") == len(shoppers) - online_stock
    assert left == 0  # the shelves (1 to 4 in the store) never fed the online stock
    assert tryon.shelf_of(session, variant_id)[store_id] in (1, 2, 3, 4)


def test_the_catalogue_csv_imports_shelf_stock_per_store_beside_the_online_stock(
    session: Session, team: Team, factory: Factory
) -> None:
    lyon = factory.store(team.brand, name="Lyon Bellecour")
    assert team.brand.id is not None and lyon.id is not None and team.store.id is not None
    text = (
        "product,sku,price,size,stock,store_stock\n"
        f"Trench,TR-M,1250.00,M,4,{team.store.name}=2; Lyon Bellecour=1\n"
        "Trench,TR-L,1250.00,L,0,lyon bellecour=3\n"
    )
    rows, errors = parse_catalogue_csv(text)
    assert errors == []
    do_import_catalogue(session, team.brand.id, rows)
    medium = session.exec(select(Variant).where(Variant.sku == "TR-M")).one()
    large = session.exec(select(Variant).where(Variant.sku == "TR-L")).one()
    assert medium.stock == 4 and large.stock == 0  # `stock` stays the online stock
    assert tryon.shelf_of(session, medium.id or 0) == {team.store.id: 2, lyon.id: 1}
    assert tryon.shelf_of(session, large.id or 0) == {lyon.id: 3}
    # A store the brand does not have, or a count that is not one: said per line, nothing written.
    rows, errors = parse_catalogue_csv(
        "product,sku,price,store_stock\nCoat,C-1,900,Berlin=2\nCoat,C-2,900,Lyon Bellecour=two\n"
    )
    assert [(e.line, e.column) for e in errors] == [(3, "store_stock")]
    with pytest.raises(InvalidInput, match="no store named 'berlin'"):
        do_import_catalogue(session, team.brand.id, rows)
    assert session.exec(select(Variant).where(Variant.sku == "C-1")).first() is None


def test_through_the_api_the_shopper_is_told_where_it_went_or_offered_the_nearest(
    app: Flask, client: FlaskClient, session: Session, team: Team, factory: Factory
) -> None:
    small, medium = variant_of(factory, team, sizes=("S", "M"))
    user = factory.admin(team.brand)
    admin = app.test_client()
    login(admin, user.email)
    put = admin.put(f"/api/variants/{small.id}/stores/{team.store.id}/stock", json={"quantity": 2})
    assert put.status_code == 200 and put.json == {
        "variant_id": small.id,
        "store_id": team.store.id,
        "quantity": 2,
    }
    bad = admin.put(f"/api/variants/{small.id}/stores/{team.store.id}/stock", json={"quantity": -1})
    assert bad.status_code == 422
    online(session, team.anna)
    none = client.post(f"/api/brands/{team.brand.id}/tryon", json={"variant_id": medium.id})
    assert none.status_code == 201, none.json
    assert none.json["routed"] is False and none.json["thread"] is None
    assert none.json["nearest"] == {"variant_id": small.id, "label": "S / Black"}
    assert "S / Black is in a store" in none.json["message"]
    sent = client.post(f"/api/brands/{team.brand.id}/tryon", json={"variant_id": small.id})
    assert sent.status_code == 201, sent.json
    assert sent.json["routed"] is True and sent.json["store_name"] == team.store.name
    assert sent.json["thread"]["store_id"] == team.store.id
    assert sent.json["message"].startswith(f"Sent to {team.store.name}")
    fr = client.post(
        f"/api/brands/{team.brand.id}/tryon",
        json={"variant_id": medium.id},
        headers={"Accept-Language": "fr"},
    )
    assert fr.status_code == 201
    assert fr.json["message"] == (
        "Aucune boutique n’a cette taille et ce coloris pour le moment ; S / Black est en boutique."
    )


def test_the_admin_product_page_edits_the_shelf_of_each_boutique(
    app: Flask, session: Session, team: Team, factory: Factory
) -> None:
    """The product page's shelf table: whole numbers kept per variant and boutique; a bad one
    is a 422 naming the field and keeps nothing; the online stock never moves."""
    lyon = factory.store(team.brand, name="Lyon")
    product = factory.product(team.brand, sizes=("S", "M"), stock=5)
    small, medium = factory.variants(product)
    admin = factory.admin(team.brand)
    ids = (product.id, small.id, medium.id, team.store.id, lyon.id)
    session.commit()
    product_id, small_id, medium_id, paris_id, lyon_id = ids
    client = app.test_client()
    login(client, admin.email)
    page = client.get(f"/admin/products/{product_id}")
    assert page.status_code == 200 and "Shelf stock per boutique" in page.get_data(as_text=True)
    url = f"/admin/products/{product_id}/shelves"
    values = {
        f"shelf_v{small_id}_s{paris_id}": "0",
        f"shelf_v{small_id}_s{lyon_id}": "4",
        f"shelf_v{medium_id}_s{paris_id}": "2",
        f"shelf_v{medium_id}_s{lyon_id}": "lots",
    }
    refused = client.post(url, data=values)
    assert refused.status_code == 422
    assert "whole number" in refused.get_data(as_text=True)
    assert tryon.shelf_of(session, small_id) == {}
    session.commit()
    values[f"shelf_v{medium_id}_s{lyon_id}"] = "1"
    assert client.post(url, data=values).status_code == 302
    assert tryon.shelf_of(session, small_id).get(lyon_id) == 4
    assert tryon.shelf_of(session, medium_id) == {paris_id: 2, lyon_id: 1}
    assert [session.get(Variant, v).stock for v in (small_id, medium_id)] == [5, 5]
    session.commit()


def test_an_open_thread_at_a_store_without_the_piece_moves_to_the_store_that_has_it(
    app: Flask, session: Session, team: Team, factory: Factory, events: list[Event]
) -> None:
    """A shopper already chatting with Anna (Paris) asks for a try-on of what only Lyon has:
    the thread leaves Anna for Lyon's associates (she is told it was withdrawn); asked for
    what Paris has, a thread Anna holds stays hers (the piece is at hand)."""
    lyon = factory.store(team.brand, name="Lyon")
    ben = factory.associate(team.brand, lyon, name="Ben")
    assert lyon.id is not None and team.store.id is not None
    do_set_weekly_hours(session, ben, at_store(lyon.id, [av.Span(0, time(8), time(20))]))
    online(session, team.anna, ben)
    in_lyon, in_paris = variant_of(factory, team, sizes=("S", "M"))
    assert in_lyon.id is not None and in_paris.id is not None
    admin = admin_actor(team, factory)
    tryon.do_set_store_stock(session, admin, in_lyon.id, lyon.id, 1)
    tryon.do_set_store_stock(session, admin, in_paris.id, team.store.id, 3)
    shopper = shopper_actor(factory.shopper())
    with app.test_request_context():
        asked = threads.do_ask(
            session, shopper, team.brand, body="Hello", store_id=team.store.id, now=NOW
        )
        thread = asked.thread
        assert thread.offered_to == team.anna.id
        threads.do_accept_thread(session, associate_actor(team.anna), thread, now=NOW)
        assert thread.associate_id == team.anna.id

        # What Paris has: Anna keeps it.
        kept = tryon.do_ask_tryon(session, shopper, team.brand, variant_id=in_paris.id, now=NOW)
        assert kept.asked is not None and kept.asked.thread.associate_id == team.anna.id
        assert kept.asked.thread.status is ThreadStatus.ASSIGNED

        # What only Lyon has: it moves to Lyon and is offered to Ben.
        events.clear()
        moved = tryon.do_ask_tryon(session, shopper, team.brand, variant_id=in_lyon.id, now=NOW)
    assert moved.route is not None and moved.route.store.id == lyon.id
    assert moved.asked is not None
    thread = moved.asked.thread
    assert thread.id == kept.asked.thread.id  # the same one thread, moved
    assert thread.store_id == lyon.id and thread.associate_id is None
    assert thread.offered_to == ben.id
    withdrawn = [e for e in events if e.kind == "thread_offer_withdrawn"]
    assert [e.audience for e in withdrawn] == [f"associate:{team.anna.id}"]
    notes = [
        dict(zip(("msgid", "params"), unpack(m.note), strict=True))
        for m in session.exec(
            select(ThreadMessage)
            .where(ThreadMessage.thread_id == thread.id, ThreadMessage.side == ThreadSide.SYSTEM)
            .order_by(col(ThreadMessage.id))
        ).all()
        if m.note
    ]
    assert {"msgid": threads.MOVED_NOTE, "params": {"store": "Lyon"}} in notes
    assert (
        notes[-1]["msgid"].startswith("Try-on request") and notes[-1]["params"]["store"] == "Lyon"
    )


def test_the_try_on_note_is_worded_in_each_readers_language(
    app: Flask, session: Session, team: Team, factory: Factory
) -> None:
    """The note is stored as its kind and figures, not in the shopper's words: the
    associate's console (staff language French) words it in French, the Chinese-speaking
    shopper's page in Chinese, from the same message."""
    (variant,) = variant_of(factory, team, sizes=("M",))
    assert variant.id is not None and team.store.id is not None
    tryon.do_set_store_stock(session, admin_actor(team, factory), variant.id, team.store.id, 2)
    online(session, team.anna)
    with app.test_request_context(headers={"Accept-Language": "zh-Hans"}):
        result = tryon.do_ask_tryon(
            session,
            shopper_actor(factory.shopper()),
            team.brand,
            variant_id=variant.id,
            language="zh_Hans",
            now=NOW,
        )
    assert result.asked is not None
    note = session.exec(
        select(ThreadMessage).where(
            ThreadMessage.thread_id == result.asked.thread.id,
            ThreadMessage.side == ThreadSide.SYSTEM,
        )
    ).one()
    msgid, params = unpack(note.note)
    assert msgid.startswith("Try-on request:")
    assert params == {
        "product": params["product"],
        "variant": "M / Black",
        "sku": variant.sku,
        "store": team.store.name,
        "n": 2,
    }
    assert note.body.startswith("Try-on request:")  # English in the row, for exports
    assert threads.message_out(note, "zh_Hans")["body"] != note.body  # the shopper's words
    user = session.get(User, team.anna.user_id)
    assert user is not None
    user.language = "fr"
    session.add(user)
    session.commit()
    console = app.test_client()
    login(console, user.email)
    # The console reads the thread from the API, in the staff member's language.
    seen = console.get(f"/api/threads/{result.asked.thread.id}").get_json()
    worded = [m["body"] for m in seen["messages"] if m["side"] == "system"]
    assert any(w.startswith("Demande d") for w in worded), worded
