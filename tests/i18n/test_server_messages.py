"""What the server writes reaches each reader in their language: a domain error with its
parameters (JSON and page), the HTTP errors Werkzeug would word in English (404, 405, 429),
and a thread's stored notes ("Video started with Anna"), written for the French shopper in
French and for the English associate in English, read and pushed."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from sessions.errors import N_, NotFound
from sessions.events import Event
from sessions.i18n import Either, Phrase, english, localised, translator
from sessions.models import Shopper, Thread
from sessions.service import activity
from tests.conftest import login
from tests.factories import Factory
from web.errors import error_text

FRENCH, CHINESE = {"Accept-Language": "fr-FR,fr;q=0.9"}, {"Accept-Language": "zh-CN,zh;q=0.9"}
JSON = {"Accept": "application/json"}
MISSING = 987654  # no variant has this id


def in_(lang: str, msgid: str, **params: object) -> str:
    """The catalogue's own translation, filled: what the reader should see."""
    return translator(lang).gettext(msgid) % params


@pytest.mark.parametrize(
    ("headers", "lang", "what"),
    [(FRENCH, "fr", "taille ou couleur"), (CHINESE, "zh_Hans", "尺码或颜色")],
)
def test_a_domain_error_with_parameters_reads_in_the_request_language(
    client: FlaskClient, factory: Factory, headers: dict[str, str], lang: str, what: str
) -> None:
    factory.brand()
    factory.session.commit()
    refused = client.post("/api/bag/lines", json={"variant_id": MISSING}, headers=headers | JSON)
    assert refused.status_code == 404, refused.data[:300]
    body = refused.get_json()
    assert body["error"] == "not_found"  # the machine's code stays as it was
    # The msgid translated, its id filled and its phrase ("size or colour") translated too.
    assert body["message"] == in_(lang, "No %(what)s with id %(id)s.", what=what, id=MISSING)
    assert str(MISSING) in body["message"] and "size or colour" not in body["message"]

    page = client.get("/b/no-such-maison/book", headers=headers)
    assert page.status_code == 404
    html = page.get_data(as_text=True)
    wanted = in_(lang, "No brand called '%(slug)s'.", slug="no-such-maison")
    assert wanted in html.replace("&#39;", "'") and "No brand called" not in html


def test_english_stays_the_english_of_the_domain(client: FlaskClient, factory: Factory) -> None:
    factory.brand()
    factory.session.commit()
    refused = client.post("/api/bag/lines", json={"variant_id": MISSING}, headers=JSON)
    assert refused.get_json()["message"] == f"No size or colour with id {MISSING}."


def test_an_error_keeps_its_english_text_and_its_parameters(app: Flask) -> None:
    error = NotFound(N_("No %(what)s with id %(id)s."), params={"what": Phrase("bag"), "id": 7})
    assert error.message == str(error) == "No bag with id 7."
    assert (error.msgid, error.params["id"], error.code) == (
        "No %(what)s with id %(id)s.",
        7,
        "not_found",
    )
    with app.test_request_context("/?lang=fr"):
        assert error_text(error) == "Aucun(e) panier portant le numéro 7."
    with app.test_request_context("/?lang=zh_Hans"):
        assert error_text(error) == "没有编号为 7 的购物袋。"
    either = Either([Phrase("a draft"), Phrase("scheduled")])
    assert english("only when it is %(when)s", {"when": either}) == (
        "only when it is a draft or scheduled"
    )
    fr = translator("fr")
    assert localised("%(when)s", {"when": either}, fr.gettext, "fr") == "un brouillon ou programmée"


@pytest.mark.parametrize(("headers", "lang"), [(FRENCH, "fr"), (CHINESE, "zh_Hans")])
def test_not_found_and_method_not_allowed_in_the_request_language(
    client: FlaskClient, factory: Factory, headers: dict[str, str], lang: str
) -> None:
    brand = factory.brand()
    factory.session.commit()
    missing = in_(
        lang, "This page does not exist. Check the address, or start again from the home page."
    )
    page = client.get("/no/such/page", headers=headers)
    assert page.status_code == 404
    assert missing.replace("’", "&rsquo;") in page.text or missing in page.text
    assert "The requested URL was not found" not in page.text
    api = client.get("/api/no-such-endpoint", headers=headers)
    assert api.status_code == 404 and api.get_json() == {"error": "not_found", "message": missing}

    wrong = in_(lang, "This address does not accept this kind of request.")
    page = client.delete(f"/b/{brand.slug}", headers=headers)
    assert page.status_code == 405 and "GET" in page.headers["Allow"]
    assert wrong in page.text and "The method is not allowed" not in page.text
    api = client.delete("/api/bag/lines", headers=headers)
    assert api.status_code == 405 and api.get_json()["message"] == wrong


