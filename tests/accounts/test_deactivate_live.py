"""Deactivation ends a live socket on every node: a real Socket.IO client, signed in as an
associate and hosting on node B, is closed by the server when their admin deactivates
them on node A (the managers' room disconnect, through Redis); their cookie then
connects as nobody in particular and sign-in is refused; reactivated, they sign in and
host again."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlmodel import Session

from sessions.db import make_engine
from sessions.shows import lifecycle
from tests.factories import OPERATOR, Factory
from tests.rooms.live_clients import RoomClient, csrf_token, staff_http
from tests.schema import install_schema
from tests.servers import WebServer

REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class Team:
    live_id: int
    admin_email: str
    host_email: str
    host_user_id: int


@pytest.fixture
def team(database_url: str) -> Iterator[Team]:
    engine = make_engine(database_url)
    install_schema(engine)
    with Session(engine, expire_on_commit=False) as session:
        factory = Factory(session)
        brand = factory.brand()
        host = factory.associate(brand)
        show = factory.show(brand, host_ids=[host.id], product_ids=[factory.product(brand).id])
        live = lifecycle.do_start_show(session, OPERATOR, show)
        admin = factory.admin(brand)
        user = factory.user_of(host)
        session.commit()
        assert live.id is not None and user.id is not None
        yield Team(live.id, admin.email, user.email, user.id)
    engine.dispose()


class _Watched(RoomClient):
    """A real Socket.IO client that notices when the server closes it."""

    def __init__(self, base: str, http: requests.Session) -> None:
        super().__init__(base, http)
        self.closed = threading.Event()
        self.sio.on("disconnect", lambda *_: self.closed.set())


def _set_active(http: requests.Session, base: str, user_id: int, active: bool) -> None:
    response = http.post(
        f"{base}/admin/people/{user_id}/active",
        data={"active": "1" if active else "0", "csrf_token": csrf_token(http, base)},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text[:300]


@pytest.mark.slow
@pytest.mark.redis
def test_deactivation_on_one_node_closes_the_socket_on_another(
    database_url: str, tmp_path: Path, team: Team
) -> None:
    env = {"SOCKETIO_CHANNEL": f"test-{uuid.uuid4().hex[:10]}"}
    room = {"session_id": team.live_id}
    with (
        WebServer(database_url, tmp_path / "a", redis_url=REDIS_URL, env=env) as node_a,
        WebServer(
            database_url, tmp_path / "b", redis_url=REDIS_URL, env=env, create_schema=False
        ) as node_b,
    ):
        boss = staff_http(node_a.url, team.admin_email)
        worker = staff_http(node_b.url, team.host_email)
        old_cookie = dict(worker.cookies)
        socket = _Watched(node_b.url, worker).connect()
        try:
            assert socket.call("join", room)["role"] == "host"
            _set_active(boss, node_a.url, team.host_user_id, False)
            assert socket.closed.wait(timeout=15), "node B kept the deactivated socket open"
        finally:
            socket.close()

        again = _Watched(node_b.url, worker).connect()  # the same cookie, reconnecting
        try:
            assert again.call("join", room)["role"] == "viewer"  # no staff powers left
            refused = again.call("pin", {**room, "product_id": 1})
            assert refused["ok"] is False
        finally:
            again.close()
        whoami = worker.get(f"{node_b.url}/whoami", timeout=10).json()
        assert whoami["kind"] != "associate"
        fresh = requests.Session()
        token = csrf_token(fresh, node_b.url)
        refused_login = fresh.post(
            f"{node_b.url}/login",
            data={"email": team.host_email, "password": Factory.PASSWORD, "csrf_token": token},
            allow_redirects=False,
            timeout=10,
        )
        assert refused_login.status_code == 401

        _set_active(boss, node_a.url, team.host_user_id, True)
        worker.cookies.clear()
        worker.cookies.update(old_cookie)
        assert worker.get(f"{node_b.url}/whoami", timeout=10).json()["kind"] != "associate"
        back = staff_http(node_b.url, team.host_email)  # signs in again
        host = _Watched(node_b.url, back).connect()
        try:
            assert host.call("join", room)["role"] == "host"
        finally:
            host.close()
