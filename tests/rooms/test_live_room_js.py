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
        page.wait_for_function(f"window.seen.includes({missed[-1]})")
        assert page.evaluate("window.seen") == first + missed  # in order, each once
        assert page.evaluate("window.states") == ["connecting", "live", "reconnecting", "live"]

        ack = page.evaluate("window.room.sendChat('<img src=x onerror=alert(1)>')")
        assert ack["ok"] and ack["message"]["body"] == "<img src=x onerror=alert(1)>"
        added = page.evaluate(f"window.room.addToBag({seeded.variant_id}, 2)")
        assert added["ok"] and added["bag"]["count"] == 2 and added["stock"]["stock"] == 48
        assert page.evaluate("window.errors") == []
        host.close()
