"""The show page as a new browser sees it (web/shop/new_visitor.py): rendered once per
room, language and address, each response with its own CSRF token and nonce, dropped
with the room's state; anyone who brings a session gets a page rendered for them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, template_rendered
from flask.testing import FlaskClient

from tests.conftest import login
from tests.rooms.conftest import Room
from web.shop.new_visitor import NONCE_STANDIN, TOKEN_STANDIN, _rendered_with_standins
from web.sockets.snapshots import RoomSnapshots


@pytest.fixture
def snapshots(app: Flask) -> RoomSnapshots:
    held: RoomSnapshots = app.extensions["vitrine.room_snapshots"]
    held.ttl = 600.0  # longer than any test: only a push ends a copy
    return held


@pytest.fixture
def renders(app: Flask) -> Iterator[list[str]]:
    """The names of the show pages rendered (Flask's template_rendered signal)."""
    seen: list[str] = []

    def note(_app: Flask, template: Any, context: dict[str, Any], **_: Any) -> None:
        if template.name == "shop/show.html":
            seen.append(template.name)

    template_rendered.connect(note, app)
    yield seen
    template_rendered.disconnect(note, app)


def page_of(http: FlaskClient, room: Room, query: str = "") -> tuple[str, str, str]:
    """The page, its CSRF token and the nonce its CSP header allows."""
    response = http.get(f"/b/{room.brand.slug}/shows/{room.show.id}{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html)
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])
    assert token and nonce, "no token or no nonce"
    return html, token.group(1), nonce.group(1)


def test_new_browsers_share_one_render_each_with_its_own_token_and_nonce(
    app: Flask, room: Room, snapshots: RoomSnapshots, renders: list[str]
) -> None:
    app.config["WTF_CSRF_ENABLED"] = True  # as in production: the tokens are checked
    first, second = app.test_client(), app.test_client()
    html_1, token_1, nonce_1 = page_of(first, room)
    html_2, token_2, nonce_2 = page_of(second, room)
    assert renders == ["shop/show.html"]  # the second browser's page was the copy
    assert token_1 != token_2 and nonce_1 != nonce_2
    for html, nonce in ((html_1, nonce_1), (html_2, nonce_2)):
        assert TOKEN_STANDIN not in html and NONCE_STANDIN not in html
        assert f'nonce="{nonce}"' in html  # the style the CSP header allows
    # Each token is its own browser's: it passes CSRF there and nowhere else.
    body = {"variant_id": room.variant.id, "quantity": 1, "live_session_id": room.id}
    stolen = first.post("/api/bag/lines", json=body, headers={"X-CSRFToken": token_2})
    assert stolen.status_code == 400, stolen.get_json()
    own = first.post("/api/bag/lines", json=body, headers={"X-CSRFToken": token_1})
    assert own.status_code == 201, own.get_json()


def test_a_push_drops_the_copy_and_a_browser_with_a_session_gets_its_own_page(
    app: Flask, room: Room, snapshots: RoomSnapshots, renders: list[str]
) -> None:
    assert "5 in stock" in page_of(app.test_client(), room)[0]
    shopper = app.test_client()
    page_of(shopper, room)  # the copy; now a browser with a session (its CSRF token)
    assert len(renders) == 1
    # It takes a unit: the room is told (stock), so the copy goes for everyone.
    body = {"variant_id": room.variant.id, "quantity": 1, "live_session_id": room.id}
    assert shopper.post("/api/bag/lines", json=body).status_code == 201
    fresh = page_of(app.test_client(), room)[0]
    assert len(renders) == 2 and "4 in stock" in fresh
    assert "data-bag-count-text>0<" in fresh  # a new browser's bag is empty
    again = page_of(app.test_client(), room)[0]
    assert len(renders) == 2 and "4 in stock" in again  # the new copy, kept
    # The shopper brings a session: its page is rendered for it, with its bag.
    mine = page_of(shopper, room)[0]
    assert len(renders) == 3 and "data-bag-count-text>1<" in mine


def test_each_language_and_staff_get_their_own_page(
    app: Flask, room: Room, snapshots: RoomSnapshots, renders: list[str]
) -> None:
    english = page_of(app.test_client(), room)[0]
    french = page_of(app.test_client(), room, "?lang=fr")[0]
    assert len(renders) == 2 and english != french
    host = app.test_client()
    login(host, room.host_user.email)
    staff_page = page_of(host, room)[0]
    assert len(renders) == 3 and room.host.display_name in staff_page


def test_a_render_that_writes_to_the_session_is_not_kept(app: Flask) -> None:
    from flask import session

    def render() -> str:
        session["noted"] = 1  # what a template must never do for the shared copy
        return "page"

    with app.test_request_context("/"):
        assert _rendered_with_standins(render) is None
