"""The video-from-a-thread API, both ways, and what each side is told over real Socket.IO
clients; the embed's shopper (a token, no cookie) asks from a show and opens the room in a
new tab; "no thread yet" is an answer, not an error."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from sessions.db import create_all, make_engine
from sessions.grants import verify_grant
from sessions.models import AssociateStatus, LiveSession
from sessions.service import queue
from sessions.shows.lifecycle import do_start_show
from tests.booking.conftest import Team
from tests.conftest import app_config, login, running_app
from tests.factories import OPERATOR, Factory
from tests.rooms.live_clients import csrf_token, staff_http
from tests.servers import WebServer
from tests.service.test_inbox_live import Console

VIDEO_EVENTS = ("video_request", "queue_accepted")


def signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    login(client, email)
    return client


def held(app: Flask, client: FlaskClient, team: Team, factory: Factory) -> tuple[FlaskClient, int]:
    """The shopper (`client`) asked, Anna took the thread: Anna's client and the thread."""
    anna = signed_in(app, factory.user_of(team.anna).email)
    status = anna.put(f"/api/associates/{team.anna.id}/status", json={"status": "online"})
    assert status.status_code == 200
    asked = client.post(f"/api/brands/{team.brand.id}/thread", json={"body": "Sky blue?"})
    thread_id = asked.get_json()["thread"]["id"]
    assert anna.post(f"/api/threads/{thread_id}/accept").status_code == 200
    return anna, thread_id


def test_no_thread_yet_is_an_answer_documented_in_the_openapi_document(
    client: FlaskClient, team: Team
) -> None:
    none = client.get(f"/api/brands/{team.brand.id}/thread")
    assert none.status_code == 200 and none.get_json() == {"thread": None, "messages": []}
    assert client.get("/api/brands/999999/thread").status_code == 404  # no such brand
    doc = client.get("/api/openapi.json").get_json()
    op = doc["paths"]["/api/brands/{brand_id}/thread"]["get"]
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    mine = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert {"type": "null"} in mine["properties"]["thread"]["anyOf"]
    assert "/api/threads/{thread_id}/video/accept" in doc["paths"]


def test_shopper_asks_associate_accepts_both_get_their_room(
    app: Flask, client: FlaskClient, team: Team, factory: Factory, session: Session
) -> None:
    anna, thread_id = held(app, client, team, factory)
    assert client.get(f"/api/threads/{thread_id}/video").get_json() == {"request": None}
    asked = client.post(f"/api/threads/{thread_id}/video")
    assert asked.status_code == 201, asked.get_json()
    body = asked.get_json()
    assert (body["asked_by"], body["status"], body["associate_name"]) == (
        "shopper",
        "pending",
        "Anna",
    )
    mine = anna.get(f"/api/brands/{team.brand.id}/video-requests").get_json()
    assert [r["id"] for r in mine] == [body["id"]]
    assert client.post(f"/api/threads/{thread_id}/video/accept").status_code == 403  # hers

    accepted = anna.post(f"/api/threads/{thread_id}/video/accept")
    assert accepted.status_code == 200, accepted.get_json()
    live_id = accepted.get_json()["live_session_id"]
    assert accepted.get_json()["room_url"] == f"/console/consult/{live_id}"
    assert accepted.get_json()["enter_url"] is None  # the shopper's key is not the staff's
    state = client.get(f"/api/threads/{thread_id}/video").get_json()["request"]
    assert state["status"] == "accepted" and state["room_url"] == f"/consult/{live_id}"
    assert client.get(state["room_url"]).status_code == 200
    assert anna.get(f"/console/consult/{live_id}").status_code == 200
    # The media grant of a consultation: private, each side its own camera.
    grant = client.post(
        f"/api/consultations/{live_id}/media-grant", json={"role": "view", "side": "associate"}
    )
    assert grant.status_code == 200, grant.get_json()
    live = session.get(LiveSession, live_id)
    assert live is not None and grant.get_json()["room"] == live.room
    session.commit()  # end the read: on SQLite an open transaction holds the write lock
    claims = verify_grant(app.config["MEDIA_GRANT_SECRET"], grant.get_json()["grant"])
    assert (claims.public, claims.record) == (False, False)  # media_claims: private
    history = client.get(f"/api/threads/{thread_id}").get_json()["messages"]
    assert "Video started with Anna" in [m["body"] for m in history]
    assert anna.post(f"/api/consultations/{live_id}/end").status_code == 200
    history = client.get(f"/api/threads/{thread_id}").get_json()["messages"]
    assert history[-1]["body"] == "Video ended"


