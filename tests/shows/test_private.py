"""Private shows (sessions/shows/private.py): the brand's admin sets an access code; the show
leaves the brand's lists, and its page, state, socket room and media grant are refused —
by the one gate, sessions.access.can_join — to anyone but the brand's staff and whoever
entered the code (kept in the signed session). On SQLite, and on PostgreSQL with
TEST_DATABASE_URL."""

from __future__ import annotations

import dataclasses

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient

from sessions.access import access_join, can_join, can_list_show
from sessions.errors import Forbidden, InvalidInput, TooManyRequests
from sessions.models import ShowStatus
from sessions.shows import lifecycle, private
from tests.conftest import csrf_token_from
from tests.rooms.conftest import connect  # noqa: F401  (the fixture, reused)
from tests.shows.conftest import Cast
from tests.shows.test_push import room_of

CODE = "VIP-aurele-2026"


def private_show(cast: Cast, status: ShowStatus = ShowStatus.LIVE):  # type: ignore[no-untyped-def]
    show = cast.show_in(status, title="The VIP preview")
    private.do_set_show_private(cast.session, cast.actors["admin"], show, CODE)
    return show


def enter_code(app: Flask, cast: Cast, show, code: str, http: FlaskClient | None = None):  # type: ignore[no-untyped-def]
    http = http or app.test_client()
    page = http.get(f"/b/{cast.brand.slug}/shows/{show.id}")
    assert page.status_code == 403 and b"Access code" in page.data
    token = csrf_token_from(page.get_data(as_text=True))
    answer = http.post(
        f"/b/{cast.brand.slug}/shows/{show.id}/code", data={"code": code, "csrf_token": token}
    )
    return http, answer


def test_the_code_is_hashed_and_only_the_brand_admin_sets_it(cast: Cast) -> None:
    show = private_show(cast)
    assert show.private and CODE not in (show.access_code_hash or "")
    live = lifecycle.live_session_for_show(cast.session, show)
    assert live.private
    for who in ("host", "colleague", "other_admin", "shopper", "anonymous"):
        with pytest.raises(Exception) as refused:
            private.do_set_show_private(cast.session, cast.actors[who], show, None)
        assert getattr(refused.value, "status", None) in (401, 403), who
    with pytest.raises(InvalidInput):
        private.do_set_show_private(cast.session, cast.actors["admin"], show, "abc")
    cast.session.rollback()
    private.do_set_show_private(cast.session, cast.actors["admin"], show, None)
    assert not show.private and not lifecycle.live_session_for_show(cast.session, show).private


def test_the_gate_lets_staff_and_code_holders_in_and_no_one_else(cast: Cast) -> None:
    show = private_show(cast)
    live = lifecycle.live_session_for_show(cast.session, show)
    for who in ("host", "colleague", "admin", "platform"):
        assert can_join(cast.actors[who], live), who
        assert can_list_show(cast.actors[who], show), who
    for who in ("shopper", "anonymous", "other_admin"):
        assert not can_join(cast.actors[who], live), who
        assert not can_list_show(cast.actors[who], show), who
        with pytest.raises(Forbidden) as refused:
            access_join(cast.actors[who], live)
        assert refused.value.code == "private_show" and "access code" in refused.value.message
    passed = dataclasses.replace(cast.actors["shopper"], show_passes=frozenset({show.id or 0}))
    assert can_join(passed, live)
    other = cast.show_in(ShowStatus.LIVE)  # a pass is for one show; public shows stay public
    assert can_join(cast.actors["anonymous"], lifecycle.live_session_for_show(cast.session, other))
    with pytest.raises(Forbidden):
        private.check_access_code(show, "wrong-code", client="1.2.3.4")
    private.check_access_code(show, f"  {CODE} ", client="1.2.3.4")


def test_wrong_codes_are_rate_limited(cast: Cast) -> None:
    show = private_show(cast)
    for _ in range(5):
        with pytest.raises(Forbidden):
            private.check_access_code(show, "guess", client="9.9.9.9")
    with pytest.raises(TooManyRequests):
        private.check_access_code(show, CODE, client="9.9.9.9")
    private.check_access_code(show, CODE, client="8.8.8.8")  # another client's own budget


def test_the_page_asks_for_the_code_then_opens(app: Flask, cast: Cast) -> None:
    show = private_show(cast)
    live_id = room_of(cast, show)
    http, wrong = enter_code(app, cast, show, "not-it")
    assert wrong.status_code == 403 and b"not this show" in wrong.data
    assert http.get(f"/api/live-sessions/{live_id}").status_code == 403
    http, right = enter_code(app, cast, show, CODE, http)
    assert right.status_code == 302
    page = http.get(f"/b/{cast.brand.slug}/shows/{show.id}")
    assert page.status_code == 200 and b"show-root" in page.data
    assert http.get(f"/api/live-sessions/{live_id}").status_code == 200
    grant = http.post(f"/api/live-sessions/{live_id}/media-grant", json={"role": "view"})
    assert grant.status_code == 200, grant.json


def test_staff_pass_and_the_brand_pages_do_not_list_it(app: Flask, cast: Cast) -> None:
    show = private_show(cast, ShowStatus.SCHEDULED)
    public = cast.show_in(ShowStatus.SCHEDULED, title="The open rehearsal")
    staff = cast.client(app, "colleague")
    assert staff.get(f"/b/{cast.brand.slug}/shows/{show.id}").status_code == 200
    home = app.test_client().get(f"/b/{cast.brand.slug}").get_data(as_text=True)
    assert "The open rehearsal" in home and "The VIP preview" not in home
    listed = app.test_client().get(f"/api/brands/{cast.brand.id}/shows").json
    assert [s["id"] for s in listed] == [public.id]
    assert show.id in [s["id"] for s in staff.get(f"/api/brands/{cast.brand.id}/shows").json]
    reminder = app.test_client().post(
        f"/api/shows/{show.id}/reminders", json={"email": "c@example.com"}
    )
    assert reminder.status_code == 403


def test_api_media_and_socket_join_are_refused_without_the_code(
    app: Flask,
    cast: Cast,
    connect,  # noqa: F811
) -> None:
    show = private_show(cast)
    live_id = room_of(cast, show)
    http = app.test_client()
    state = http.get(f"/api/live-sessions/{live_id}")
    assert state.status_code == 403 and state.json["error"] == "private_show"
    assert http.get(f"/api/live-sessions/{live_id}/messages").status_code == 403
    grant = http.post(f"/api/live-sessions/{live_id}/media-grant", json={"role": "view"})
    assert grant.status_code == 403
    sio: SocketIOTestClient = connect(http=http)
    ack = sio.emit("join", {"session_id": live_id}, callback=True)
    assert isinstance(ack, dict) and ack.get("ok") is False, ack
    assert "access code" in str(ack)
    # With the code entered, the same browser's socket joins.
    invited, _ = enter_code(app, cast, show, CODE)
    sio2: SocketIOTestClient = connect(http=invited)
    joined = sio2.emit("join", {"session_id": live_id}, callback=True)
    assert isinstance(joined, dict) and joined.get("ok") is not False, joined
    staff = connect(email=cast.emails["colleague"])
    ack = staff.emit("join", {"session_id": live_id}, callback=True)
    assert isinstance(ack, dict) and ack.get("ok") is not False, ack
