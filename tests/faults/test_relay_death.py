"""Several relays: a show goes to the least loaded; when its relay dies, the show moves.

Real parts: a Redis of the test's own, two relay processes registering there with a fast
heartbeat, a web node reading the registry, the host and a shopper as real HTTP and
Socket.IO clients, and real aiortc peers (the synthetic camera publishing, a viewer
decoding). The relay carrying the show is killed with SIGKILL (no goodbye): its
registration lapses, the web node moves the show to the other relay and tells the room by
push; the host and the viewer take new grants, which name the other relay, and the viewer
decodes the publisher's frames again.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis
import requests
from sqlmodel import Session

from sessions.db import make_engine
from sessions.grants import issue_grant
from sessions.models import LiveSession
from sessions.relays import registry_keys
from sessions.shows.lifecycle import do_start_show
from streaming.client import Viewing, view
from streaming.synthetic import Publication, publish
from tests.browser.conftest import DESKTOP
from tests.browser.test_live_journey import video_is_playing
from tests.factories import OPERATOR, Factory
from tests.faults.instances import REDIS_SERVER, RedisInstance
from tests.faults.test_relay_restart import COUNT_FRAMES, Camera
from tests.rooms.conftest import Seeded
from tests.rooms.live_clients import RoomClient, csrf_token, guest_http, staff_http
from tests.servers import RelayServer, WebServer

pytestmark = [
    pytest.mark.fault,
    pytest.mark.media,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(REDIS_SERVER).exists(), reason="no redis-server"),
]

T = TypeVar("T")
SECRET = "test-media-secret"  # the web node's (tests/servers.py)
# Seconds: a lapse (three missed beats) in about three; shorter would let a starved relay
# process on a loaded machine look dead now and then.
HEARTBEAT = 1.0


@pytest.fixture
def redis_instance(tmp_path: Path) -> Iterator[RedisInstance]:
    instance = RedisInstance(tmp_path / "redis").start()
    try:
        yield instance
    finally:
        instance.stop()


class MovedClient(RoomClient):
    EVENTS: tuple[str, ...] = (*RoomClient.EVENTS, "relay_moved")  # type: ignore[assignment]


def in_own_thread(scenario: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(scenario)` on a thread of its own: a worker's main thread may hold an
    event loop that an earlier test in the same process left set as running (seen once in
    CI: "asyncio.run() cannot be called from a running event loop")."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, scenario).result()


def registered(store: Any, prefix: str) -> dict[str, dict[str, Any]]:
    """The live registrations, as the web node reads them."""
    index, key = registry_keys(prefix)
    ids = [i.decode() for i in store.zrangebyscore(index, int(time.time() * 1000), "+inf")]
    values = store.mget([key + i for i in ids]) if ids else []
    return {i: json.loads(v) for i, v in zip(ids, values, strict=True) if v is not None}


def wait_until(read: Callable[[], object], timeout: float = 30) -> object:
    """A relay's heartbeat and a peer's first frames come with no event this side can
    await: read again (bounded) until the condition holds."""
    deadline = time.monotonic() + timeout
    while not (value := read()):
        if time.monotonic() > deadline:
            raise AssertionError(f"still {value!r} after {timeout} s")
        time.sleep(0.05)
    return value


async def frames(viewing: Viewing, count: int = 5, timeout: float = 30) -> None:
    """The viewer decodes `count` frames of the synthetic camera's size."""

    async def decode() -> None:
        seen = 0
        while seen < count:
            frame: Any = await viewing.video.recv()
            seen += frame.width == 320

    await asyncio.wait_for(decode(), timeout)


def grant(http: requests.Session, base: str, live_id: int, role: str) -> dict[str, Any]:
    response = http.post(
        f"{base}/api/live-sessions/{live_id}/media-grant",
        json={"role": role},
        headers={"X-CSRFToken": csrf_token(http, base)},
        timeout=10,
    )
    assert response.status_code == 200, response.text[:300]
    body: dict[str, Any] = response.json()
    return body