def test_associate_offers_shopper_declines_then_errors_are_4xx(
    app: Flask, client: FlaskClient, team: Team, factory: Factory
) -> None:
    anna, thread_id = held(app, client, team, factory)
    offered = anna.post(f"/api/threads/{thread_id}/video")
    assert offered.status_code == 201 and offered.get_json()["asked_by"] == "staff"
    assert anna.post(f"/api/threads/{thread_id}/video/decline").status_code == 403
    declined = client.post(f"/api/threads/{thread_id}/video/decline")
    assert declined.status_code == 200 and declined.get_json()["status"] == "declined"
    again = client.post(f"/api/threads/{thread_id}/video/decline")
    assert again.status_code == 409 and again.get_json()["error"] == "no_request"
    assert anna.post(f"/api/threads/{thread_id}/video").status_code == 201
    assert anna.post(f"/api/threads/{thread_id}/video/cancel").get_json()["status"] == "cancelled"
    stranger = app.test_client()
    stranger.get("/")
    assert stranger.post(f"/api/threads/{thread_id}/video").status_code == 404
    other = factory.brand()
    carl = signed_in(app, factory.user_of(factory.associate(other)).email)
    assert carl.post(f"/api/threads/{thread_id}/video").status_code == 403
    assert carl.get(f"/api/brands/{team.brand.id}/video-requests").status_code == 403


def embed_token(app: Flask, show_id: int) -> str:
    html = app.test_client(use_cookies=False).get(f"/embed/shows/{show_id}").get_data(True)
    match = re.search(r'data-embed-token="([^"]+)"', html)
    assert match, "the embed page carries a token"
    return match.group(1)


def test_the_embed_asks_from_its_show_and_opens_the_room_in_a_new_tab(
    app: Flask, team: Team, factory: Factory, session: Session
) -> None:
    show = factory.show(team.brand, title="Silk, live")
    do_start_show(session, OPERATOR, show)
    queue.do_set_status(session, team.anna, AssociateStatus.ONLINE)
    html = app.test_client(use_cookies=False).get(f"/embed/shows/{show.id}").get_data(True)
    assert "data-ask" in html and f'data-show-id="{show.id}"' in html
    header = {"X-Vitrine-Embed": embed_token(app, show.id or 0)}
    frame = app.test_client(use_cookies=False)  # a cross-site iframe: no cookie at all
    brand_id = team.brand.id
    assert frame.get(f"/api/brands/{brand_id}/thread", headers=header).get_json()["thread"] is None
    asked = frame.post(
        f"/api/brands/{brand_id}/thread",
        json={"body": "The scarf on the host?", "show_id": show.id},
        headers=header,
    )
    assert asked.status_code == 201, asked.get_json()
    assert asked.get_json()["message"]["context"] == "Asked during the show “Silk, live”"
    thread_id = asked.get_json()["thread"]["id"]
    mine = frame.get(f"/api/brands/{brand_id}/thread", headers=header).get_json()
    assert mine["thread"]["id"] == thread_id  # the same shopper, by the token

    anna = signed_in(app, factory.user_of(team.anna).email)
    assert anna.post(f"/api/threads/{thread_id}/accept").status_code == 200
    inbox = anna.get(f"/api/threads/{thread_id}").get_json()["messages"]
    assert inbox[0]["show_id"] == show.id and "Silk, live" in inbox[0]["context"]
    assert frame.post(f"/api/threads/{thread_id}/video", headers=header).status_code == 201
    assert anna.post(f"/api/threads/{thread_id}/video/accept").status_code == 200
    state = frame.get(f"/api/threads/{thread_id}/video", headers=header).get_json()["request"]
    live_id = state["live_session_id"]
    # A new tab: first-party, so it keeps a cookie; the signed link makes it the shopper.
    tab = app.test_client()
    assert tab.get(f"/consult/{live_id}").status_code == 403
    entered = tab.get(state["enter_url"])
    assert entered.status_code == 302 and entered.location.endswith(f"/consult/{live_id}")
    assert tab.get(f"/consult/{live_id}").status_code == 200
    forged = state["enter_url"].rsplit("/", 1)[0] + "/not-a-token"
    assert app.test_client().get(forged).status_code == 404


def test_csrf_is_skipped_only_for_the_embed_token_without_a_cookie(
    database_url: str, tmp_path: Path
) -> None:
    """Inside a cross-site embed nothing is ambient (no cookie): the token in the header is
    the shopper, and there is no session to keep a CSRF token in. With a cookie, the CSRF
    check stands, header or not."""
    with running_app(app_config(database_url, tmp_path, WTF_CSRF_ENABLED=True)) as app:
        with Session(app.extensions["vitrine.engine"], expire_on_commit=False) as session:
            factory = Factory(session)
            brand = factory.brand()
            show = factory.show(brand)
            brand_id, slug, show_id = brand.id, brand.slug, show.id
        url, ask = f"/api/brands/{brand_id}/thread", {"body": "Silk?"}
        header = {"X-Vitrine-Embed": embed_token(app, show_id or 0)}
        frame = app.test_client(use_cookies=False)
        assert frame.post(url, json=ask, headers=header).status_code == 201
        assert frame.post(url, json=ask).status_code == 400  # no token, no header: refused
        browser = app.test_client()
        browser.get(f"/b/{slug}")
        assert browser.get_cookie("vitrine_session") is not None
        refused = browser.post(url, json=ask, headers=header)  # a cookie: CSRF as always
        assert refused.status_code == 400 and refused.get_json()["error"] == "csrf"


