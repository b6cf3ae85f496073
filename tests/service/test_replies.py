"""Saved replies: the brand's (its admin) and each associate's own, who may make, change
and use which, and their placeholders filled from the thread — or refused, never sent
as "{size}"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from sessions.access import Actor, ActorKind
from sessions.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated
from sessions.models import (
    Appointment,
    AssociateStatus,
    Bag,
    BagLine,
    SavedReply,
    Thread,
)
from sessions.service import queue, replies, threads
from tests.booking.conftest import Team
from tests.factories import Factory
from tests.service.conftest import associate_actor, shopper_actor

NOW = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)  # a Monday, 11:00 in Paris


def admin_actor(factory: Factory, team: Team) -> Actor:
    user = factory.admin(team.brand)
    return Actor(kind=ActorKind.BRAND_ADMIN, name="Iris", user_id=user.id, brand_id=team.brand.id)


def held_thread(session: Session, team: Team, factory: Factory, **shopper: object) -> Thread:
    """A shopper's question Anna has taken."""
    queue.do_set_status(session, team.anna, AssociateStatus.ONLINE, now=NOW)
    camille = shopper_actor(factory.shopper(**shopper))
    asked = threads.do_ask(session, camille, team.brand, body="Hello?", now=NOW)
    return threads.do_accept_thread(session, associate_actor(team.anna), asked.thread, now=NOW)


# --- who makes, changes and uses which -----------------------------------------------------


def test_the_admin_makes_the_brands_replies_and_an_associate_their_own(
    session: Session, team: Team, factory: Factory
) -> None:
    assert team.brand.id is not None
    admin, anna = admin_actor(factory, team), associate_actor(team.anna)
    bea = associate_actor(factory.associate(team.brand, team.store, name="Bea"))
    brand_reply = replies.do_create_reply(
        session, admin, team.brand.id, title="Welcome", body="Hello {shopper}.", scope="brand"
    )
    assert brand_reply.associate_id is None
    with pytest.raises(Forbidden):  # an associate does not write for the whole team
        replies.do_create_reply(session, anna, team.brand.id, title="X", body="Y", scope="brand")
    own = replies.do_create_reply(
        session, anna, team.brand.id, title="Mine", body="Anna here.", scope="mine"
    )
    assert own.associate_id == team.anna.id
    with pytest.raises(Forbidden):  # the admin has no profile: nothing of their own
        replies.do_create_reply(session, admin, team.brand.id, title="X", body="Y", scope="mine")

    # Each associate uses the brand's and their own, never a colleague's own.
    assert [r.title for r in replies.replies_for(session, anna, team.brand.id)] == [
        "Mine",
        "Welcome",
    ]
    assert [r.title for r in replies.replies_for(session, bea, team.brand.id)] == ["Welcome"]

    # Changing: the brand's by its admin; one's own by oneself (and the admin may remove it).
    with pytest.raises(Forbidden):
        replies.do_update_reply(session, anna, brand_reply, body="Changed")
    with pytest.raises(Forbidden):
        replies.do_update_reply(session, bea, own, body="Changed")
    with pytest.raises(Forbidden):
        replies.do_delete_reply(session, bea, own)
    replies.do_update_reply(session, anna, own, title="Mine, better", body="Anna, here.")
    replies.do_update_reply(session, admin, brand_reply, body="Welcome, {shopper}.")
    assert (own.title, brand_reply.body) == ("Mine, better", "Welcome, {shopper}.")
    replies.do_delete_reply(session, admin, own)
    assert session.get(SavedReply, own.id) is None