def test_a_show_moves_off_a_dead_relay_and_its_viewers_follow(
    redis_instance: RedisInstance, database_url: str, tmp_path: Path, seeded: Seeded
) -> None:
    prefix = f"relays-{uuid.uuid4().hex[:10]}"
    registry_env = {
        "RELAY_REGISTRY": "redis",
        "RELAY_REGISTRY_PREFIX": prefix,
        "RELAY_HEARTBEAT_SECONDS": str(HEARTBEAT),
    }
    relay_env = {**registry_env, "REDIS_URL": redis_instance.url, "RELAY_ALLOWED_ORIGINS": "*"}
    store = redis.Redis.from_url(redis_instance.url)
    relays = [
        RelayServer(tmp_path / f"media-{n}", grant_secret=SECRET, env=relay_env).spawn()
        for n in ("a", "b")
    ]
    try:
        first, second = (relay.wait_ready(90) for relay in relays)
        wait_until(lambda: set(registered(store, prefix)) == {first.url, second.url})
        in_own_thread(_scenario(first, second, store, prefix, redis_instance, database_url,
                              tmp_path, seeded, registry_env))  # fmt: skip
    finally:
        for relay in relays:
            relay.stop()
        store.close()


async def _scenario(
    busy: RelayServer,
    idle: RelayServer,
    store: Any,
    prefix: str,
    redis_instance: RedisInstance,
    database_url: str,
    tmp_path: Path,
    seeded: Seeded,
    registry_env: dict[str, str],
) -> None:
    # Some other show keeps the first relay busy, and its heartbeat says so.
    other = await publish(
        busy.url,
        issue_grant(SECRET, room="another-show", role="publish", identity="t"),
        width=320,
        height=240,
        fps=15,
        audio=False,
    )
    peers: list[Publication | Viewing] = [other]
    try:
        await asyncio.to_thread(
            wait_until, lambda: registered(store, prefix).get(busy.url, {}).get("rooms") == 1
        )
        env = {
            **registry_env,
            "RELAY_URL": busy.url,  # the fallback when no relay is registered
            "SOCKETIO_CHANNEL": f"{prefix}-io",
            "RATE_LIMIT_PREFIX": f"{prefix}-limits",
        }
        web = WebServer(
            database_url, tmp_path, redis_url=redis_instance.url, env=env, ready_timeout=90
        )
        with web:
            host = staff_http(web.url, seeded.host_email)
            shopper = guest_http(web.url, seeded.live_id)
            room = MovedClient(web.url, shopper).connect()
            try:
                assert room.call("join", {"session_id": seeded.live_id})["ok"]

                # The show goes to the least loaded relay, and stays there for everyone.
                hosting = grant(host, web.url, seeded.live_id, "publish")
                assert hosting["relay_url"] == idle.url
                camera = await publish(
                    hosting["relay_url"], hosting["grant"], width=320, height=240, fps=15
                )
                peers.append(camera)
                watching = grant(shopper, web.url, seeded.live_id, "view")
                assert watching["relay_url"] == idle.url
                viewer = await view(watching["relay_url"], watching["grant"])
                peers.append(viewer)
                await frames(viewer)

                # The show's relay dies without a word.
                assert idle.proc is not None
                killed_at = time.monotonic()
                idle.proc.kill()
                idle.proc.wait()

                moved = await asyncio.to_thread(room.wait_for, "relay_moved", timeout=60)
                noticed = time.monotonic() - killed_at
                assert moved == {"relay_url": busy.url}

                # Host and viewer ask again, as media.js does on relay_moved: the new
                # grants name the live relay, and the picture comes back.
                hosting = grant(host, web.url, seeded.live_id, "publish")
                watching = grant(shopper, web.url, seeded.live_id, "view")
                assert hosting["relay_url"] == watching["relay_url"] == busy.url
                camera = await publish(busy.url, hosting["grant"], width=320, height=240, fps=15)
                peers.append(camera)
                viewer = await view(busy.url, watching["grant"])
                peers.append(viewer)
                await frames(viewer)
            finally:
                room.close()
        # Reported, not asserted: a loaded machine stretches it; the lapse is 3 beats.
        print(f"relay death noticed and pushed after {noticed:.2f} s (heartbeat {HEARTBEAT} s)")
    finally:
        for peer in peers:
            await peer.close()


