"""Personal links to a private show (sessions/shows/invitees.py), against a real SMTP
server (aiosmtpd): the brand's admin invites (a pasted CSV; a bad line refused with its
number), each invitee is e-mailed their own link (its token stored hashed only); the
link's page changes nothing, its button takes a pass (logged, on several devices); the
socket of a pass joining the live show marks "watched"; the admin's list says who was
invited, opened and watched; revoking ends the link and the passes taken with it. On
SQLite, and on PostgreSQL with TEST_DATABASE_URL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from sessions.errors import Conflict, InvalidInput
from sessions.models import ShowInvitee, ShowInviteeUse, ShowStatus
from sessions.shows import invitees, private
from tests.booking.conftest import SmtpServer
from tests.conftest import app_config, csrf_token_from, running_app
from tests.rooms.conftest import connect  # noqa: F401  (the fixture, reused)
from tests.security.consultation_world import changed_tables, snapshot
from tests.shows.conftest import Cast
from tests.shows.test_push import room_of

PUBLIC = "http://shop.test"
PASTE = "name,email\nCamille Aubert, camille@example.com\nInès Roy <INES@example.com>\n"


@pytest.fixture
def app(database_url: str, tmp_path: Path, smtp: SmtpServer) -> Iterator[Flask]:
    config = app_config(database_url, tmp_path, PUBLIC_URL=PUBLIC, **smtp.config)
    with running_app(config) as made:
        yield made


def test_a_paste_is_read_line_by_line() -> None:
    assert invitees.parse_invitees(PASTE + "hugo@example.com\ncamille@example.com") == [
        ("Camille Aubert", "camille@example.com"),
        ("Inès Roy", "ines@example.com"),
        ("hugo", "hugo@example.com"),
    ]
    with pytest.raises(InvalidInput) as refused:
        invitees.parse_invitees("Camille, camille@example.com\nInès, ines-at-example")
    assert "Line 2" in refused.value.message and "ines-at-example" in refused.value.message
    with pytest.raises(InvalidInput):
        invitees.parse_invitees("  \n")


def invite_on_the_admin_page(app: Flask, cast: Cast, show_id: int, text: str):  # type: ignore[no-untyped-def]
    admin = cast.client(app, "admin")
    page = admin.get(f"/admin/shows/{show_id}")
    token = csrf_token_from(page.get_data(as_text=True))
    answer = admin.post(
        f"/admin/shows/{show_id}/invitees", data={"invitees": text, "csrf_token": token}
    )
    return admin, answer


def take_pass(app: Flask, link: str, agent: str) -> FlaskClient:
    browser = app.test_client()
    page = browser.get(link, headers={"User-Agent": agent})
    assert page.status_code == 200 and "Open the show" in page.get_data(as_text=True)
    answer = browser.post(
        link,
        data={"csrf_token": csrf_token_from(page.get_data(as_text=True))},
        headers={"User-Agent": agent},
    )
    assert answer.status_code == 302
    return browser


def test_invite_mail_open_on_two_devices_watch_and_revoke(
    app: Flask,
    cast: Cast,
    smtp: SmtpServer,
    engine: Engine,
    connect,  # noqa: F811
) -> None:
    show = cast.show_in(ShowStatus.LIVE, title="The VIP preview")
    assert show.id is not None
    _, refused = invite_on_the_admin_page(app, cast, show.id, PASTE)  # a public show
    assert refused.status_code == 409 and "Make the show private first" in refused.get_data(
        as_text=True
    )
    private.do_set_show_private(cast.session, cast.actors["admin"], show, "vip-code-2026")
    _, bad = invite_on_the_admin_page(app, cast, show.id, "Camille, nope")
    assert bad.status_code == 422 and "Line 1" in bad.get_data(as_text=True)
    admin, done = invite_on_the_admin_page(app, cast, show.id, PASTE)
    assert done.status_code == 302

    mails = smtp.inbox.wait_for(2)
    assert sorted(str(m["To"]) for m in mails) == [
        "Camille Aubert <camille@example.com>",
        "Inès Roy <ines@example.com>",
    ]
    camille = next(m for m in mails if "camille" in str(m["To"]))
    assert camille["Subject"] == "Maison Aurèle invites you: The VIP preview"
    body = camille.get_content()
    found = re.search(r"http://shop\.test(/invitations/[\w-]+)", body)
    assert found, body
    link = found.group(1)
    rows = cast.session.exec(select(ShowInvitee)).all()
    cast.session.commit()
    assert len(rows) == 2 and all(r.mailed_at is not None for r in rows)
    assert link.rsplit("/", 1)[1] not in {r.token_hash for r in rows}  # kept hashed only
    assert invitees.token_hash(link.rsplit("/", 1)[1]) in {r.token_hash for r in rows}

    # Inviting again adds nobody and mails nobody twice.
    _, again = invite_on_the_admin_page(app, cast, show.id, PASTE)
    assert again.status_code == 302
    assert len(cast.session.exec(select(ShowInvitee)).all()) == 2
    cast.session.commit()

    # The link's page changes nothing; its button gives a pass, on a phone and a laptop.
    before = snapshot(engine)
    assert app.test_client().get(link).status_code == 200
    assert changed_tables(before, snapshot(engine)) == []
    page_url = f"/b/{cast.brand.slug}/shows/{show.id}"
    assert app.test_client().get(page_url).status_code == 403  # no pass: the code form
    phone = take_pass(app, link, "Phone/1.0")
    laptop = take_pass(app, link, "Laptop/1.0")
    assert phone.get(page_url).status_code == 200 and laptop.get(page_url).status_code == 200
    uses = cast.session.exec(select(ShowInviteeUse)).all()
    cast.session.commit()
    assert sorted(u.user_agent for u in uses) == ["Laptop/1.0", "Phone/1.0"]

    # The phone's socket joins the live show: watched.
    sio: SocketIOTestClient = connect(http=phone)
    joined = sio.emit("join", {"session_id": room_of(cast, show)}, callback=True)
    assert isinstance(joined, dict) and joined.get("ok") is not False, joined
    listed = admin.get(f"/api/shows/{show.id}/invitees").json["invitees"]
    mine = next(i for i in listed if i["email"] == "camille@example.com")
    other = next(i for i in listed if i["email"] == "ines@example.com")
    assert mine["passes"] == 2 and mine["opened_at"] and mine["watched_at"]
    assert other["passes"] == 0 and other["opened_at"] is None and other["watched_at"] is None
    page = admin.get(f"/admin/shows/{show.id}").get_data(as_text=True)
    assert "on 2 devices" in page and "not yet" in page

    # Revoked: the link answers 404, and the passes it gave stop at once.
    revoke = admin.post(
        f"/api/shows/{show.id}/invitees/{mine['id']}/revoke",
        headers={"X-CSRFToken": csrf_token_from(page)},
    )
    assert revoke.status_code == 200, revoke.json
    gone = app.test_client().get(link)
    assert gone.status_code == 404 and "not valid" in gone.get_data(as_text=True)
    assert phone.get(page_url).status_code == 403
    assert laptop.get(f"/api/live-sessions/{room_of(cast, show)}").status_code == 403


def test_only_the_brand_admin_invites(cast: Cast) -> None:
    show = cast.show_in(ShowStatus.SCHEDULED)
    private.do_set_show_private(cast.session, cast.actors["admin"], show, "vip-code-2026")
    rows = [("Camille", "camille@example.com")]
    for who in ("host", "colleague", "other_admin", "shopper", "anonymous"):
        with pytest.raises(Exception) as refused:
            invitees.do_invite(cast.session, cast.actors[who], show, rows)
        assert getattr(refused.value, "status", None) in (401, 403), who
    cast.session.rollback()
    made, already = invitees.do_invite(cast.session, cast.actors["admin"], show, rows)
    assert len(made) == 1 and already == 0
    over = cast.show_in(ShowStatus.CANCELLED)
    private.do_set_show_private(cast.session, cast.actors["admin"], over, "vip-code-2026")
    with pytest.raises(Conflict):
        invitees.do_invite(cast.session, cast.actors["admin"], over, rows)
