"""A show's co-host over HTTP: the host invites (an associate, or a guest by a link),
the guest's link reads without changing anything and is accepted once by a POST, the
co-host gets a publish grant for the relay's co-host slot, and the host mutes and
removes them; every change is pushed to the room as a ``cohost`` event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from sessions.clock import travel
from sessions.events import Event
from sessions.grants import COHOST_SLOT, verify_grant
from sessions.models import ShowCohost, ShowStatus
from sessions.shows import lifecycle
from sessions.shows.cohost import hash_token
from tests.rooms.conftest import connect, received  # noqa: F401  (the fixture, reused)
from tests.security.consultation_world import changed_tables, snapshot
from tests.shows.conftest import Cast

S = ShowStatus
Connect = Callable[..., SocketIOTestClient]


def as_json(client: FlaskClient) -> FlaskClient:
    """The console's script asks for JSON, errors included."""
    client.environ_base["HTTP_ACCEPT"] = "application/json"
    return client


def path_of(url: str) -> str:
    return urlsplit(url).path


def invite_guest(client: FlaskClient, show_id: int, name: str = "Inès, stylist") -> dict[str, Any]:
    answer = client.post(f"/console/shows/{show_id}/cohost", json={"guest_name": name})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    body: dict[str, Any] = answer.get_json()
    return body


def token_of(link: str) -> str:
    return link.rsplit("/cohost/", 1)[1]


def cohost_events(events: list[Event]) -> list[dict[str, Any]]:
    return [e.data for e in events if e.kind == "cohost"]


