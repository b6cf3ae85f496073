"""Real clients of a real web node: a browser-like HTTP session and a Socket.IO client."""

from __future__ import annotations

import queue
import re
import time
from typing import Any

import requests
import socketio

from tests.factories import Factory


def csrf_token(http: requests.Session, base: str) -> str:
    page = http.get(f"{base}/login", timeout=10).text
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, "no CSRF meta tag on /login"
    return match.group(1)


def staff_http(base: str, email: str) -> requests.Session:
    http = requests.Session()
    token = csrf_token(http, base)
    response = http.post(
        f"{base}/login",
        data={"email": email, "password": Factory.PASSWORD, "csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text[:300]
    http.headers["X-CSRFToken"] = csrf_token(http, base)
    return http


def guest_http(base: str, live_session_id: int) -> requests.Session:
    """A shopper's browser: the page's GET on the session gives it a guest cookie."""
    http = requests.Session()
    assert http.get(f"{base}/api/live-sessions/{live_session_id}", timeout=10).ok
    return http


class RoomClient:
    """A Socket.IO client carrying an HTTP session's cookies; events land in a queue."""

    EVENTS = (
        "messages",
        "message_deleted",
        "presence",
        "participants",
        "sanction",
        "stock",
        "hearts",
        "offer",
    )

    def __init__(self, base: str, http: requests.Session) -> None:
        self.base = base
        self.http = http
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.sio = socketio.Client(reconnection=False)
        for name in self.EVENTS:
            self.sio.on(name, self._recorder(name))

    def _recorder(self, name: str) -> Any:
        return lambda data=None: self.events.put((name, data))

    def connect(self) -> RoomClient:
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)
        self.sio.connect(
            self.base, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=10
        )
        return self

    def call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        ack = self.sio.call(event, data, timeout=10)
        assert isinstance(ack, dict)
        return ack

    def wait_for(self, name: str, predicate: Any = lambda _: True, timeout: float = 10) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {name} event")
            try:
                got, data = self.events.get(timeout=left)
            except queue.Empty:
                raise TimeoutError(f"no {name} event") from None
            if got == name and predicate(data):
                return data

    def message_ids(self, until_id: int, timeout: float = 10) -> list[int]:
        """Ids of messages received until `until_id` arrives."""
        ids: list[int] = []
        deadline = time.monotonic() + timeout
        while until_id not in ids:
            batch = self.wait_for("messages", timeout=deadline - time.monotonic())
            ids.extend(m["id"] for m in batch)
        return ids

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()
