"""PostgreSQL restarts under a running web node: the requests in between get 503 with
Retry-After (never a 500), and the node serves again once the database is back, without
being restarted itself. The PostgreSQL is the test's own (tests/faults/instances.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlmodel import Session

from sessions.db import create_all, make_engine
from tests.conftest import csrf_token_from
from tests.factories import Factory
from tests.faults.instances import PG_BIN, PostgresInstance
from tests.rooms.live_clients import RoomClient
from tests.servers import WebServer

pytestmark = [
    pytest.mark.fault,
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(not (PG_BIN / "postgres").exists(), reason="no PostgreSQL server"),
]


@pytest.fixture
def postgres() -> Iterator[PostgresInstance]:
    instance = PostgresInstance().start()
    try:
        yield instance
    finally:
        instance.close()


def until(condition, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    """Ask again until `condition()` gives something (an HTTP answer: no event to await)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def test_requests_during_a_postgres_restart_get_503_and_the_node_recovers(
    postgres: PostgresInstance, tmp_path: Path
) -> None:
    engine = make_engine(postgres.url)
    create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        brand = Factory(session).brand(name="Maison Aurèle", slug="aurele")
        session.commit()
        brand_id = brand.id
    engine.dispose()

    with WebServer(postgres.url, tmp_path, create_schema=False, ready_timeout=90) as web:
        http = requests.Session()
        assert http.get(f"{web.url}/api/brands", timeout=10).status_code == 200
        page = http.get(f"{web.url}/b/aurele", timeout=10)
        assert page.status_code == 200
        http.headers["X-CSRFToken"] = csrf_token_from(page.text)
        socket = RoomClient(web.url, http).connect()

        postgres.stop()
        down = {
            "api": http.get(f"{web.url}/api/brands", timeout=15),
            "page": http.get(f"{web.url}/b/aurele", timeout=15),
            "action": http.post(f"{web.url}/api/bag/lines", json={"variant_id": 1}, timeout=15),
            "bag": http.get(f"{web.url}/api/bag?brand_id={brand_id}", timeout=15),
        }
        for what, response in down.items():
            assert response.status_code == 503, (what, response.status_code, response.text[:300])
            assert int(response.headers["Retry-After"]) > 0, what
        assert down["api"].json()["error"] == "database_unavailable"
        assert "text/html" in down["page"].headers["Content-Type"]  # a page for people
        # A socket's event says the same in its ack (the page tries again after the wait).
        joined = socket.sio.call("join", {"session_id": 1}, timeout=30)
        assert joined["ok"] is False and joined["error"] == "database_unavailable", joined
        assert joined["retry_after"] > 0 and joined["message"]
        socket.close()

        postgres.start()  # the same data folder and port: a restart
        back = until(
            lambda: (r := http.get(f"{web.url}/api/brands", timeout=10)).status_code == 200 and r
        )
        assert back, "the node did not recover after PostgreSQL came back"
        assert [b["slug"] for b in back.json()] == ["aurele"]
        assert http.get(f"{web.url}/b/aurele", timeout=10).status_code == 200
        assert web.proc is not None and web.proc.poll() is None  # the same process
