"""Live means pushed: what the waiting screens and the console used to poll for arrives
over Socket.IO, on a real web node with real clients (its scheduler running).

- the talk-now queue: each waiting shopper's place and wait (`queue_position`) whenever
  the queue moves, the brand's waiting count (`queue_waiting`) to its consoles;
- an offer nobody answered in time: withdrawn from the associate, the shopper told;
- "Show me on camera" unanswered in time: lapsed (`video_request`, status expired) to both.

The tests put a deadline in the past in the database (the clock, not the behaviour): the
node's own scheduler then lapses it and pushes.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import update
from sqlmodel import Session, col

from sessions.clock import utcnow
from sessions.db import create_all, make_engine
from sessions.models import QueueRequest, VideoRequest
from tests.factories import Factory
from tests.rooms.live_clients import RoomClient, csrf_token, staff_http
from tests.servers import WebServer

PUSHED = (
    "queue_position",
    "queue_waiting",
    "queue_offer",
    "queue_offer_withdrawn",
    "queue_accepted",
    "thread_changed",
    "video_request",
)
# The scheduler's queue job, often: a lapse is pushed within a tick.
NODE_ENV = {"QUEUE_TICK_SECONDS": "1", "QUEUE_ACCEPT_SECONDS": "30"}


class Client(RoomClient):
    EVENTS = (*RoomClient.EVENTS, *PUSHED)  # type: ignore[assignment]

    def until(self, match: Callable[[str, Any], bool], timeout: float = 30) -> Any:
        """The first event for which `match(name, data)` holds (others are skipped)."""
        got: list[tuple[str, Any]] = []
        while True:
            try:
                name, data = self.events.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"the awaited event never arrived; got {got}") from None
            got.append((name, data))
            if match(name, data):
                return data


def connect(base: str, http: requests.Session) -> Client:
    client = Client(base, http)
    client.connect()
    return client


def shopper(base: str) -> requests.Session:
    http = requests.Session()
    http.headers["X-CSRFToken"] = csrf_token(http, base)
    return http


def named(kind: str, **fields: Any) -> Callable[[str, Any], bool]:
    return lambda name, data: name == kind and all(data.get(k) == v for k, v in fields.items())


@dataclass
class World:
    engine: Any
    brand_id: int
    anna_id: int
    anna_email: str


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    engine = make_engine(database_url)
    create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        factory = Factory(session)
        brand = factory.brand()
        anna = factory.associate(brand, factory.store(brand), name="Anna")
        anna.max_parallel_chats = 1  # one at a time: a second shopper waits in line
        session.add(anna)
        session.commit()
        email = factory.user_of(anna).email
        assert brand.id and anna.id
        yield World(engine, brand.id, anna.id, email)
    engine.dispose()


def online(base: str, staff: requests.Session, console: Client, anna_id: int) -> None:
    assert console.call("console_heartbeat", {})["ok"]
    answer = staff.put(
        f"{base}/api/associates/{anna_id}/status", json={"status": "online"}, timeout=10
    )
    assert answer.status_code == 200, answer.text


def enqueue(http: requests.Session, base: str, brand_id: int) -> dict[str, Any]:
    answer = http.post(f"{base}/api/brands/{brand_id}/queue", json={"mode": "chat"}, timeout=10)
    assert answer.status_code in (200, 201), answer.text
    out: dict[str, Any] = answer.json()
    return out


def backdate(world: World, model: Any, column: Any, row_id: int, seconds: int) -> None:
    with Session(world.engine) as session:
        session.exec(  # type: ignore[call-overload]
            update(model)
            .where(col(model.id) == row_id)
            .values({column: utcnow() - timedelta(seconds=seconds)})
        )
        session.commit()


@pytest.mark.slow
def test_the_queue_is_pushed_to_its_shoppers_and_the_console(
    database_url: str, tmp_path: Path, world: World
) -> None:
    with WebServer(database_url, tmp_path, env=NODE_ENV) as server:
        base = server.url
        staff = staff_http(base, world.anna_email)
        anna = connect(base, staff)
        clients = [anna]
        try:
            online(base, staff, anna, world.anna_id)
            # Camille asks first: offered to Anna at once; the console's count is pushed.
            camille = shopper(base)
            first = enqueue(camille, base, world.brand_id)
            assert first["status"] == "offered"
            anna.until(named("queue_offer", request_id=first["id"]))
            anna.until(named("queue_waiting", brand_id=world.brand_id, waiting=1))

            # Dora asks next: Anna is full, Dora waits second; her socket hears the queue.
            dora = shopper(base)
            second = enqueue(dora, base, world.brand_id)
            assert (second["status"], second["position"]) == ("waiting", 2)
            assert second["estimated_wait_seconds"] > 0  # nobody has a free place
            anna.until(named("queue_waiting", waiting=2))
            dora_io = connect(base, dora)
            clients.append(dora_io)

            # Camille leaves: Dora moves up (pushed), then the tick offers her to Anna.
            left = camille.delete(f"{base}/api/queue/{first['id']}", timeout=10)
            assert left.status_code in (200, 204), left.text
            moved = dora_io.until(named("queue_position", request_id=second["id"]))
            assert moved["position"] == 1
            anna.until(named("queue_waiting", waiting=1))
            anna.until(named("queue_offer", request_id=second["id"]))
            if moved["status"] != "offered":  # (the tick may have offered her already)
                dora_io.until(named("queue_position", request_id=second["id"], status="offered"))

            # Anna lets the offer lapse: withdrawn from her console; she is the only one
            # free, so it goes round to her again; Dora is told where she is.
            _drain(dora_io)
            backdate(world, QueueRequest, "offered_at", second["id"], 120)
            anna.until(named("queue_offer_withdrawn", request_id=second["id"]))
            anna.until(named("queue_offer", request_id=second["id"]))
            again = dora_io.until(named("queue_position", request_id=second["id"]))
            assert again["position"] == 1

            # What a reconnecting page reads once agrees with what was pushed.
            state = dora.get(f"{base}/api/queue/{second['id']}", timeout=10).json()
            assert (state["status"], state["position"]) == (again["status"], 1)

            # Nothing of Dora's queue reaches another shopper.
            eve_io = connect(base, shopper(base))
            clients.append(eve_io)
            left = dora.delete(f"{base}/api/queue/{second['id']}", timeout=10)
            assert left.status_code in (200, 204)
            anna.until(named("queue_waiting", waiting=0))
            assert not [n for n, _ in _drain(eve_io) if n.startswith("queue_")]
        finally:
            for each in clients:
                each.close()


def _drain(client: Client) -> list[tuple[str, Any]]:
    got = []
    while True:
        try:
            got.append(client.events.get_nowait())
        except queue.Empty:
            return got


@pytest.mark.slow
def test_an_unanswered_video_request_lapses_on_both_sides(
    database_url: str, tmp_path: Path, world: World
) -> None:
    with WebServer(database_url, tmp_path, env=NODE_ENV) as server:
        base = server.url
        staff = staff_http(base, world.anna_email)
        anna = connect(base, staff)
        clients = [anna]
        try:
            online(base, staff, anna, world.anna_id)
            camille = shopper(base)
            asked = camille.post(
                f"{base}/api/brands/{world.brand_id}/thread",
                json={"body": "Can you show me the blue one?"},
                timeout=10,
            )
            assert asked.status_code == 201, asked.text
            thread_id = asked.json()["thread"]["id"]
            taken = staff.post(f"{base}/api/threads/{thread_id}/accept", timeout=10)
            assert taken.status_code == 200, taken.text
            camille_io = connect(base, camille)
            clients.append(camille_io)

            video = camille.post(f"{base}/api/threads/{thread_id}/video", timeout=10)
            assert video.status_code == 201, video.text
            request_id = video.json()["id"]
            match = lambda n, d: n == "video_request" and d["request"]["id"] == request_id  # noqa: E731
            anna.until(match)

            backdate(world, VideoRequest, "expires_at", request_id, 1)
            for side in (anna, camille_io):
                lapsed = side.until(
                    lambda n, d: match(n, d) and d["request"]["status"] == "expired"
                )
                assert lapsed["request"]["asked_by"] == "shopper"
            # Lapsed once: the reloaded page has no open request, a new ask is possible.
            state = camille.get(f"{base}/api/threads/{thread_id}/video", timeout=10).json()
            assert state["request"] is None
            assert camille.post(f"{base}/api/threads/{thread_id}/video", timeout=10).ok
        finally:
            for each in clients:
                each.close()
