"""Sign-out, a password change and deactivation end every session and socket of that
staff member: copies of the cookie are refused, open sockets are closed and cannot act."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio import SocketIOTestClient
from sqlmodel import Session

from sessions.models import User
from tests.conftest import login
from tests.factories import Factory
from tests.rooms.conftest import Room, Seeded, join
from tests.rooms.live_clients import RoomClient, csrf_token, staff_http
from tests.servers import WebServer

REDIS_URL = "redis://127.0.0.1:6379/0"
COOKIE = "vitrine_session"
NEW_PASSWORD = "a-brand-new-passphrase"


def _kind(client: FlaskClient) -> str:
    return str(client.get("/whoami").get_json()["kind"])


def _stolen_copy(client: FlaskClient, victim: FlaskClient) -> FlaskClient:
    cookie = victim.get_cookie(COOKIE)
    assert cookie is not None
    client.set_cookie(COOKIE, cookie.value)
    return client


def test_sign_out_ends_every_copy_of_the_cookie(app: Flask, factory: Factory) -> None:
    admin = factory.admin(factory.brand())
    browser, other_device = app.test_client(), app.test_client()
    login(browser, admin.email)
    login(other_device, admin.email)
    thief = _stolen_copy(app.test_client(), browser)
    assert _kind(thief) == "brand_admin"

    assert browser.post("/logout").status_code == 302
    assert _kind(browser) == "anonymous"
    assert _kind(thief) == "anonymous"  # the copy no longer works
    assert _kind(other_device) == "anonymous"  # sign out is everywhere
    response = thief.get("/admin/people")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(browser, admin.email)  # signing in again works
    assert _kind(browser) == "brand_admin"


def test_password_change_ends_other_sessions_and_keeps_this_one(
    app: Flask, factory: Factory
) -> None:
    admin = factory.admin(factory.brand())
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, admin.email)
    login(phone, admin.email)
    assert laptop.get("/account/password").status_code == 200

    wrong = laptop.post(
        "/account/password", data={"current_password": "not-it-at-all", "password": NEW_PASSWORD}
    )
    assert wrong.status_code == 422
    assert _kind(phone) == "brand_admin"  # a refused change ends nothing
    short = laptop.post(
        "/account/password", data={"current_password": Factory.PASSWORD, "password": "short"}
    )
    assert short.status_code == 422

    changed = laptop.post(
        "/account/password", data={"current_password": Factory.PASSWORD, "password": NEW_PASSWORD}
    )
    assert changed.status_code == 302
    assert _kind(laptop) == "brand_admin"
    assert _kind(phone) == "anonymous"
    fresh = app.test_client()
    assert (
        fresh.post("/login", data={"email": admin.email, "password": Factory.PASSWORD}).status_code
        == 401
    )
    login(fresh, admin.email, NEW_PASSWORD)


def test_change_password_needs_a_signed_in_staff_member(client: FlaskClient) -> None:
    response = client.post(
        "/account/password", data={"current_password": "x", "password": NEW_PASSWORD}
    )
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_deactivation_ends_sessions_and_reactivation_lets_them_back(
    app: Flask, factory: Factory
) -> None:
    brand = factory.brand()
    admin = factory.admin(brand)
    associate = factory.user_of(factory.associate(brand))
    boss, worker = app.test_client(), app.test_client()
    login(boss, admin.email)
    login(worker, associate.email)
    assert _kind(worker) == "associate"

    url = f"/admin/people/{associate.id}/active"
    assert boss.post(url, data={"active": "0"}).status_code == 302
    assert _kind(worker) == "anonymous"
    assert (
        worker.post(
            "/login", data={"email": associate.email, "password": Factory.PASSWORD}
        ).status_code
        == 401
    )

    assert boss.post(url, data={"active": "1"}).status_code == 302
    login(worker, associate.email)
    assert _kind(worker) == "associate"


def test_only_the_brands_admin_may_deactivate_and_never_themself(
    app: Flask, factory: Factory
) -> None:
    brand, other = factory.brand(), factory.brand()
    admin = factory.admin(brand)
    associate = factory.user_of(factory.associate(brand))
    outsider, colleague = app.test_client(), app.test_client()
    login(outsider, factory.admin(other).email)
    login(colleague, associate.email)

    assert (
        outsider.post(f"/admin/people/{associate.id}/active", data={"active": "0"}).status_code
        == 404
    )
    assert (
        colleague.post(f"/admin/people/{admin.id}/active", data={"active": "0"}).status_code == 403
    )
    boss = app.test_client()
    login(boss, admin.email)
    assert boss.post(f"/admin/people/{admin.id}/active", data={"active": "0"}).status_code == 403
    assert _kind(colleague) == "associate" and _kind(boss) == "brand_admin"


def _pin(sio: SocketIOTestClient, room: Room) -> dict[str, object]:
    ack = sio.emit("pin", {"session_id": room.id, "product_id": room.product.id}, callback=True)
    assert isinstance(ack, dict)
    return ack


def _sign_out(app: Flask, factory: Factory, room: Room, host: SocketIOTestClient) -> None:
    assert host.http.post("/logout").status_code == 302  # type: ignore[attr-defined]


def _change_password(app: Flask, factory: Factory, room: Room, host: SocketIOTestClient) -> None:
    laptop = app.test_client()  # the host changes it from another device
    login(laptop, room.host_user.email)
    form = {"current_password": Factory.PASSWORD, "password": NEW_PASSWORD}
    assert laptop.post("/account/password", data=form).status_code == 302


def _deactivate(app: Flask, factory: Factory, room: Room, host: SocketIOTestClient) -> None:
    boss = app.test_client()
    login(boss, factory.admin(room.brand).email)
    url = f"/admin/people/{room.host_user.id}/active"
    assert boss.post(url, data={"active": "0"}).status_code == 302


@pytest.mark.parametrize("end", [_sign_out, _change_password, _deactivate])
def test_ending_sessions_closes_the_open_socket_and_the_cookie(
    app: Flask,
    factory: Factory,
    connect: Callable[..., SocketIOTestClient],
    room: Room,
    end: Callable[[Flask, Factory, Room, SocketIOTestClient], None],
) -> None:
    host = connect(room.host_user.email)
    thief = _stolen_copy(app.test_client(), host.http)  # type: ignore[attr-defined]
    assert join(host, room)["role"] == "host"
    assert _pin(host, room)["ok"]

    end(app, factory, room, host)
    assert not host.is_connected()  # closed by the server at once
    assert _kind(thief) == "anonymous"
    again = connect(http=thief)  # the old cookie connects as nobody in particular
    assert join(again, room)["role"] == "viewer"
    assert _pin(again, room)["ok"] is False


def test_a_socket_whose_sessions_ended_cannot_act_even_if_the_close_was_missed(
    connect: Callable[..., SocketIOTestClient],
    room: Room,
    session: Session,
) -> None:
    """The backstop: every event checks the session version, whatever reached this node."""
    host = connect(room.host_user.email)
    assert join(host, room)["role"] == "host"
    user = session.get(User, room.host_user.id)
    assert user is not None
    user.session_version += 1  # as another node's sign-out would, its close lost on the way
    session.add(user)
    session.commit()

    ack = _pin(host, room)
    assert ack["ok"] is False and ack["error"] == "session_ended"
    assert not host.is_connected()


class _Watched(RoomClient):
    """A real Socket.IO client that notices when the server closes it."""

    def __init__(self, base: str, http: requests.Session) -> None:
        super().__init__(base, http)
        self.closed = threading.Event()
        self.sio.on("disconnect", lambda *_: self.closed.set())


@pytest.mark.slow
@pytest.mark.redis
def test_sign_out_on_one_node_closes_the_socket_on_another(
    database_url: str,
    tmp_path: Path,
    seeded: Seeded,
) -> None:
    env = {"SOCKETIO_CHANNEL": f"test-{uuid.uuid4().hex[:10]}"}
    room_ = {"session_id": seeded.live_id}
    with (
        WebServer(database_url, tmp_path / "a", redis_url=REDIS_URL, env=env) as node_a,
        WebServer(
            database_url, tmp_path / "b", redis_url=REDIS_URL, env=env, create_schema=False
        ) as node_b,
    ):
        http = staff_http(node_a.url, seeded.host_email)
        old_cookie = dict(http.cookies)
        on_b = _Watched(node_b.url, http).connect()
        try:
            assert on_b.call("join", room_)["role"] == "host"
            token = csrf_token(http, node_a.url)
            signed_out = http.post(
                f"{node_a.url}/logout",
                data={"csrf_token": token},
                allow_redirects=False,
                timeout=10,
            )
            assert signed_out.status_code == 302
            assert on_b.closed.wait(timeout=15), "node B kept the signed-out socket open"

            # The old cookie, replayed to node B, is a stranger there: no host powers.
            http.cookies.clear()
            http.cookies.update(old_cookie)
            again = _Watched(node_b.url, http).connect()
            try:
                assert again.call("join", room_)["role"] == "viewer"
                refused = again.call("pin", {**room_, "product_id": 1})
                assert refused["ok"] is False and refused["error"] in (
                    "forbidden",
                    "not_authenticated",
                )
            finally:
                again.close()
        finally:
            on_b.close()
