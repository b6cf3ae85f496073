"""A web node is killed mid-show (SIGKILL): its viewers' sockets, through the shipped nginx
in front of two nodes sharing Redis, reconnect on their own to the other node, rejoin with
the id of the last message they had (as live-room.js does on every reconnect), and end up
with every message exactly once: none lost while they were away, none repeated."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio

from tests.deploy.nginx import Site
from tests.rooms.conftest import Seeded
from tests.rooms.live_clients import RoomClient, staff_http
from tests.servers import WebServer, free_port, wait_port

pytestmark = [pytest.mark.fault, pytest.mark.slow, pytest.mark.redis]

REDIS_URL = "redis://127.0.0.1:6379/0"  # the machine's: nothing here stops it
TOKEN = "fault-metrics-token"


@dataclass
class TwoNodes:
    site: Site
    nodes: list[WebServer]


@pytest.fixture
def two_nodes(database_url: str, tmp_path: Path, seeded: Seeded) -> Iterator[TwoNodes]:
    site = Site(tmp_path / "site")
    env = {
        "PUBLIC_URL": site.https,
        "TRUSTED_PROXY_COUNT": "1",
        "METRICS_TOKEN": TOKEN,
        "SCHEDULER": "0",
        "SOCKETIO_CHANNEL": f"fault-{uuid.uuid4().hex[:10]}",
    }
    nodes = [
        WebServer(database_url, tmp_path / f"web{n}", redis_url=REDIS_URL, env=env,
                  create_schema=False)
        for n in (0, 1)
    ]  # fmt: skip
    site.web_ports = (nodes[0].port, nodes[1].port)
    site.relay_ports = (free_port(), free_port())  # no video in this test
    try:
        for node in nodes:
            node.spawn()
        for node in nodes:
            node.wait_ready(timeout=90)
        site.start()
        assert site.proc is not None
        wait_port(site.https_port, site.proc)
        yield TwoNodes(site, nodes)
    finally:
        site.stop()
        for node in nodes:
            if node.proc is not None and node.proc.poll() is None:
                node.stop()


class Viewer:
    """A shopper's socket through nginx that reconnects by itself (python-socketio's own
    reconnection); the test rejoins on each connect, with the last message id it holds."""

    def __init__(self, site: Site, live_id: int) -> None:
        self.live_id = live_id
        self.http = requests.Session()
        self.http.verify = str(site.cert)
        self.http.trust_env = False
        assert self.http.get(f"{site.https}/api/live-sessions/{live_id}", timeout=10).ok
        self.ids: list[int] = []
        self.lock = threading.Lock()
        self.connects = 0
        self.sio = socketio.Client(
            http_session=self.http,
            reconnection=True,
            reconnection_delay=0.2,
            reconnection_delay_max=1,
            randomization_factor=0,
        )
        self.sio.on("messages", self._messages)
        self.sio.on("connect", self._connected)
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)
        self.sio.connect(
            site.https, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=10
        )

    def _connected(self) -> None:
        with self.lock:
            self.connects += 1

    def _messages(self, batch: list[dict[str, Any]]) -> None:
        with self.lock:
            self.ids.extend(m["id"] for m in batch)

    def join(self) -> dict[str, Any]:
        with self.lock:
            last = self.ids[-1] if self.ids else None
        ack = self.sio.call(
            "join", {"session_id": self.live_id, **({"last_id": last} if last else {})}, timeout=10
        )
        assert isinstance(ack, dict) and ack.get("ok"), ack
        with self.lock:
            self.ids.extend(m["id"] for m in ack["history"])
        return ack

    def wait(self, condition: Any, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if condition(self):
                    return
            assert time.monotonic() < deadline, f"viewer: {self.ids}, {self.connects} connects"
            time.sleep(0.05)  # socket events land on the client's thread: poll its state


def websocket_count(node: WebServer) -> float:
    text = requests.get(
        f"{node.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    ).text
    match = re.search(r'vitrine_socket_connections\{transport="websocket"\} (\S+)', text)
    return float(match.group(1)) if match else 0.0


def test_viewers_of_a_killed_node_resume_on_the_other_without_loss_or_repeat(
    two_nodes: TwoNodes, seeded: Seeded
) -> None:
    room = {"session_id": seeded.live_id}
    viewer = Viewer(two_nodes.site, seeded.live_id)
    try:
        viewer.join()
        counts = [websocket_count(node) for node in two_nodes.nodes]
        doomed = two_nodes.nodes[counts.index(max(counts))]  # the viewer's node
        assert max(counts) >= 1, counts
        other = two_nodes.nodes[1 - two_nodes.nodes.index(doomed)]
        # The host is on the node that stays (directly: its own connection is not the test).
        host = RoomClient(other.url, staff_http(other.url, seeded.host_email))
        # As if from the site's pages (the node accepts sockets from PUBLIC_URL only).
        host.sio = socketio.Client(
            reconnection=False, websocket_extra_options={"origin": two_nodes.site.https}
        )
        cookie = "; ".join(f"{c.name}={c.value}" for c in host.http.cookies)
        host.sio.connect(
            other.url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=10
        )
        assert host.call("join", room)["role"] == "host"

        sent = [
            host.call("chat", {**room, "body": f"before {n}"})["message"]["id"] for n in range(3)
        ]
        viewer.wait(lambda v: v.ids[-1:] == sent[-1:])

        assert doomed.proc is not None
        doomed.proc.kill()  # mid-show, no goodbye
        doomed.proc.wait()
        while_away = [
            host.call("chat", {**room, "body": f"while away {n}"})["message"]["id"]
            for n in range(4)
        ]
        viewer.wait(lambda v: v.connects >= 2 and v.sio.connected)  # through nginx, to the other
        viewer.join()  # with the last id it had: the missed messages come as history
        assert websocket_count(other) >= 2  # the host and the viewer
        after = host.call("chat", {**room, "body": "after"})["message"]["id"]
        viewer.wait(lambda v: after in v.ids)
        with viewer.lock:
            assert viewer.ids == [*sent, *while_away, after]  # none lost, none repeated
        host.close()
    finally:
        viewer.sio.disconnect()
