"""The shared bag of a 1:1: the thread's shopper and the brand's associate both add, change
a quantity and remove; stock is reserved and given back; both sides are told
(`shared_bag`); only the shopper checks out; another shopper and another brand get nothing."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from sessions.catalogue import variants_of
from sessions.events import Event
from sessions.models import Bag, BagStatus, Variant
from tests.booking.conftest import Team
from tests.conftest import login
from tests.factories import Factory


def signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    login(client, email)
    return client


def asked(client: FlaskClient, team: Team) -> int:
    answer = client.post(f"/api/brands/{team.brand.id}/thread", json={"body": "Which size?"})
    assert answer.status_code == 201, answer.get_json()
    thread_id: int = answer.get_json()["thread"]["id"]
    return thread_id


def test_both_sides_edit_the_bag_and_the_shopper_checks_out(
    app: Flask,
    client: FlaskClient,
    team: Team,
    factory: Factory,
    session: Session,
    events: list[Event],
) -> None:
    team.brand.checkout_url_template = "https://shop.example/cart?add={skus}"
    team.brand.max_per_client = 5
    session.add(team.brand)
    session.commit()
    product = factory.product(team.brand, name="Petite Lune", stock=5, sizes=("S", "M"))
    small, medium = (v.id for v in variants_of(session, product.id or 0))
    session.commit()
    thread_id = asked(client, team)
    anna = signed_in(app, factory.user_of(team.anna).email)
    url = f"/api/threads/{thread_id}/bag"
    assert client.get(url).get_json()["lines"] == []

    added = anna.post(f"{url}/lines", json={"variant_id": small, "quantity": 1})
    assert added.status_code == 201, added.get_json()
    assert [(line["size"], line["quantity"]) for line in added.get_json()["lines"]] == [("S", 1)]
    mine = client.post(f"{url}/lines", json={"variant_id": medium})
    assert mine.status_code == 201
    pushed = [e for e in events if e.kind == "shared_bag"]
    assert {e.audience for e in pushed} == {
        f"shopper:{client.get(url).get_json() and _shopper_of(session, thread_id)}",
        f"brand:{team.brand.id}",
    }
    assert pushed[0].data["by"] == "Anna" and pushed[-1].data["by"] == "Guest"

    line = next(x for x in mine.get_json()["lines"] if x["size"] == "S")
    more = client.patch(f"{url}/lines/{line['id']}", json={"quantity": 3})
    assert more.status_code == 200, more.get_json()
    assert _stock(session, small) == 2  # three of five held
    fewer = anna.patch(f"{url}/lines/{line['id']}", json={"quantity": 1})
    assert fewer.status_code == 200
    assert _stock(session, small) == 4  # two went back
    small_line = next(x for x in fewer.get_json()["lines"] if x["size"] == "S")
    removed = anna.delete(f"{url}/lines/{small_line['id']}")
    assert [x["size"] for x in removed.get_json()["lines"]] == ["M"]
    assert _stock(session, small) == 5
    assert anna.patch(f"{url}/lines/{small_line['id']}", json={"quantity": 1}).status_code == 404
    assert client.patch(f"{url}/lines/1", json={"quantity": 11}).status_code == 422

    assert anna.post(f"{url}/checkout").status_code == 403  # the shopper's own cart
    done = client.post(f"{url}/checkout")
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["redirect_url"].startswith("https://shop.example/cart?add=")
    bag = session.exec(select(Bag)).one()
    session.refresh(bag)
    assert bag.status is BagStatus.CHECKED_OUT
    session.commit()
    assert client.get(url).get_json()["lines"] == []
    history = client.get(f"/api/threads/{thread_id}").get_json()["messages"]
    said = [m["body"] for m in history if m["side"] == "system"]
    assert "Anna added 1 × Petite Lune (S) to the bag" in said
    assert "The shopper sent the bag to checkout" in said


def _stock(session: Session, variant_id: int | None) -> int:
    session.commit()
    variant = session.get(Variant, variant_id)
    assert variant is not None
    session.refresh(variant)
    stock = variant.stock
    session.commit()
    return stock


def _shopper_of(session: Session, thread_id: int) -> int:
    from sessions.models import Thread

    thread = session.get(Thread, thread_id)
    assert thread is not None
    session.commit()
    return thread.shopper_id


def test_nobody_else_touches_the_bag(
    app: Flask, client: FlaskClient, team: Team, factory: Factory, session: Session
) -> None:
    product = factory.product(team.brand)
    variant = variants_of(session, product.id or 0)[0].id
    other_brand = factory.brand()
    other = factory.associate(other_brand, factory.store(other_brand))
    foreign = factory.product(other_brand)
    foreign_variant = variants_of(session, foreign.id or 0)[0].id
    session.commit()
    thread_id = asked(client, team)
    url = f"/api/threads/{thread_id}/bag"
    stranger = app.test_client()
    stranger.get("/")
    assert stranger.get(url).status_code == 404
    assert stranger.post(f"{url}/lines", json={"variant_id": variant}).status_code == 404
    elsewhere = signed_in(app, factory.user_of(other).email)
    assert elsewhere.get(url).status_code == 403
    assert elsewhere.post(f"{url}/lines", json={"variant_id": variant}).status_code == 403
    wrong = client.post(f"{url}/lines", json={"variant_id": foreign_variant})
    assert wrong.status_code == 422  # another brand's piece
    assert client.post(f"{url}/lines", json={"variant_id": "x"}).status_code == 422
    assert client.post(f"{url}/lines", json={"variant_id": 99999}).status_code == 422
    assert client.post(f"{url}/checkout").status_code == 409  # empty
