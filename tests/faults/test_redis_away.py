"""Redis goes away under a single web node: the node keeps serving its own rooms (chat
delivered to its viewers, new viewers join, counts of its own, the API answers), with the
shared parts (presence, rate limits, the Socket.IO queue) kept in the process until Redis
is back. The Redis is the test's own (tests/faults/instances.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.instances import REDIS_SERVER, RedisInstance
from tests.rooms.conftest import Seeded
from tests.rooms.live_clients import RoomClient, guest_http, staff_http
from tests.servers import WebServer

pytestmark = [
    pytest.mark.fault,
    pytest.mark.slow,
    pytest.mark.redis,
    pytest.mark.skipif(not Path(REDIS_SERVER).exists(), reason="no redis-server"),
]


@pytest.fixture
def redis_instance(tmp_path: Path) -> Iterator[RedisInstance]:
    instance = RedisInstance(tmp_path / "redis").start()
    try:
        yield instance
    finally:
        instance.stop()


def test_a_single_node_keeps_serving_its_rooms_without_redis(
    redis_instance: RedisInstance, database_url: str, tmp_path: Path, seeded: Seeded
) -> None:
    env = {
        "SOCKETIO_CHANNEL": f"fault-{uuid.uuid4().hex[:10]}",
        "RATE_LIMIT_PREFIX": f"fault-{uuid.uuid4().hex[:10]}",
    }
    room = {"session_id": seeded.live_id}
    with WebServer(
        database_url, tmp_path, redis_url=redis_instance.url, env=env, ready_timeout=90
    ) as web:
        host = RoomClient(web.url, staff_http(web.url, seeded.host_email)).connect()
        viewer = RoomClient(web.url, guest_http(web.url, seeded.live_id)).connect()
        late: RoomClient | None = None
        try:
            assert host.call("join", room)["role"] == "host"
            assert viewer.call("join", room)["role"] == "viewer"
            before = host.call("chat", {**room, "body": "with Redis"})["message"]["id"]
            assert viewer.message_ids(before) == [before]

            redis_instance.stop()  # killed: every Redis call from now on fails

            said = host.call("chat", {**room, "body": "without Redis"})
            assert said["ok"], said
            assert viewer.message_ids(said["message"]["id"]) == [said["message"]["id"]]
            # A new viewer joins (presence in the node's memory), acts (a new shopper,
            # rate-limited in the node's memory) and is heard by the others.
            late_http = guest_http(web.url, seeded.live_id)
            late = RoomClient(web.url, late_http).connect()
            joined = late.call("join", room)
            assert joined["ok"] and joined["state"]["viewers"] >= 1, joined
            hello = late.call("chat", {**room, "body": "hello from a newcomer"})
            assert hello["ok"], hello
            for client in (host, viewer):
                client.wait_for("messages", lambda batch: any(
                    m["id"] == hello["message"]["id"] for m in batch
                ))  # fmt: skip
            added = late_http.post(
                f"{web.url}/api/bag/lines",
                json={"variant_id": seeded.variant_id, "live_session_id": seeded.live_id},
                headers={"X-CSRFToken": _csrf(late_http, web.url)},
                timeout=10,
            )
            assert added.status_code == 201, added.text[:300]
            state = late_http.get(f"{web.url}/api/live-sessions/{seeded.live_id}", timeout=10)
            # The viewer and the newcomer: the host is in the room, not one of its viewers.
            assert state.status_code == 200 and state.json()["viewers"] == 2
        finally:
            for client in (host, viewer, late):
                if client is not None:
                    client.close()
        assert web.proc is not None and web.proc.poll() is None


def _csrf(http: object, base: str) -> str:
    from tests.rooms.live_clients import csrf_token

    return csrf_token(http, base)  # type: ignore[arg-type]
