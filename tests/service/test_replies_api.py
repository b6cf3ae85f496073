"""Saved replies, product cards, search, transfer options and the shopper's history
through the API, and the brand admin's screen of saved replies."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from sessions.models import SavedReply
from tests.booking.conftest import Team
from tests.conftest import login
from tests.factories import Factory


def signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    login(client, email)
    return client


def go_online(client: FlaskClient, associate_id: int | None) -> None:
    answer = client.put(f"/api/associates/{associate_id}/status", json={"status": "online"})
    assert answer.status_code == 200


def taken_thread(client: FlaskClient, anna: FlaskClient, team: Team, product_id: int) -> int:
    """The guest asks from a product page; Anna takes it."""
    go_online(anna, team.anna.id)
    asked = client.post(
        f"/api/brands/{team.brand.id}/thread", json={"body": "In M?", "product_id": product_id}
    )
    thread_id = int(asked.get_json()["thread"]["id"])
    assert anna.post(f"/api/threads/{thread_id}/accept").status_code == 200
    return thread_id


def test_replies_through_the_api_filled_for_a_thread(
    app: Flask, client: FlaskClient, team: Team, factory: Factory
) -> None:
    product = factory.product(team.brand, name="Petite Lune", sizes=("S", "M"))
    admin = signed_in(app, factory.admin(team.brand).email)
    anna = signed_in(app, factory.user_of(team.anna).email)
    thread_id = taken_thread(client, anna, team, product.id or 0)
    brand_url = f"/api/brands/{team.brand.id}/replies"

    made = admin.post(
        brand_url,
        json={"title": "Welcome", "body": "Hello {shopper}, I am {associate}.", "scope": "brand"},
    )
    assert made.status_code == 201 and made.get_json()["scope"] == "brand"
    assert made.get_json()["placeholders"] == ["shopper", "associate"]
    refused = anna.post(brand_url, json={"title": "X", "body": "Y", "scope": "brand"})
    assert refused.status_code == 403
    own = anna.post(brand_url, json={"title": "Size", "body": "{product} in {size}: yes."})
    assert own.status_code == 201 and own.get_json()["scope"] == "mine"
    bad = anna.post(brand_url, json={"title": "C", "body": "In {colour}"})
    assert bad.status_code == 422 and "{colour} is not a placeholder" in bad.get_json()["message"]

    assert [r["title"] for r in anna.get(brand_url).get_json()] == ["Size", "Welcome"]
    assert [r["title"] for r in admin.get(brand_url).get_json()] == ["Welcome"]

    picker = {r["title"]: r for r in anna.get(f"/api/threads/{thread_id}/replies").get_json()}
    assert picker["Welcome"]["text"] == "Hello, I am Anna."
    assert picker["Size"]["text"] is None and picker["Size"]["missing"] == ["size"]
    assert "no Petite Lune in their bag" in picker["Size"]["problem"]

    filled = anna.get(f"/api/threads/{thread_id}/fill", query_string={"text": "I am {associate}"})
    assert filled.status_code == 200 and filled.get_json() == {"text": "I am Anna"}
    missing = anna.get(f"/api/threads/{thread_id}/fill", query_string={"text": "In {size}"})
    assert missing.status_code == 422 and missing.get_json()["error"] == "placeholder_missing"

    own_id = own.get_json()["id"]
    renamed = anna.patch(f"/api/replies/{own_id}", json={"title": "Sizes"})
    assert renamed.get_json()["title"] == "Sizes"
    brands = anna.patch(f"/api/replies/{made.get_json()['id']}", json={"body": "Hi"})
    assert brands.status_code == 403  # the brand's reply is its admin's to change
    bea = factory.associate(team.brand, team.store, name="Bea")
    bea_client = signed_in(app, factory.user_of(bea).email)
    assert bea_client.get(f"/api/replies/{own_id}").status_code == 403  # a colleague's own
    assert bea_client.delete(f"/api/replies/{own_id}").status_code == 403
    assert anna.delete(f"/api/replies/{own_id}").status_code == 204
    assert anna.get(f"/api/replies/{own_id}").status_code == 404
    assert client.get(brand_url).status_code == 401  # a shopper sees none


def test_search_by_sku_send_a_card_and_the_shopper_draws_it(
    app: Flask, client: FlaskClient, team: Team, factory: Factory, session: Session
) -> None:
    product = factory.product(team.brand, name="Petite Lune", stock=2)
    other = factory.product(team.brand, name="Carré")
    anna = signed_in(app, factory.user_of(team.anna).email)
    thread_id = taken_thread(client, anna, team, other.id or 0)
    sku = factory.variants(product)[0].sku
    session.commit()  # end the read: on SQLite it would hold the lock
    found = anna.get(f"/api/brands/{team.brand.id}/products", query_string={"q": sku.lower()})
    assert [p["name"] for p in found.get_json()] == ["Petite Lune"]
    sent = anna.post(f"/api/threads/{thread_id}/messages", json={"product_id": product.id})
    assert sent.status_code == 201 and sent.get_json()["kind"] == "product"
    card = client.get(f"/api/products/{product.id}/card").get_json()
    assert (card["name"], card["stock"], card["stock_state"]) == ("Petite Lune", 2, "low")
    assert card["url"] == f"/b/{team.brand.slug}/products/{product.id}"
    assert client.get("/api/products/999999/card").status_code == 404


def test_transfer_options_and_history_for_the_brands_staff_only(
    app: Flask, client: FlaskClient, team: Team, factory: Factory, session: Session
) -> None:
    product = factory.product(team.brand)
    anna = signed_in(app, factory.user_of(team.anna).email)
    thread_id = taken_thread(client, anna, team, product.id or 0)
    bea = factory.associate(team.brand, team.store, name="Bea")
    bea_client = signed_in(app, factory.user_of(bea).email)
    go_online(bea_client, bea.id)

    options = anna.get(f"/api/threads/{thread_id}/transfer-options").get_json()
    assert [(c["name"], c["load"], c["has_room"]) for c in options["colleagues"]] == [
        ("Bea", 0, True)
    ]
    assert bea_client.get(f"/api/threads/{thread_id}/transfer-options").status_code == 403

    history = bea_client.get(f"/api/threads/{thread_id}/shopper-history")
    assert history.status_code == 200
    assert history.get_json()["recent_questions"][0]["body"] == "In M?"
    stranger = signed_in(app, factory.admin(factory.brand()).email)
    assert stranger.get(f"/api/threads/{thread_id}/shopper-history").status_code == 403
    assert client.get(f"/api/threads/{thread_id}/shopper-history").status_code == 401


def test_the_admin_screen_lists_creates_edits_and_deletes_the_brands_replies(
    app: Flask, team: Team, factory: Factory, session: Session
) -> None:
    admin = signed_in(app, factory.admin(team.brand).email)
    page = admin.get("/admin/replies")
    assert page.status_code == 200 and "No saved reply yet" in page.get_data(as_text=True)
    assert 'href="/admin/replies"' in page.get_data(as_text=True)  # in the admin's nav

    bad = admin.post("/admin/replies/new", data={"title": "Size", "body": "In {colour}"})
    assert bad.status_code == 422 and "{colour} is not a placeholder" in bad.get_data(as_text=True)
    made = admin.post(
        "/admin/replies/new", data={"title": "Size", "body": "{product} comes in {size}."}
    )
    assert made.status_code == 302
    reply = session.exec(select(SavedReply).where(SavedReply.brand_id == team.brand.id)).one()
    assert reply.associate_id is None
    session.commit()  # end the read: on SQLite it would hold the lock
    listed = admin.get("/admin/replies").get_data(as_text=True)
    assert "{product} comes in {size}." in listed

    edit = admin.get(f"/admin/replies/{reply.id}")
    assert edit.status_code == 200 and "Edit “Size”" in edit.get_data(as_text=True)
    saved = admin.post(f"/admin/replies/{reply.id}", data={"title": "Sizes", "body": "{size}."})
    assert saved.status_code == 302
    session.refresh(reply)
    assert (reply.title, reply.body) == ("Sizes", "{size}.")
    session.commit()

    # An associate's own reply is not on the brand's screen; an associate has no screen.
    anna_email = factory.user_of(team.anna).email
    anna = signed_in(app, anna_email)
    assert anna.get("/admin/replies").status_code == 403
    assert anna.post(f"/admin/replies/{reply.id}/delete").status_code == 403
    own = anna.post(
        f"/api/brands/{team.brand.id}/replies", json={"title": "Mine", "body": "Anna here."}
    ).get_json()
    assert admin.get(f"/admin/replies/{own['id']}").status_code == 404
    assert "Anna here." not in admin.get("/admin/replies").get_data(as_text=True)

    assert admin.post(f"/admin/replies/{reply.id}/delete").status_code == 302
    assert session.exec(select(SavedReply).where(SavedReply.id == reply.id)).first() is None
    session.commit()
    other = signed_in(app, factory.admin(factory.brand()).email)
    assert other.get(f"/admin/replies/{own['id']}").status_code == 404
