"""live-room.js in real Chromium against a real node: join, chat, add to bag, and a
reconnect that resumes with the last id: nothing lost, nothing shown twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.rooms.conftest import Seeded
from tests.rooms.live_clients import RoomClient, staff_http
from tests.servers import WebServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

OPEN_ROOM = """async (sessionId) => {
  const { LiveRoom } = await import("/static/js/live-room.js");
  window.seen = []; window.states = []; window.errors = [];
  const room = new LiveRoom({ sessionId });
  room.addEventListener("messages", (e) => window.seen.push(...e.detail.map((m) => m.id)));
  room.addEventListener("statechange", (e) => window.states.push(e.detail));
  room.addEventListener("error", (e) => window.errors.push(e.detail));
  window.room = room;
  await room.connect();
}"""


@pytest.fixture
def browser(chromium: Any) -> Any:
    return chromium


def test_live_room_resumes_without_loss_or_repeats(
    database_url: str, tmp_path: Path, seeded: Seeded, browser: Any
) -> None:
    with WebServer(database_url, tmp_path) as server:
        host = RoomClient(server.url, staff_http(server.url, seeded.host_email)).connect()
        room = {"session_id": seeded.live_id}
        host.call("join", room)
        page = browser.new_page()
        page.goto(f"{server.url}/login")
        page.evaluate(OPEN_ROOM, seeded.live_id)
        page.wait_for_function("window.room.state === 'live'")
        first = [host.call("chat", {**room, "body": f"a{n}"})["message"]["id"] for n in range(3)]
        page.wait_for_function(f"window.seen.includes({first[-1]})")

        page.evaluate("window.room.socket.disconnect()")  # the network drops
        page.wait_for_function("window.room.state === 'reconnecting'")
        missed = [host.call("chat", {**room, "body": f"b{n}"})["message"]["id"] for n in range(3)]
        page.evaluate("window.room.socket.connect()")
        # Back when the join is answered: the state changes after the history is shown.
        back = f"window.room.state === 'live' && window.seen.includes({missed[-1]})"
        page.wait_for_function(back)
        assert page.evaluate("window.seen") == first + missed  # in order, each once
        assert page.evaluate("window.states") == ["connecting", "live", "reconnecting", "live"]

        ack = page.evaluate("window.room.sendChat('<img src=x onerror=alert(1)>')")
        assert ack["ok"] and ack["message"]["body"] == "<img src=x onerror=alert(1)>"
        added = page.evaluate(f"window.room.addToBag({seeded.variant_id}, 2)")
        assert added["ok"] and added["bag"]["count"] == 2 and added["stock"]["stock"] == 48
        assert page.evaluate("window.errors") == []
        host.close()


class HeldJoinAnswer:
    """The page's Socket.IO connection, through Playwright: while ``holding``, the
    server's answer to the next join waits until a live ``messages`` push has passed
    it, which the server is free to do (it joins the room before reading history).

    When the answer is held, ``on_held`` runs (here: the host chats). Frames are
    Engine.IO text: ``42[...]`` an event, ``43<id>[...]`` an ack."""

    def __init__(self, on_held: Any) -> None:
        self.holding = False
        self.on_held = on_held
        self.held: list[str | bytes] = []
        self.overtaken = False

    def route(self, ws: Any) -> None:
        server = ws.connect_to_server()
        ws.on_message(server.send)
        server.on_message(lambda frame: self.from_server(ws, frame))

    def from_server(self, ws: Any, frame: str | bytes) -> None:
        text = frame if isinstance(frame, str) else ""
        if self.holding and not self.held and text.startswith("43"):
            self.held.append(frame)
            self.on_held()
            return
        ws.send(frame)
        if self.held and text.startswith('42["messages"'):
            self.overtaken = True
            for held in self.held:
                ws.send(held)
            self.held, self.holding = [], False


def test_pushes_that_overtake_the_join_answer_are_neither_lost_nor_undone(
    database_url: str, tmp_path: Path, seeded: Seeded, browser: Any
) -> None:
    with WebServer(database_url, tmp_path) as server:
        host = RoomClient(server.url, staff_http(server.url, seeded.host_email)).connect()
        room = {"session_id": seeded.live_id}
        host.call("join", room)
        live: list[int] = []

        def meanwhile() -> None:  # after the server answered the join, before it arrives
            live.append(host.call("chat", {**room, "body": "live"})["message"]["id"])
            assert host.call("pin", {**room, "product_id": seeded.product_id})["ok"]

        link = HeldJoinAnswer(meanwhile)
        page = browser.new_page()
        page.route_web_socket("**/socket.io/**", link.route)
        page.goto(f"{server.url}/login")
        page.evaluate(OPEN_ROOM, seeded.live_id)
        page.wait_for_function("window.room.state === 'live'")
        first = host.call("chat", {**room, "body": "first"})["message"]["id"]
        page.wait_for_function(f"window.seen.includes({first})")

        page.evaluate("window.room.socket.disconnect()")
        page.wait_for_function("window.room.state === 'reconnecting'")
        missed = [host.call("chat", {**room, "body": f"m{n}"})["message"]["id"] for n in range(2)]
        host.message_ids(until_id=missed[-1])  # their batch is out: none is pushed after this
        link.holding = True  # the rejoin's answer (history: the missed ones) comes last
        page.evaluate("window.room.socket.connect()")
        page.wait_for_function("window.room.state === 'live'")

        assert link.overtaken and len(live) == 1
        assert page.evaluate("window.seen") == [first, *missed, live[0]]  # once, in order
        # The pin pushed ahead of the answer is not undone by the answer's older state.
        pinned = page.evaluate("window.room.roomState.pinned.map((card) => card.id)")
        assert pinned == [seeded.product_id]
        assert page.evaluate("window.states") == ["connecting", "live", "reconnecting", "live"]
        assert page.evaluate("window.errors") == []
        host.close()