# --- live: real Socket.IO clients on a real web node --------------------------------------


class VideoConsole(Console):
    EVENTS = (*Console.EVENTS, *VIDEO_EVENTS)  # type: ignore[assignment]


@dataclass
class World:
    brand_id: int
    anna_id: int
    emails: dict[str, str]


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    engine = make_engine(database_url)
    create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        factory = Factory(session)
        brand = factory.brand()
        store = factory.store(brand)
        anna = factory.associate(brand, store, name="Anna")
        bea = factory.associate(brand, store, name="Bea")
        emails = {"anna": factory.user_of(anna).email, "bea": factory.user_of(bea).email}
        session.commit()
        assert brand.id and anna.id
        yield World(brand.id, anna.id, emails)
    engine.dispose()


def video(name: str, status: str) -> Any:
    return lambda n, d: n == "video_request" and d["request"]["status"] == status


@pytest.mark.slow
def test_each_side_is_told_live_both_ways(database_url: str, tmp_path: Path, world: World) -> None:
    with WebServer(database_url, tmp_path) as server:
        base = server.url
        anna_http, bea_http = (
            staff_http(base, world.emails["anna"]),
            staff_http(base, world.emails["bea"]),
        )
        anna = VideoConsole(base, anna_http)
        anna.connect()
        bea = VideoConsole(base, bea_http)
        bea.connect()
        clients: list[Console] = [anna, bea]
        try:
            assert anna.call("console_heartbeat", {})["ok"]
            online = anna_http.put(
                f"{base}/api/associates/{world.anna_id}/status",
                json={"status": "online"},
                timeout=10,
            )
            assert online.status_code == 200, online.text
            camille = requests.Session()
            camille.headers["X-CSRFToken"] = csrf_token(camille, base)
            asked = camille.post(
                f"{base}/api/brands/{world.brand_id}/thread", json={"body": "Sky?"}, timeout=10
            )
            thread_id = asked.json()["thread"]["id"]
            camille_io = VideoConsole(base, camille)
            camille_io.connect()
            clients.append(camille_io)
            assert anna_http.post(f"{base}/api/threads/{thread_id}/accept", timeout=10).ok

            # Show me on camera: Anna's console hears it; Anna accepts; Camille hears that.
            assert camille.post(f"{base}/api/threads/{thread_id}/video", timeout=10).ok
            pending = anna.heard(video("anna", "pending"))[-1][1]["request"]
            assert (pending["asked_by"], pending["shopper_name"]) == ("shopper", "Guest")
            accepted = anna_http.post(f"{base}/api/threads/{thread_id}/video/accept", timeout=10)
            assert accepted.status_code == 200, accepted.text
            live_id = accepted.json()["live_session_id"]
            heard = camille_io.heard(video("camille", "accepted"))
            assert heard[-1][1]["request"]["live_session_id"] == live_id
            assert any(n == "queue_accepted" for n, _ in heard)  # the talk-now machinery's too
            assert anna_http.post(f"{base}/api/consultations/{live_id}/end", timeout=10).ok

            # The other way: Anna offers, Camille hears it and declines; Anna hears that.
            assert anna_http.post(f"{base}/api/threads/{thread_id}/video", timeout=10).ok
            offer = camille_io.heard(video("camille", "pending"))[-1][1]["request"]
            assert (offer["asked_by"], offer["associate_name"]) == ("staff", "Anna")
            no = camille.post(f"{base}/api/threads/{thread_id}/video/decline", timeout=10)
            assert no.status_code == 200, no.text
            told = anna.heard(video("anna", "declined"))[-1][1]["request"]
            assert told["asked_by"] == "staff"

            # Bea, Anna's colleague, heard none of it (a marker meant for her comes first).
            marker = requests.Session()
            marker.headers["X-CSRFToken"] = csrf_token(marker, base)
            assert marker.post(
                f"{base}/api/brands/{world.brand_id}/thread", json={"body": "marker"}, timeout=10
            ).ok
            seen = bea.heard(
                lambda n, d: n == "thread_message" and d["message"]["body"] == "marker"
            )
            assert not [n for n, _ in seen if n in VIDEO_EVENTS]
        finally:
            for each in clients:
                each.close()