@pytest.mark.browser
def test_a_shoppers_show_page_follows_its_show_to_the_other_relay(
    redis_instance: RedisInstance,
    database_url: str,
    tmp_path: Path,
    seed: Factory,
    chromium: Any,
) -> None:
    """media.js in Chromium: the page is told ``relay_moved``, takes a new grant and plays
    from the other relay; nobody touches it. The host's side is the synthetic camera,
    started again on the new relay as a host's console does on the same push."""
    prefix = f"relays-{uuid.uuid4().hex[:10]}"
    registry_env = {
        "RELAY_REGISTRY": "redis",
        "RELAY_REGISTRY_PREFIX": prefix,
        "RELAY_HEARTBEAT_SECONDS": str(HEARTBEAT),
    }
    relay_env = {**registry_env, "REDIS_URL": redis_instance.url, "RELAY_ALLOWED_ORIGINS": "*"}
    brand = seed.brand(name="Maison Aurèle", slug="aurele")
    show = seed.show(brand, title="Across two relays")
    live = do_start_show(seed.session, OPERATOR, show)
    seed.session.commit()
    assert live.id is not None
    live_id, live_room = live.id, live.room
    store = redis.Redis.from_url(redis_instance.url)
    relays = [
        RelayServer(tmp_path / f"media-{n}", grant_secret=SECRET, env=relay_env).spawn()
        for n in ("a", "b")
    ]
    cameras: list[Camera] = []
    try:
        by_url = {relay.wait_ready(90).url: relay for relay in relays}
        wait_until(lambda: set(registered(store, prefix)) == set(by_url))
        env = {
            **registry_env,
            "RELAY_URL": relays[0].url,
            "SOCKETIO_CHANNEL": f"{prefix}-io",
            "RATE_LIMIT_PREFIX": f"{prefix}-limits",
        }
        with WebServer(
            database_url, tmp_path, redis_url=redis_instance.url, env=env, ready_timeout=90
        ) as web:
            page = chromium.new_context(**DESKTOP).new_page()
            page.goto(f"{web.url}/b/{brand.slug}/shows/{show.id}")
            # The page's grant chose the show's relay; the camera goes there.
            first = str(wait_until(lambda: relay_id_of(database_url, live_id)))
            cameras.append(Camera(first, live_room))
            cameras[-1].start()
            video_is_playing(page, "#player", timeout=45_000)
            page.evaluate(COUNT_FRAMES)
            page.wait_for_function("window.__lastFrame > 0", timeout=10_000)
            room = MovedClient(web.url, guest_http(web.url, live_id)).connect()
            try:
                assert room.call("join", {"session_id": live_id})["ok"]
                dying = by_url[first]
                assert dying.proc is not None
                dying.proc.kill()
                dying.proc.wait()
                cameras[-1].stop()
                moved = room.wait_for("relay_moved", timeout=60)
            finally:
                room.close()
            (other,) = set(by_url) - {first}
            assert moved == {"relay_url": other}
            cameras.append(Camera(other, live_room))
            cameras[-1].start()
            moved_at = page.evaluate("performance.now()")
            page.wait_for_function(f"window.__lastFrame > {moved_at}", timeout=45_000)
            seen = page.evaluate("window.__lastFrame")
            page.wait_for_function(f"window.__lastFrame > {seen} + 1000", timeout=20_000)
            assert relay_id_of(database_url, live_id) == other
            page.context.close()
    finally:
        for camera in cameras:
            camera.stop()
        for relay in relays:
            relay.stop()
        store.close()