@pytest.mark.parametrize(("headers", "lang"), [(FRENCH, "fr"), (CHINESE, "zh_Hans")])
def test_too_many_requests_in_the_request_language(
    app: Flask, factory: Factory, headers: dict[str, str], lang: str
) -> None:
    factory.brand()
    factory.session.commit()
    app.config["GUEST_RATE_LIMIT"] = "1 per hour"
    address = f"2001:db8::{uuid.uuid4().hex[:4]}"  # this test's own count, however run

    def newcomer() -> FlaskClient:
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        return client

    newcomer().post("/api/bag/lines", json={"variant_id": MISSING}, headers=headers)
    refused = newcomer().post("/api/bag/lines", json={"variant_id": MISSING}, headers=headers)
    assert refused.status_code == 429
    body = refused.get_json()
    assert body["error"] == "too_many_requests"
    template = translator(lang).gettext("Too many new visitors from your network; wait %(wait)s s.")
    before, after = template.split("%(wait)s")
    assert body["message"].startswith(before) and body["message"].endswith(after)
    wait = body["message"][len(before) : len(body["message"]) - len(after)]
    assert wait.isdigit() and 0 < int(wait) <= 3600


def test_a_stored_note_reads_in_each_reader_language(
    app: Flask, factory: Factory, session: Session, events: list[Event]
) -> None:
    brand = factory.brand()
    associate = factory.associate(brand, name="Anna")
    user = factory.user_of(associate)
    email = user.email
    assert brand.id is not None

    shopper_client = app.test_client()
    asked = shopper_client.post(
        f"/api/brands/{brand.id}/thread?lang=fr",
        json={"body": "Bonjour", "client_id": "c1"},
    )
    assert asked.status_code in (200, 201), asked.data[:300]
    shopper_client.post("/lang", data={"lang": "fr", "next": "/"})
    thread_id = asked.get_json()["thread"]["id"]
    session.expire_all()
    thread = session.get(Thread, thread_id)
    assert thread is not None
    shopper = session.get(Shopper, thread.shopper_id)
    assert shopper is not None and shopper.language == "fr"
    shopper_id = shopper.id
    assert shopper_id is not None

    del events[:]
    activity.note_talk_now_started(
        session, brand.id, shopper_id, mode="video", associate_name="Anna"
    )
    session.commit()

    # Stored once, as its English text and its msgid with parameters.
    # Pushed written for each side: the shopper in French, the brand's staff in English.
    pushed = {e.audience: e.data["message"]["body"] for e in events if e.kind == "thread_message"}
    assert pushed[f"shopper:{shopper_id}"] == "Vidéo commencée avec Anna"
    assert pushed[f"brand:{brand.id}"] == "Video started with Anna"

    # Read: the shopper's thread in French, the associate's console in English.
    mine = shopper_client.get(f"/api/brands/{brand.id}/thread?lang=fr").get_json()
    assert mine["messages"][-1]["body"] == "Vidéo commencée avec Anna"
    assert mine["thread"]["last_message"]["body"] == "Vidéo commencée avec Anna"

    staff = app.test_client()
    login(staff, email)
    read = staff.get(f"/api/threads/{thread_id}", headers={"Accept-Language": "en"})
    assert read.status_code == 200, read.data[:300]
    assert read.get_json()["messages"][-1]["body"] == "Video started with Anna"
    # The same associate, with a French console, reads it in French.
    user_row = session.get(type(user), user.id)
    assert user_row is not None
    user_row.language = "fr"
    session.add(user_row)
    session.commit()
    again = staff.get(f"/api/threads/{thread_id}")
    assert again.get_json()["messages"][-1]["body"] == "Vidéo commencée avec Anna"


def test_a_nameless_shopper_is_a_guest_in_the_reader_language(
    app: Flask, factory: Factory, session: Session
) -> None:
    brand = factory.brand()
    associate = factory.associate(brand)
    email = factory.user_of(associate).email
    assert brand.id is not None
    shopper_client = app.test_client()
    asked = shopper_client.post(
        f"/api/brands/{brand.id}/thread", json={"body": "Hello", "client_id": "c2"}
    )
    assert asked.status_code in (200, 201), asked.data[:300]
    thread_id = asked.get_json()["thread"]["id"]
    staff = app.test_client()
    login(staff, email)
    english_row = staff.get(f"/api/threads/{thread_id}?lang=en").get_json()["thread"]
    assert english_row["shopper_name"] == "Guest"
    chinese_row = staff.get(f"/api/threads/{thread_id}?lang=zh_Hans").get_json()["thread"]
    assert chinese_row["shopper_name"] == "访客"
