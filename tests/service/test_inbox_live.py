"""Live delivery of threads on a real web node with real Socket.IO clients: a shopper's
message is pushed to the associate who holds the thread, and reaches no other associate,
no other brand and no other shopper.

What a client has not received by the time a later marker reaches it (events reach one
socket in the order they were sent) it was never sent.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlmodel import Session

from sessions.db import create_all, make_engine
from tests.factories import Factory
from tests.rooms.live_clients import RoomClient, csrf_token, staff_http
from tests.servers import WebServer

THREAD_EVENTS = (
    "thread_message",
    "thread_changed",
    "thread_typing",
    "thread_read",
    "thread_offer",
    "thread_offer_withdrawn",
)


class Console(RoomClient):
    EVENTS = (*RoomClient.EVENTS, *THREAD_EVENTS)  # type: ignore[assignment]

    def heard(self, until: Any, timeout: float = 20) -> list[tuple[str, Any]]:
        """Every thread event received until one for which `until(name, data)` holds."""
        got: list[tuple[str, Any]] = []
        while True:
            try:
                name, data = self.events.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"the awaited event never arrived; got {got}") from None
            got.append((name, data))
            if until(name, data):
                return got


def console(base: str, http: requests.Session) -> Console:
    client = Console(base, http)
    client.connect()
    return client


def body_is(text: str) -> Any:
    return lambda name, data: name == "thread_message" and data["message"]["body"] == text


@dataclass
class World:
    brand_a: int
    brand_b: int
    anna_id: int
    emails: dict[str, str]


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    engine = make_engine(database_url)
    create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        factory = Factory(session)
        brand_a, brand_b = factory.brand(), factory.brand()
        store = factory.store(brand_a)
        anna = factory.associate(brand_a, store, name="Anna")
        bea = factory.associate(brand_a, store, name="Bea")
        carl = factory.associate(brand_b, factory.store(brand_b), name="Carl")
        emails = {
            "anna": factory.user_of(anna).email,
            "bea": factory.user_of(bea).email,
            "carl": factory.user_of(carl).email,
        }
        session.commit()
        assert brand_a.id and brand_b.id and anna.id
        yield World(brand_a.id, brand_b.id, anna.id, emails)
    engine.dispose()


def shopper(base: str) -> requests.Session:
    http = requests.Session()
    http.headers["X-CSRFToken"] = csrf_token(http, base)
    return http


def ask(http: requests.Session, base: str, brand_id: int, body: str) -> dict[str, Any]:
    answer = http.post(f"{base}/api/brands/{brand_id}/thread", json={"body": body}, timeout=10)
    assert answer.status_code == 201, answer.text
    out: dict[str, Any] = answer.json()
    return out


def post(http: requests.Session, base: str, thread_id: int, body: str) -> None:
    answer = http.post(f"{base}/api/threads/{thread_id}/messages", json={"body": body}, timeout=10)
    assert answer.status_code == 201, answer.text


@pytest.mark.slow
def test_a_shoppers_message_is_pushed_to_its_associate_only(
    database_url: str, tmp_path: Path, world: World
) -> None:
    with WebServer(database_url, tmp_path) as server:
        base = server.url
        staff = {who: staff_http(base, email) for who, email in world.emails.items()}
        consoles = {who: console(base, http) for who, http in staff.items()}
        clients: list[RoomClient] = list(consoles.values())
        try:
            anna, bea, carl = consoles["anna"], consoles["bea"], consoles["carl"]
            assert anna.call("console_heartbeat", {})["ok"]
            online = staff["anna"].put(
                f"{base}/api/associates/{world.anna_id}/status",
                json={"status": "online"},
                timeout=10,
            )
            assert online.status_code == 200, online.text

            # Camille asks: it waits, offered to Anna; the brand's staff see it arrive.
            camille = shopper(base)
            thread_id = ask(camille, base, world.brand_a, "Is it a true sky blue?")["thread"]["id"]
            got = anna.heard(lambda n, d: n == "thread_offer")
            assert ("thread_offer", got[-1][1]) == (
                "thread_offer",
                {"thread_id": thread_id, "shopper_name": "Guest", "preview": got[-1][1]["preview"]},
            )
            assert any(
                n == "thread_message" for n, _ in bea.heard(body_is("Is it a true sky blue?"))
            )

            # A shopper's socket joins their room once their first question made them a shopper.
            camille_io = console(base, camille)
            dora = shopper(base)
            dora_thread = ask(dora, base, world.brand_b, "Brand B question")["thread"]["id"]
            dora_io = console(base, dora)
            clients += [camille_io, dora_io]

            taken = staff["anna"].post(f"{base}/api/threads/{thread_id}/accept", timeout=10)
            assert taken.status_code == 200, taken.text
            changed = camille_io.heard(lambda n, d: n == "thread_changed")[-1][1]
            assert changed["thread"]["status"] == "assigned"
            assert changed["thread"]["associate"]["name"] == "Anna"

            # The message itself: pushed to Anna (no request of hers), to nobody else.
            post(camille, base, thread_id, "And does it come in M?")
            assert anna.heard(body_is("And does it come in M?"))
            assert anna.call("thread_typing", {"thread_id": thread_id})["ok"]
            typing = camille_io.heard(lambda n, d: n == "thread_typing")[-1][1]
            assert typing == {"thread_id": thread_id, "side": "staff", "name": "Anna"}

            # Markers: each of the others gets a message meant for them, and nothing before
            # it of Camille's conversation (brand B's staff and the other shopper never, Anna's
            # colleague not since Anna took it).
            post(dora, base, dora_thread, "marker for dora and carl")
            ask(shopper(base), base, world.brand_a, "marker for bea")
            for who, client, marker in (
                ("carl", carl, "marker for dora and carl"),
                ("dora", dora_io, "marker for dora and carl"),
                ("bea", bea, "marker for bea"),
            ):
                seen = client.heard(body_is(marker))
                bodies = [d["message"]["body"] for n, d in seen if n == "thread_message"]
                assert "And does it come in M?" not in bodies, who
                assert not [n for n, _ in seen if n == "thread_typing"], who
                if who != "bea":
                    assert "Is it a true sky blue?" not in bodies, who
        finally:
            for each in clients:
                each.close()
