"""Rooms against real web nodes: each async mode, two nodes over Redis, the flash sale."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import aiohttp
import pytest
from sqlmodel import Session

from sessions.db import make_engine
from sessions.models import Variant
from tests.rooms.conftest import Seeded
from tests.rooms.live_clients import RoomClient, guest_http, staff_http
from tests.servers import WebServer

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["gevent", "eventlet"])
def test_history_resume_and_moderation_on_a_real_node(
    mode: str, database_url: str, tmp_path: Path, seeded: Seeded
) -> None:
    with WebServer(database_url, tmp_path, async_mode=mode) as server:
        room = {"session_id": seeded.live_id}
        host = RoomClient(server.url, staff_http(server.url, seeded.host_email)).connect()
        viewer_http = guest_http(server.url, seeded.live_id)
        viewer = RoomClient(server.url, viewer_http).connect()
        try:
            assert host.call("join", room)["role"] == "host"
            assert viewer.call("join", room)["role"] == "viewer"
            first = [
                host.call("chat", {**room, "body": f"a{n}"})["message"]["id"] for n in range(3)
            ]
            assert viewer.message_ids(first[-1]) == first

            # The viewer drops off; the host goes on; the viewer resumes from its last id.
            viewer.close()
            missed = [
                host.call("chat", {**room, "body": f"b{n}"})["message"]["id"] for n in range(4)
            ]
            again = RoomClient(server.url, viewer_http).connect()
            history = again.call("join", {**room, "last_id": first[-1]})["history"]
            assert [m["id"] for m in history] == missed  # no gap, no repeat
            said = again.call("chat", {**room, "body": "hello"})["message"]
            shopper_id = _shopper_of(host)

            assert host.call("mute", {**room, "shopper_id": shopper_id})["ok"]
            assert again.wait_for("sanction")["kind"] == "mute"
            assert again.call("chat", {**room, "body": "still?"})["error"] == "mute"
            assert host.call("delete_message", {**room, "message_id": said["id"]})["ok"]
            assert again.wait_for("message_deleted") == {"id": said["id"]}
            assert host.call("ban", {**room, "shopper_id": shopper_id})["ok"]
            again.wait_for("sanction", lambda s: s["kind"] == "ban")
            assert again.call("join", room)["error"] == "banned"
            again.close()
        finally:
            host.close()
            viewer.close()


def _shopper_of(host: RoomClient) -> int:
    """Hosts get `participants` ([{shopper_id, name, muted}]) as people come and go."""
    return int(host.wait_for("participants", lambda people: len(people) > 0)[0]["shopper_id"])


@pytest.mark.slow
@pytest.mark.redis
def test_two_nodes_share_rooms_and_counts_through_redis(
    database_url: str, tmp_path: Path, seeded: Seeded
) -> None:
    # The room's state copy (web/sockets/snapshots.py) is kept far longer than the test:
    # only the push from the other node can make node B read the room again.
    env = {"SOCKETIO_CHANNEL": f"test-{uuid.uuid4().hex[:10]}", "ROOM_STATE_CACHE_SECONDS": "600"}
    room = {"session_id": seeded.live_id}
    with (
        WebServer(database_url, tmp_path / "a", redis_url=REDIS_URL, env=env) as node_a,
        WebServer(
            database_url, tmp_path / "b", redis_url=REDIS_URL, env=env, create_schema=False
        ) as node_b,
    ):
        on_a = RoomClient(node_a.url, guest_http(node_a.url, seeded.live_id)).connect()
        on_b = RoomClient(node_b.url, guest_http(node_b.url, seeded.live_id)).connect()
        try:
            assert on_a.call("join", room)["ok"]
            assert on_b.call("join", room)["state"]["viewers"] == 2  # counted across nodes
            on_a.wait_for("presence", lambda p: p["viewers"] == 2)
            sent = on_a.call("chat", {**room, "body": "from node A"})["message"]
            assert sent["id"] in on_b.message_ids(sent["id"])

            # Hearts given on node A: node B's state GET says so once the push reached B.
            state_on_b = f"{node_b.url}/api/live-sessions/{seeded.live_id}"
            before = on_b.http.get(state_on_b, timeout=10).json()["hearts"]
            assert on_a.call("react", room)["ok"]
            total = on_b.wait_for("hearts")["total"]
            assert total == before + 1
            assert on_b.http.get(state_on_b, timeout=10).json()["hearts"] == total
            on_b.close()
            on_a.wait_for("presence", lambda p: p["viewers"] == 1)
        finally:
            on_a.close()
            on_b.close()


async def _flash_sale(base: str, live_id: int, variant_id: int, buyers: int) -> list[int]:
    """`buyers` shoppers, each with its own cookie, tap add-to-bag at the same moment."""
    connector = aiohttp.TCPConnector(limit=0)
    sessions = [
        aiohttp.ClientSession(
            connector=connector, connector_owner=False, cookie_jar=aiohttp.CookieJar(unsafe=True)
        )
        for _ in range(buyers)
    ]
    try:
        tokens = []
        for s in sessions:  # set-up (cookie + CSRF token), not part of the race
            async with s.get(f"{base}/api/live-sessions/{live_id}") as r:
                assert r.status == 200
            async with s.get(f"{base}/login") as r:
                page = await r.text()
            tokens.append(page.split('name="csrf-token" content="')[1].split('"')[0])

        async def buy(s: aiohttp.ClientSession, token: str) -> int:
            body = {"variant_id": variant_id, "quantity": 1, "live_session_id": live_id}
            async with s.post(
                f"{base}/api/bag/lines", json=body, headers={"X-CSRFToken": token}
            ) as r:
                payload = await r.json()
                assert r.status == 201 or payload["error"] == "sold_out", payload
                return r.status

        return await asyncio.gather(*(buy(s, t) for s, t in zip(sessions, tokens, strict=True)))
    finally:
        for s in sessions:
            await s.close()
        await connector.close()


@pytest.mark.slow
def test_flash_sale_never_oversells(database_url: str, tmp_path: Path, seeded: Seeded) -> None:
    with WebServer(database_url, tmp_path) as server:
        statuses = asyncio.run(_flash_sale(server.url, seeded.live_id, seeded.variant_id, 150))
    assert statuses.count(201) == 50
    assert statuses.count(409) == 100
    engine = make_engine(database_url)
    with Session(engine) as session:
        variant = session.get(Variant, seeded.variant_id)
        assert variant is not None and variant.stock == 0
    engine.dispose()


async def _same_shopper_taps(base: str, live_id: int, variant_id: int, taps: int) -> list[dict]:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as s:
        async with s.get(f"{base}/api/live-sessions/{live_id}") as r:
            assert r.status == 200
        async with s.get(f"{base}/login") as r:
            token = (await r.text()).split('name="csrf-token" content="')[1].split('"')[0]

        async def tap() -> dict:
            body = {"variant_id": variant_id, "quantity": 1}
            async with s.post(
                f"{base}/api/bag/lines", json=body, headers={"X-CSRFToken": token}
            ) as r:
                assert r.status == 201, await r.text()
                return dict(await r.json())

        return list(await asyncio.gather(*(tap() for _ in range(taps))))


@pytest.mark.slow
def test_one_shopper_tapping_fast_gets_one_bag(
    database_url: str, tmp_path: Path, seeded: Seeded
) -> None:
    with WebServer(database_url, tmp_path) as server:
        added = asyncio.run(_same_shopper_taps(server.url, seeded.live_id, seeded.variant_id, 8))
    assert len({a["bag"]["id"] for a in added}) == 1
    assert max(a["bag"]["count"] for a in added) == 8


@pytest.mark.slow
def test_batches_go_out_by_the_real_timer_one_window_after_their_first_item(
    database_url: str, tmp_path: Path, seeded: Seeded
) -> None:
    """The other room tests flush batches by hand; here the node's own timer does."""
    window = 0.3
    env = {"CHAT_BATCH_MS": str(int(window * 1000))}
    with WebServer(database_url, tmp_path, env=env) as server:
        room = {"session_id": seeded.live_id}
        host = RoomClient(server.url, staff_http(server.url, seeded.host_email)).connect()
        viewer = RoomClient(server.url, guest_http(server.url, seeded.live_id)).connect()
        try:
            host.call("join", room)
            viewer.call("join", room)
            # The joins' batch is out: one viewer (the host is in the room, not a viewer).
            host.wait_for("presence", lambda p: p["viewers"] == 1)

            # A heart (cheap to add: counted in the batch, stored at the flush) arms the
            # timer; its batch comes by itself, and not before one window has passed.
            tapped_at = time.monotonic()
            assert viewer.call("react", room)["ok"]
            assert host.wait_for("hearts") == {"total": 1}
            assert time.monotonic() - tapped_at >= window

            # Chat goes the same way: nobody flushes, each message arrives once, in order.
            acks = [viewer.call("chat", {**room, "body": f"c{n}"}) for n in range(3)]
            ids = [ack["message"]["id"] for ack in acks]
            assert host.message_ids(until_id=ids[-1]) == ids
        finally:
            host.close()
            viewer.close()
