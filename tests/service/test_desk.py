"""The associate's other tools in a thread: the product card both sides draw, whom a
thread may be handed to (present colleagues with their load, stores), and the shopper's
history at the brand (read-only, for the brand's staff, nothing from another brand)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from sessions.access import Actor, ActorKind
from sessions.analytics import events as analytics_events
from sessions.errors import Forbidden, NotAuthenticated, NotFound
from sessions.models import (
    Appointment,
    AssociateStatus,
    Bag,
    BagLine,
    LiveSession,
    Order,
    SessionKind,
    Thread,
    ThreadStatus,
)
from sessions.service import desk, queue, threads
from tests.booking.conftest import Team
from tests.factories import Factory
from tests.service.conftest import associate_actor, shopper_actor

NOW = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)


def held_thread(session: Session, team: Team, factory: Factory, **shopper: object) -> Thread:
    queue.do_set_status(session, team.anna, AssociateStatus.ONLINE, now=NOW)
    camille = shopper_actor(factory.shopper(**shopper))
    asked = threads.do_ask(session, camille, team.brand, body="Is it sky blue?", now=NOW)
    return threads.do_accept_thread(session, associate_actor(team.anna), asked.thread, now=NOW)


def test_a_product_card_shows_photo_name_price_stock_and_its_page(
    session: Session, team: Team, factory: Factory
) -> None:
    product = factory.product(team.brand, name="Petite Lune", stock=2, image_path="p/lune.jpg")
    guest = shopper_actor(factory.shopper())
    card = desk.product_card(session, guest, product.id or 0)
    assert card["name"] == "Petite Lune" and card["price_minor"] == 12000
    assert card["image_url"] == "/uploads/p/lune.jpg"
    assert card["url"] == f"/b/{team.brand.slug}/products/{product.id}"
    assert (card["stock"], card["stock_state"]) == (2, "low")
    assert [desk.stock_state(n) for n in (0, 3, 4)] == ["out", "low", "in"]

    product.is_active = False
    session.add(product)
    session.commit()
    with pytest.raises(NotFound):  # hidden from shoppers...
        desk.product_card(session, guest, product.id or 0)
    # ...not from its brand's staff
    assert desk.product_card(session, associate_actor(team.anna), product.id or 0)["id"]


def test_transfer_lists_colleagues_present_with_their_load_and_the_stores(
    session: Session, team: Team, factory: Factory
) -> None:
    thread = held_thread(session, team, factory)
    bea = factory.associate(team.brand, team.store, name="Bea")
    carl = factory.associate(team.brand, team.store, name="Carl")
    carl.max_parallel_chats = 1
    session.add(carl)
    session.commit()
    absent = factory.associate(team.brand, team.store, name="Dora")
    for profile in (bea, carl):
        queue.do_set_status(session, profile, AssociateStatus.ONLINE, now=NOW)
    # Carl holds a conversation already: his one place is taken.
    session.add(
        Thread(
            brand_id=thread.brand_id,
            shopper_id=factory.shopper().id or 0,
            status=ThreadStatus.ASSIGNED,
            associate_id=carl.id,
        )
    )
    session.commit()
    lyon = factory.store(team.brand, name="Lyon", city="Lyon")

    options = desk.transfer_options(session, associate_actor(team.anna), thread, now=NOW)
    names = [(c["name"], c["load"], c["cap"], c["has_room"]) for c in options["colleagues"]]
    assert names == [("Bea", 0, 3, True), ("Carl", 1, 1, False)]  # free first; no Anna, no Dora
    assert absent.id not in {c["id"] for c in options["colleagues"]}
    assert {s["name"] for s in options["stores"]} == {team.store.name, "Lyon"}
    assert lyon.id is not None

    # Only who may transfer it asks.
    with pytest.raises(Forbidden):
        desk.transfer_options(session, associate_actor(bea), thread, now=NOW)


def test_the_shoppers_history_at_the_brand_and_nowhere_else(
    session: Session, team: Team, factory: Factory
) -> None:
    lune = factory.product(team.brand, name="Petite Lune", sizes=("S", "M"))
    thread = held_thread(session, team, factory, name="Camille")
    anna = associate_actor(team.anna)
    threads.do_send_thread_message(session, anna, thread, body="It is.", now=NOW)
    threads.do_send_thread_message(session, anna, thread, product_id=lune.id, now=NOW)
    shopper_id = thread.shopper_id
    starts = NOW - timedelta(days=7)
    appointment = Appointment(
        brand_id=thread.brand_id,
        associate_id=team.anna.id or 0,
        store_id=team.store.id or 0,
        shopper_id=shopper_id,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=30),
        shopper_name="Camille",
        shopper_email="c@example.com",
        notes="Looking for a wedding outfit",
    )
    session.add(appointment)
    session.commit()
    call = LiveSession(
        brand_id=thread.brand_id,
        kind=SessionKind.CONSULTATION,
        appointment_id=appointment.id,
        shopper_id=shopper_id,
        associate_id=team.anna.id,
        room="consult-history-1",
        started_at=starts,
        ended_at=starts + timedelta(minutes=25),
    )
    bag = Bag(brand_id=thread.brand_id, shopper_id=shopper_id)
    session.add_all([call, bag])
    session.commit()
    variant = factory.variants(lune)[1]
    session.add(
        BagLine(
            bag_id=bag.id or 0,
            variant_id=variant.id or 0,
            quantity=2,
            unit_price_minor=12000,
            currency="EUR",
        )
    )
    session.add(
        Order(
            brand_id=thread.brand_id,
            external_id="o-1",
            bag_id=bag.id or 0,
            shopper_id=shopper_id,
            total_minor=45000,
            currency="EUR",
        )
    )
    show = factory.show(team.brand, title="Silk", product_ids=[lune.id])
    live = factory.live_session(show)
    session.add(
        analytics_events.event_for(live, analytics_events.JOIN, shopper_id=shopper_id, view_id="v1")
    )
    # The same shopper at another brand: none of it shows here.
    other = factory.brand()
    other_store = factory.store(other)
    session.add(Bag(brand_id=other.id or 0, shopper_id=shopper_id))
    session.add(
        Order(
            brand_id=other.id or 0,
            external_id="o-x",
            bag_id=bag.id or 0,
            shopper_id=shopper_id,
            total_minor=1,
            currency="EUR",
        )
    )
    session.commit()
    assert other_store.id is not None

    h = desk.shopper_history(session, anna, thread)
    assert h["shopper"]["name"] == "Camille"
    assert h["product"] == {"id": lune.id, "name": "Petite Lune"}
    assert (h["thread"]["questions"], h["thread"]["answers"]) == (1, 2)
    assert h["thread"]["answered_by"] == ["Anna"]
    assert [q["body"] for q in h["recent_questions"]] == ["Is it sky blue?"]
    assert [(a["status"], a["associate"], a["notes"]) for a in h["appointments"]] == [
        ("booked", "Anna", "Looking for a wedding outfit")
    ]
    assert [(c["associate"], c["booked"]) for c in h["video_calls"]] == [("Anna", True)]
    assert h["bag"]["count"] == 2 and h["bag"]["total_minor"] == 24000
    assert [(line["name"], line["size"]) for line in h["bag"]["lines"]] == [("Petite Lune", "M")]
    assert [o["total_minor"] for o in h["orders"]] == [45000]
    assert [s["title"] for s in h["shows_watched"]] == ["Silk"]

    # A colleague reads it too (the brand's staff), not the bag and orders (as for a
    # consultation: the associate in the 1:1 and the admins); the brand's admin does.
    bea = associate_actor(factory.associate(team.brand, team.store, name="Bea"))
    seen_by_bea = desk.shopper_history(session, bea, thread)
    assert seen_by_bea["appointments"] == h["appointments"]
    assert seen_by_bea["bag"] is None and seen_by_bea["orders"] is None
    admin = factory.admin(team.brand)
    boss = Actor(kind=ActorKind.BRAND_ADMIN, name="I", user_id=admin.id, brand_id=team.brand.id)
    assert desk.shopper_history(session, boss, thread)["bag"] == h["bag"]
    with pytest.raises(NotAuthenticated):
        desk.shopper_history(session, shopper_actor(factory.shopper()), thread)
    stranger = Actor(kind=ActorKind.BRAND_ADMIN, name="O", user_id=1, brand_id=other.id)
    with pytest.raises(Forbidden):
        desk.shopper_history(session, stranger, thread)


def test_a_shopper_without_anything_yet_has_an_empty_history(
    session: Session, team: Team, factory: Factory
) -> None:
    thread = held_thread(session, team, factory)
    h = desk.shopper_history(session, associate_actor(team.anna), thread)
    assert h["shopper"]["name"] is None and h["product"] is None
    assert h["appointments"] == h["video_calls"] == h["orders"] == h["shows_watched"] == []
    assert h["bag"] == {"count": 0, "total_minor": 0, "currency": team.brand.currency, "lines": []}
