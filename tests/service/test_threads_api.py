"""The thread and inbox API: the shopper asks and chats, the associate works the inbox;
another shopper and another brand see nothing, and a read makes no row."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from sessions.models import Thread
from tests.booking.conftest import Team
from tests.conftest import login
from tests.factories import Factory


def signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    login(client, email)
    return client


def test_shopper_and_associate_through_the_api(
    app: Flask, client: FlaskClient, team: Team, factory: Factory, session: Session
) -> None:
    product = factory.product(team.brand)
    anna = signed_in(app, factory.user_of(team.anna).email)
    status = anna.put(f"/api/associates/{team.anna.id}/status", json={"status": "online"})
    assert status.status_code == 200
    none_yet = client.get(f"/api/brands/{team.brand.id}/thread")
    assert none_yet.status_code == 200 and none_yet.get_json() == {"thread": None, "messages": []}

    asked = client.post(
        f"/api/brands/{team.brand.id}/thread",
        json={"body": "Is it a true sky blue?", "product_id": product.id},
    )
    assert asked.status_code == 201, asked.get_json()
    thread = asked.get_json()["thread"]
    assert thread["status"] == "waiting" and thread["offered_to"] == team.anna.id
    assert asked.get_json()["automatic"] is None

    waiting = anna.get(f"/api/brands/{team.brand.id}/inbox?tab=waiting").get_json()
    assert [t["id"] for t in waiting] == [thread["id"]]
    taken = anna.post(f"/api/threads/{thread['id']}/accept")
    assert taken.status_code == 200 and taken.get_json()["associate"]["name"] == "Anna"
    mine = anna.get(f"/api/brands/{team.brand.id}/inbox?tab=mine").get_json()
    assert [t["id"] for t in mine] == [thread["id"]]
    assert anna.get(f"/api/brands/{team.brand.id}/inbox?tab=nope").status_code == 422

    card = anna.post(f"/api/threads/{thread['id']}/messages", json={"product_id": product.id})
    assert card.status_code == 201 and card.get_json()["kind"] == "product"
    reply = client.post(
        f"/api/threads/{thread['id']}/messages", json={"body": "Lovely", "client_id": "a1"}
    )
    again = client.post(
        f"/api/threads/{thread['id']}/messages", json={"body": "Lovely", "client_id": "a1"}
    )
    assert reply.get_json()["id"] == again.get_json()["id"]  # a retry is not a second message
    read = client.post(f"/api/threads/{thread['id']}/read", json={"message_id": card.json["id"]})  # type: ignore[index]
    # Her own later message already counts as read: the marker does not move back.
    assert read.get_json()["read_id"] == reply.get_json()["id"]
    history = client.get(f"/api/threads/{thread['id']}").get_json()
    assert [m["kind"] for m in history["messages"]] == ["text", "system", "product", "text"]
    newer = client.get(f"/api/threads/{thread['id']}?after_id={card.get_json()['id']}")
    assert [m["body"] for m in newer.get_json()["messages"]] == ["Lovely"]

    assert client.post(f"/api/threads/{thread['id']}/messages", json={}).status_code == 422
    bad = client.post(
        f"/api/threads/{thread['id']}/messages", json={"attachment_url": "https://evil.test/x"}
    )
    assert bad.status_code == 422
    left = client.post(f"/api/threads/{thread['id']}/leave")
    assert left.status_code == 200 and left.get_json()["status"] == "closed"


def test_another_shopper_and_another_brand_see_nothing(
    app: Flask, client: FlaskClient, team: Team, factory: Factory, session: Session
) -> None:
    asked = client.post(f"/api/brands/{team.brand.id}/thread", json={"body": "Private"})
    thread_id = asked.get_json()["thread"]["id"]
    stranger = app.test_client()
    stranger.get("/")
    for method, url, body in [
        ("GET", f"/api/threads/{thread_id}", None),
        ("POST", f"/api/threads/{thread_id}/messages", {"body": "hi"}),
        ("POST", f"/api/threads/{thread_id}/read", {"message_id": 1}),
        ("POST", f"/api/threads/{thread_id}/leave", None),
    ]:
        answer = stranger.open(url, method=method, json=body)
        assert answer.status_code == 404, (url, answer.get_json())
        assert "Private" not in answer.get_data(as_text=True)
    other = factory.brand()
    carl = signed_in(app, factory.user_of(factory.associate(other)).email)
    assert carl.get(f"/api/threads/{thread_id}").status_code == 403
    assert carl.post(f"/api/threads/{thread_id}/accept").status_code == 403
    assert carl.get(f"/api/brands/{team.brand.id}/inbox").status_code == 403
    assert carl.get(f"/api/brands/{other.id}/inbox").get_json() == []
    # A shopper has no inbox, and anonymous no thread.
    assert client.get(f"/api/brands/{team.brand.id}/inbox").status_code == 401
    rows = session.exec(select(Thread)).all()
    assert len(rows) == 1  # nobody's read made one


def test_nobody_online_the_answer_is_automatic_and_says_when_someone_is_back(
    client: FlaskClient, team: Team
) -> None:
    asked = client.post(f"/api/brands/{team.brand.id}/thread", json={"body": "Anyone?"})
    assert asked.status_code == 201
    out = asked.get_json()
    assert out["automatic"]["kind"] == "automatic" and out["back_at"] is not None
    assert out["thread"]["status"] == "waiting"
