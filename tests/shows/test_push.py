"""Viewers learn by push that the show started, ended or was cancelled: each move
publishes ``show_state`` to the show's room, and real Socket.IO clients in that room (a
guest viewer and the host's console) receive it; a socket in another show's room does not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask_socketio import SocketIOTestClient

from sessions.models import Show, ShowStatus
from sessions.shows import lifecycle
from tests.rooms.conftest import connect, received  # noqa: F401  (the fixture, reused)
from tests.shows.conftest import Cast

Connect = Callable[..., SocketIOTestClient]


def viewer(connect: Connect, app: Flask, live_id: int) -> SocketIOTestClient:  # noqa: F811
    http = app.test_client()
    assert http.get(f"/api/live-sessions/{live_id}").status_code == 200  # the guest cookie
    sio = connect(http=http)
    ack = sio.emit("join", {"session_id": live_id}, callback=True)
    assert isinstance(ack, dict) and ack.get("ok") is not False, ack
    return sio


def room_of(cast: Cast, show: Show) -> int:
    live = lifecycle.live_session_for_show(cast.session, show)
    cast.session.commit()
    assert live.id is not None
    return live.id


def states(sio: SocketIOTestClient) -> list[Any]:
    return received(sio, "show_state")


def test_viewers_are_told_the_show_started_then_ended(
    cast: Cast,
    app: Flask,
    connect: Connect,  # noqa: F811
) -> None:
    show, other = cast.show_in(ShowStatus.SCHEDULED), cast.show_in(ShowStatus.SCHEDULED)
    watching = viewer(connect, app, room_of(cast, show))
    elsewhere = viewer(connect, app, room_of(cast, other))
    console = connect(cast.emails["host"])
    ack = console.emit("join", {"session_id": room_of(cast, show)}, callback=True)
    assert isinstance(ack, dict)
    host = cast.client(app, "host")

    assert host.post(f"/api/shows/{show.id}/start").status_code == 200
    assert states(watching) == [{"show_id": show.id, "status": "live"}]
    assert states(console) == [{"show_id": show.id, "status": "live"}]
    assert host.post(f"/api/shows/{show.id}/end").status_code == 200
    assert states(watching) == [{"show_id": show.id, "status": "ended"}]
    assert states(elsewhere) == []


def test_viewers_of_an_upcoming_show_are_told_it_was_cancelled(
    cast: Cast,
    app: Flask,
    connect: Connect,  # noqa: F811
) -> None:
    show = cast.show_in(ShowStatus.SCHEDULED)
    watching = viewer(connect, app, room_of(cast, show))
    admin = cast.client(app, "admin")
    assert admin.post(f"/api/shows/{show.id}/cancel").status_code == 200
    assert states(watching) == [{"show_id": show.id, "status": "cancelled"}]
    refused = admin.post(f"/api/shows/{show.id}/cancel")
    assert refused.status_code == 409
    assert states(watching) == []  # a refused move tells nobody anything