def test_another_brand_sees_and_touches_nothing(
    session: Session, team: Team, factory: Factory
) -> None:
    assert team.brand.id is not None
    reply = replies.do_create_reply(
        session, admin_actor(factory, team), team.brand.id, title="W", body="Hi", scope="brand"
    )
    other = factory.brand()
    stranger = associate_actor(factory.associate(other))
    other_admin = Actor(kind=ActorKind.BRAND_ADMIN, name="O", user_id=999, brand_id=other.id)
    with pytest.raises(Forbidden):
        replies.replies_for(session, stranger, team.brand.id)
    for actor in (stranger, other_admin):
        with pytest.raises(Forbidden):
            replies.do_update_reply(session, actor, reply, body="Mine now")
        with pytest.raises(Forbidden):
            replies.do_delete_reply(session, actor, reply)
    thread = held_thread(session, team, factory)
    with pytest.raises(Forbidden):
        replies.replies_in_thread(session, stranger, thread)
    with pytest.raises(NotAuthenticated):  # a shopper fills nothing
        replies.context_of(session, shopper_actor(factory.shopper()), thread)


def test_a_template_uses_known_placeholders_only(
    session: Session, team: Team, factory: Factory
) -> None:
    assert team.brand.id is not None
    anna = associate_actor(team.anna)
    with pytest.raises(InvalidInput) as bad:
        replies.do_create_reply(
            session, anna, team.brand.id, title="C", body="In {colour}?", scope="mine"
        )
    assert "{colour} is not a placeholder" in bad.value.message
    for title, body in (("", "Text"), ("T", "   "), ("x" * 81, "Text"), ("T", "y" * 2001)):
        with pytest.raises(InvalidInput):
            replies.do_create_reply(
                session, anna, team.brand.id, title=title, body=body, scope="mine"
            )
    with pytest.raises(InvalidInput):
        replies.do_create_reply(session, anna, team.brand.id, title="T", body="B", scope="all")