def relay_id_of(database_url: str, live_id: int) -> str | None:
    """What the web node stored, read in a transaction of its own that ends at once (on
    SQLite an open one would hold the file against the web node)."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            found = session.get(LiveSession, live_id)
            return found.relay_id if found is not None else None
    finally:
        engine.dispose()


EDGE_TOKEN = "edge-test-internal-token"


def test_a_show_past_its_relays_share_is_served_by_an_edge(
    redis_instance: RedisInstance, database_url: str, tmp_path: Path, seeded: Seeded
) -> None:
    """A show's viewers past RELAY_EDGE_AT_PEERS (1 here: the camera alone fills it) get a
    grant naming the other relay, which pulls the show from the first once and serves
    them: the viewer there decodes the publisher's frames."""
    prefix = f"relays-{uuid.uuid4().hex[:10]}"
    registry_env = {
        "RELAY_REGISTRY": "redis",
        "RELAY_REGISTRY_PREFIX": prefix,
        "RELAY_HEARTBEAT_SECONDS": str(HEARTBEAT),
    }
    relay_env = {**registry_env, "REDIS_URL": redis_instance.url, "RELAY_ALLOWED_ORIGINS": "*"}
    store = redis.Redis.from_url(redis_instance.url)
    relays = [
        RelayServer(
            tmp_path / f"media-{n}", grant_secret=SECRET, internal_token=EDGE_TOKEN, env=relay_env
        ).spawn()
        for n in ("a", "b")
    ]
    try:
        urls = {relay.wait_ready(90).url for relay in relays}
        wait_until(lambda: set(registered(store, prefix)) == urls)
        env = {
            **registry_env,
            "RELAY_URL": relays[0].url,
            "RELAY_EDGE_AT_PEERS": "1",
            "RELAY_INTERNAL_TOKEN": EDGE_TOKEN,  # the web node asks the edge to pull
            "SOCKETIO_CHANNEL": f"{prefix}-io",
            "RATE_LIMIT_PREFIX": f"{prefix}-limits",
        }
        with WebServer(
            database_url, tmp_path, redis_url=redis_instance.url, env=env, ready_timeout=90
        ) as web:
            in_own_thread(_spill(web, store, prefix, seeded))
    finally:
        for relay in relays:
            relay.stop()
        store.close()


async def _spill(web: WebServer, store: Any, prefix: str, seeded: Seeded) -> None:
    host = staff_http(web.url, seeded.host_email)
    hosting = grant(host, web.url, seeded.live_id, "publish")
    origin = hosting["relay_url"]
    camera = await publish(origin, hosting["grant"], width=320, height=240, fps=15)
    peers: list[Publication | Viewing] = [camera]
    try:
        # The origin's next heartbeat carries the camera's peer: the show's share is full.
        await asyncio.to_thread(
            wait_until, lambda: registered(store, prefix).get(origin, {}).get("peers", 0) >= 1
        )
        shopper = guest_http(web.url, seeded.live_id)
        watching = grant(shopper, web.url, seeded.live_id, "view")
        edge = watching["relay_url"]
        assert edge != origin
        viewer = await view(edge, watching["grant"])
        peers.append(viewer)
        await frames(viewer)
        pulled = requests.get(
            f"{edge}/rooms/{watching['room']}/pull",
            headers={"Authorization": f"Bearer {EDGE_TOKEN}"},
            timeout=10,
        )
        assert pulled.status_code == 200, pulled.text
        # The origin sends the show out once to the edge, whatever the edge's audience.
        status = requests.get(
            f"{origin}/rooms/{watching['room']}/status",
            headers={"Authorization": f"Bearer {EDGE_TOKEN}"},
            timeout=10,
        ).json()
        assert status["viewers"] == 1, status
    finally:
        for peer in peers:
            await peer.close()