def test_guest_link_accept_grant_mute_remove(
    app: Flask, cast: Cast, engine: Engine, events: list[Event]
) -> None:
    show = cast.show_in(S.LIVE)
    host = as_json(cast.client(app, "host"))
    invited = invite_guest(host, show.id or 0)
    assert invited["cohost"]["status"] == "invited" and invited["cohost"]["invited_as"] == "guest"
    token = token_of(invited["link"])
    # Only the token's hash is stored.
    row = cast.session.get(ShowCohost, invited["cohost"]["cohost_id"])
    assert row is not None and row.token_hash == hash_token(token) and token not in row.token_hash
    cast.session.commit()

    guest = as_json(app.test_client())
    before = snapshot(engine)
    page = guest.get(f"/cohost/{token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Inès, stylist" in html and show.title in html and 'id="accept"' in html
    assert changed_tables(before, snapshot(engine)) == [], "reading the link changed rows"

    accepted = guest.post(f"/cohost/{token}")
    assert accepted.status_code == 302
    stage_url = path_of(accepted.headers["Location"])
    assert guest.get(stage_url).status_code == 200
    cohost_id = invited["cohost"]["cohost_id"]

    # Single use: the same link, even in the same browser, opens nothing more.
    again = app.test_client().post(f"/cohost/{token}", headers={"Accept": "text/html"})
    assert again.status_code == 403 and "already been used" in again.get_data(as_text=True)
    assert app.test_client().get(stage_url).status_code == 403  # another browser

    grant = guest.post(f"/cohost/stage/{cohost_id}/grant")
    assert grant.status_code == 200, grant.get_data(as_text=True)
    claims = verify_grant("test-media-secret", grant.get_json()["grant"])
    assert claims.role == "publish" and claims.slot == COHOST_SLOT
    assert claims.room == grant.get_json()["room"]

    assert guest.post(f"/cohost/stage/{cohost_id}/on-air", json={"on_air": True}).status_code == 200
    muted = host.post(f"/console/cohosts/{cohost_id}/mute", json={"muted": True})
    assert muted.status_code == 200 and muted.get_json()["cohost"]["muted"] is True
    removed = host.post(f"/console/cohosts/{cohost_id}/remove")
    assert removed.status_code == 200
    assert removed.get_json()["cohost"] == removed.get_json()["cohost"] | {
        "status": "removed",
        "on_air": False,
    }

    # Removed: no grant, no page, no way back with the link.
    refused = guest.post(f"/cohost/stage/{cohost_id}/grant")
    assert refused.status_code == 403 and refused.get_json()["error"] == "cohost_removed"
    assert guest.post(f"/cohost/{token}").status_code == 403

    states = [(e["status"], e["on_air"], e["muted"]) for e in cohost_events(events)]
    assert states == [
        ("invited", False, False),
        ("accepted", False, False),
        ("accepted", True, False),
        ("accepted", True, True),
        ("removed", False, True),
    ]


def test_an_associate_cohost_signs_in_and_one_cohost_at_a_time(app: Flask, cast: Cast) -> None:
    show = cast.show_in(S.LIVE)
    admin = as_json(cast.client(app, "admin"))
    answer = admin.post(
        f"/console/shows/{show.id}/cohost", json={"associate_id": cast.colleague.id}
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)
    cohost = answer.get_json()["cohost"]
    assert cohost["status"] == "accepted" and cohost["name"] == "Hugo"
    stage = path_of(answer.get_json()["link"])
    assert stage.endswith(f"/cohost/stage/{cohost['cohost_id']}")

    colleague = as_json(cast.client(app, "colleague"))
    assert colleague.get(stage).status_code == 200
    assert colleague.post(f"/cohost/stage/{cohost['cohost_id']}/grant").status_code == 200
    # Anyone else, even the host, is not the co-host.
    not_them = cast.client(app, "host").post(f"/cohost/stage/{cohost['cohost_id']}/grant")
    assert not_them.status_code == 403
    assert app.test_client().get(stage).status_code == 401

    # At most one co-host beside the host.
    second = admin.post(f"/console/shows/{show.id}/cohost", json={"guest_name": "Someone"})
    assert second.status_code == 409 and second.get_json()["error"] == "cohost_taken"
    # A host cannot be their own co-host.
    assert admin.post(f"/console/cohosts/{cohost['cohost_id']}/remove").status_code == 200
    own = admin.post(f"/console/shows/{show.id}/cohost", json={"associate_id": cast.host.id})
    assert own.status_code == 422


def test_expired_link_and_bad_input_are_refused_in_words(app: Flask, cast: Cast) -> None:
    show = cast.show_in(S.SCHEDULED)
    host = as_json(cast.client(app, "host"))
    token = token_of(invite_guest(host, show.id or 0)["link"])
    with travel(timedelta(hours=25)):
        page = app.test_client().get(f"/cohost/{token}", headers={"Accept": "text/html"})
        assert page.status_code == 403 and "expired" in page.get_data(as_text=True)
        assert app.test_client().post(f"/cohost/{token}").status_code == 403
    assert app.test_client().get("/cohost/not-a-token").status_code == 404
    for body in ({"guest_name": ""}, {"guest_name": 7}, {"associate_id": "x"}, {}):
        refused = host.post(f"/console/shows/{show.id}/cohost", json=body)
        assert refused.status_code == 422, body
    assert host.post("/console/cohosts/999999/mute", json={"muted": True}).status_code == 404
    # Accepted before the show is on air: the page opens, the grant waits for the show.
    guest = as_json(app.test_client())
    accepted = guest.post(f"/cohost/{token}")
    assert accepted.status_code == 302
    cohost_id = int(accepted.headers["Location"].rsplit("/", 1)[1])
    waiting = guest.post(f"/cohost/stage/{cohost_id}/grant")
    assert waiting.status_code == 403 and waiting.get_json()["error"] == "not_live"
    muted = host.post(f"/console/cohosts/{cohost_id}/mute", json={"muted": "yes"})
    assert muted.status_code == 422


def test_an_ended_show_takes_no_cohost(app: Flask, cast: Cast) -> None:
    show = cast.show_in(S.ENDED)
    answer = as_json(cast.client(app, "host")).post(
        f"/console/shows/{show.id}/cohost", json={"guest_name": "Too late"}
    )
    assert answer.status_code == 409 and answer.get_json()["error"] == "show_over"


def test_an_invited_associate_is_told_on_their_console_until_removed(
    app: Flask,
    cast: Cast,
    connect: Connect,  # noqa: F811
) -> None:
    """Live means pushed: the associate's console socket hears the invitation (show, title,
    their co-host page) and its withdrawal; nobody else's does. Every console page lists
    the standing invitation too."""
    show = cast.show_in(S.SCHEDULED)
    colleague_console = connect(cast.emails["colleague"])
    host_console = connect(cast.emails["host"])
    host = as_json(cast.client(app, "host"))
    answer = host.post(f"/console/shows/{show.id}/cohost", json={"associate_id": cast.colleague.id})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    cohost_id = answer.get_json()["cohost"]["cohost_id"]

    told = received(colleague_console, "cohost_invitation")
    assert told == [
        {
            "show_id": show.id,
            "cohost_id": cohost_id,
            "title": "The autumn edit",
            "url": f"/cohost/stage/{cohost_id}",
        }
    ]
    assert received(host_console, "cohost_invitation") == []
    colleague = cast.client(app, "colleague")
    assert colleague.get(told[0]["url"]).status_code == 200  # the link opens their page
    for page in ("/console/", "/console/inbox", "/console/settings"):
        html = colleague.get(page).get_data(as_text=True)
        assert f'data-cohost-id="{cohost_id}"' in html and "Join as co-host" in html, page
    assert "Join as co-host" not in cast.client(app, "host").get("/console/").get_data(as_text=True)

    assert host.post(f"/console/cohosts/{cohost_id}/remove").status_code == 200
    assert received(colleague_console, "cohost_invitation_withdrawn") == [
        {"show_id": show.id, "cohost_id": cohost_id}
    ]
    assert f'data-cohost-id="{cohost_id}"' not in colleague.get("/console/").get_data(as_text=True)
    # A guest's invitation tells no associate.
    invite_guest(host, show.id or 0)
    assert received(colleague_console, "cohost_invitation") == []


@pytest.mark.parametrize("over", ["cancel", "end"])
def test_a_show_over_takes_the_invitation_off_the_associates_console(
    app: Flask,
    cast: Cast,
    connect: Connect,  # noqa: F811
    over: str,
) -> None:
    show = cast.show_in(S.SCHEDULED if over == "cancel" else S.LIVE)
    colleague_console = connect(cast.emails["colleague"])
    host = as_json(cast.client(app, "host"))
    answer = host.post(f"/console/shows/{show.id}/cohost", json={"associate_id": cast.colleague.id})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    cohost_id = answer.get_json()["cohost"]["cohost_id"]
    assert [t["cohost_id"] for t in received(colleague_console, "cohost_invitation")] == [cohost_id]

    if over == "cancel":
        lifecycle.do_cancel_show(cast.session, cast.actors["admin"], show)
    else:
        lifecycle.do_end_show(cast.session, cast.actors["host"], show)
    assert received(colleague_console, "cohost_invitation_withdrawn") == [
        {"show_id": show.id, "cohost_id": cohost_id}
    ]
    colleague = cast.client(app, "colleague")
    assert f'data-cohost-id="{cohost_id}"' not in colleague.get("/console/").get_data(as_text=True)


def test_the_cohost_page_is_not_counted_among_the_viewers(
    app: Flask,
    cast: Cast,
    connect: Connect,  # noqa: F811
) -> None:
    """The co-host's page joins the room as the co-host (hosts as hosts): the count is the
    real viewers, in the join's answer, the pushed presence and the session's API; the
    co-host's page still hears the room (the ``cohost`` event, the show's state)."""
    show = cast.show_in(S.LIVE)
    live = lifecycle.live_session_for_show(cast.session, show)
    cast.session.commit()
    room = {"session_id": live.id}
    host_http = as_json(cast.client(app, "host"))
    token = token_of(invite_guest(host_http, show.id or 0)["link"])
    guest_http = app.test_client()
    assert guest_http.post(f"/cohost/{token}").status_code == 302
    cohost_id = cast.session.exec(select(ShowCohost.id).where(ShowCohost.show_id == show.id)).one()
    cast.session.commit()  # end the read: on SQLite it would hold the write lock

    stage = connect(http=guest_http)
    on_stage = stage.emit("join", room, callback=True)
    assert on_stage["ok"] and on_stage["role"] == "cohost", on_stage
    assert on_stage["state"]["viewers"] == 0
    assert on_stage["state"]["cohost"]["cohost_id"] == cohost_id

    host = connect(cast.emails["host"])
    assert host.emit("join", room, callback=True)["role"] == "host"
    viewers = [connect() for _ in range(2)]
    for viewer in viewers:
        ack = viewer.emit("join", room, callback=True)
        assert ack["ok"] and ack["role"] == "viewer", ack
    assert ack["state"]["viewers"] == 2
    assert received(host, "presence")[-1] == {"viewers": 2}
    assert received(stage, "presence")[-1] == {"viewers": 2}
    assert host_http.get(f"/api/live-sessions/{live.id}").get_json()["viewers"] == 2

    # The page hears what the host decides, as before.
    assert (
        host_http.post(f"/console/cohosts/{cohost_id}/mute", json={"muted": True}).status_code
        == 200
    )
    assert received(stage, "cohost")[-1]["muted"] is True

    viewers[0].disconnect()
    assert received(host, "presence")[-1] == {"viewers": 1}
    stage.disconnect()  # the co-host leaving changes no count
    assert received(host, "presence")[-1] == {"viewers": 1}