def test_an_associate_keeps_a_bounded_number(
    session: Session, team: Team, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert team.brand.id is not None
    monkeypatch.setattr(replies, "MAX_REPLIES", 2)
    anna = associate_actor(team.anna)
    for n in range(2):
        replies.do_create_reply(session, anna, team.brand.id, title=f"R{n}", body="B", scope="mine")
    with pytest.raises(Conflict):
        replies.do_create_reply(session, anna, team.brand.id, title="R3", body="B", scope="mine")
    # The brand's count is its own.
    replies.do_create_reply(
        session, admin_actor(factory, team), team.brand.id, title="B", body="B", scope="brand"
    )


# --- filling ------------------------------------------------------------------------------


def test_every_placeholder_is_filled_from_the_thread(
    session: Session, team: Team, factory: Factory
) -> None:
    product = factory.product(team.brand, name="Petite Lune", sizes=("S", "M"))
    thread = held_thread(session, team, factory, name="Camille")
    anna = associate_actor(team.anna)
    threads.do_send_thread_message(session, anna, thread, product_id=product.id, now=NOW)
    # Camille has the Petite Lune in M in her bag.
    variant = next(v for v in factory.variants(product) if v.size == "M")
    bag = Bag(brand_id=thread.brand_id, shopper_id=thread.shopper_id)
    session.add(bag)
    session.commit()
    assert bag.id is not None and variant.id is not None
    session.add(BagLine(bag_id=bag.id, variant_id=variant.id, unit_price_minor=1, currency="EUR"))
    session.commit()

    text = replies.fill_text(
        session,
        anna,
        thread,
        "Hello {shopper}, {associate} from {store} at {brand}: {product} in {size} is yours.",
    )
    assert text == (
        f"Hello Camille, Anna from {team.store.name} at {team.brand.name}:"
        " Petite Lune in M is yours."
    )


def test_a_missing_value_is_refused_with_its_reason_never_sent_as_braces(
    session: Session, team: Team, factory: Factory
) -> None:
    assert team.brand.id is not None
    thread = held_thread(session, team, factory)
    anna = associate_actor(team.anna)
    sizes = replies.do_create_reply(
        session, anna, team.brand.id, title="Size", body="{product} in {size}.", scope="mine"
    )
    hello = replies.do_create_reply(
        session,
        anna,
        team.brand.id,
        title="Hello",
        body="Hello {shopper}, I am {associate}.",
        scope="mine",
    )
    with pytest.raises(replies.PlaceholderMissing) as refused:
        replies.fill_reply(session, anna, thread, sizes)
    assert refused.value.details["missing"] == ["product", "size"]
    assert "{product}: no product was asked about" in refused.value.message
    assert refused.value.status == 422

    # The picker lists both: one filled, one with the reason.
    rows = {r["title"]: r for r in replies.replies_in_thread(session, anna, thread)}
    assert rows["Hello"]["text"] == "Hello, I am Anna."  # a guest is not called "Guest"
    assert rows["Size"]["text"] is None and rows["Size"]["missing"] == ["product", "size"]
    assert "{size}" in rows["Size"]["problem"]

    # With a product of several sizes and none in the bag, the size stays unknown.
    product = factory.product(team.brand, name="Carré", sizes=("90", "140"))
    threads.do_send_thread_message(session, anna, thread, product_id=product.id, now=NOW)
    with pytest.raises(replies.PlaceholderMissing) as still:
        replies.fill_reply(session, anna, thread, sizes)
    assert still.value.details["missing"] == ["size"]
    assert "no Carré in their bag" in still.value.message
    # A product of one size has that size.
    single = factory.product(team.brand, name="Foulard", sizes=("One size",))
    threads.do_send_thread_message(session, anna, thread, product_id=single.id, now=NOW)
    assert replies.fill_reply(session, anna, thread, sizes) == "Foulard in One size."
    assert hello.id is not None


def test_the_product_is_the_one_asked_from_or_the_last_card(
    session: Session, team: Team, factory: Factory
) -> None:
    queue.do_set_status(session, team.anna, AssociateStatus.ONLINE, now=NOW)
    lune = factory.product(team.brand, name="Petite Lune")
    carre = factory.product(team.brand, name="Carré")
    camille = shopper_actor(factory.shopper())
    asked = threads.do_ask(
        session, camille, team.brand, body="True sky blue?", product_id=lune.id, now=NOW
    )
    anna = associate_actor(team.anna)
    thread = threads.do_accept_thread(session, anna, asked.thread, now=NOW)
    assert replies.fill_text(session, anna, thread, "{product}") == "Petite Lune"
    threads.do_send_thread_message(session, anna, thread, product_id=carre.id, now=NOW)
    assert replies.fill_text(session, anna, thread, "{product}") == "Carré"


def test_the_shoppers_name_from_a_booking_and_leaving_it_out_tidily(
    session: Session, team: Team, factory: Factory
) -> None:
    thread = held_thread(session, team, factory)
    anna = associate_actor(team.anna)
    fill = lambda text: replies.fill_text(session, anna, thread, text)  # noqa: E731
    assert fill("{shopper}, your bag is ready.") == "Your bag is ready."
    assert fill("Thank you {shopper}!") == "Thank you!"
    assert fill("No braces {here} are touched.") == "No braces {here} are touched."
    starts = NOW + timedelta(days=2)
    session.add(
        Appointment(
            brand_id=thread.brand_id,
            associate_id=team.anna.id or 0,
            store_id=team.store.id or 0,
            shopper_id=thread.shopper_id,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=30),
            shopper_name="Camille Roux",
            shopper_email="c@example.com",
        )
    )
    session.commit()
    assert fill("Thank you {shopper}!") == "Thank you Camille Roux!"


def test_the_store_is_the_threads_else_the_associates(
    session: Session, team: Team, factory: Factory
) -> None:
    thread = held_thread(session, team, factory)
    anna = associate_actor(team.anna)
    assert replies.fill_text(session, anna, thread, "{store}") == team.store.name
    lyon = factory.store(team.brand, name="Lyon")
    thread.store_id = lyon.id
    session.add(thread)
    session.commit()
    assert replies.fill_text(session, anna, thread, "{store}") == "Lyon"
    # A brand admin at a brand of two stores, on a thread without one: no store to name.
    thread.store_id = None
    session.add(thread)
    session.commit()
    with pytest.raises(replies.PlaceholderMissing):
        replies.fill_text(session, admin_actor(factory, team), thread, "{store}")
