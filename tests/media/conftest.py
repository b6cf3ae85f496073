"""Fixtures for media tests: a real relay on an ephemeral loopback port, grants,
and helpers that read the synthetic camera's stamp back from decoded frames."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiortc import RTCPeerConnection
from aiortc.mediastreams import MediaStreamTrack
from yarl import URL

from sessions.grants import Role, issue_grant
from streaming.client import SocketTap, tap_sockets
from streaming.config import RelayConfig
from streaming.edge import Edges
from streaming.fanout import ForwardingSender, Outlet
from streaming.framecode import Stamp, read_frame_stamp
from streaming.relay import Relay
from streaming.server import EDGES_KEY, RELAY_KEY, create_app

SECRET = "test-media-secret"
INTERNAL_TOKEN = "test-internal-token"
INTERNAL = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class RunningRelay:
    url: str
    relay: Relay
    config: RelayConfig
    edges: Edges | None = None  # the rooms it pulls from an origin (streaming/edge.py)


@pytest.fixture
def relay_config(tmp_path: Path) -> RelayConfig:
    return RelayConfig(
        grant_secret=SECRET,
        media_dir=tmp_path / "media",
        max_viewers=150,
        internal_token=INTERNAL_TOKEN,
    )


@contextlib.asynccontextmanager
async def serve_relay(config: RelayConfig) -> AsyncIterator[RunningRelay]:
    """A relay process's worth of app on an ephemeral loopback port (several may share a
    media folder or a Redis: a restart, or relays side by side)."""
    app = create_app(config)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield RunningRelay(f"http://127.0.0.1:{port}", app[RELAY_KEY], config, app[EDGES_KEY])
    finally:
        await runner.cleanup()


@pytest.fixture
async def relay(relay_config: RelayConfig) -> AsyncIterator[RunningRelay]:
    async with serve_relay(relay_config) as running:
        yield running


GrantFactory = Callable[..., str]


@pytest.fixture
def grant() -> GrantFactory:
    """``grant("room", "view")`` -> a fresh signed grant (new nonce each call).

    By default the room is a public, recorded show (as the web app says of a show);
    ``public=False, record=False`` for a consultation's.
    """

    def make(
        room: str,
        role: Role,
        *,
        ttl: float = 60,
        now: float | None = None,
        public: bool = True,
        record: bool = True,
    ) -> str:
        return issue_grant(
            SECRET,
            room=room,
            role=role,
            identity=f"{role}-tester",
            ttl=ttl,
            now=now,
            public=public,
            record=record,
        )

    return make


def expired_grant(room: str, role: Role) -> str:
    return issue_grant(SECRET, room=room, role=role, identity="late", ttl=10, now=time.time() - 60)


async def read_stamps(track: MediaStreamTrack, count: int, *, timeout: float = 5.0) -> list[Stamp]:
    """Decode ``count`` readable stamps from a received video track."""
    stamps: list[Stamp] = []
    while len(stamps) < count:
        frame = await asyncio.wait_for(track.recv(), timeout)
        stamp = read_frame_stamp(frame)
        if stamp is not None:
            stamps.append(stamp)
    return stamps


async def first_stamp_after(
    track: MediaStreamTrack, predicate: Callable[[Stamp], bool], *, timeout: float = 10.0
) -> Stamp:
    """The first stamp that satisfies ``predicate`` (frames of the slate have none)."""

    async def scan() -> Stamp:
        while True:
            frame = await track.recv()
            stamp = read_frame_stamp(frame)
            if stamp is not None and predicate(stamp):
                return stamp

    return await asyncio.wait_for(scan(), timeout)


async def get_json(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """GET as the web app would (the internal token) unless ``headers`` say otherwise."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(url, headers=INTERNAL if headers is None else headers) as response,
    ):
        return response.status, await response.json()


async def wait_for_status(url: str, key: str, value: object, *, timeout: float = 10.0) -> None:
    """Poll the status endpoint: the state lives in another peer's event handlers."""
    deadline = time.monotonic() + timeout
    while True:
        _, body = await get_json(url)
        if body[key] == value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{key} stayed {body[key]!r}, wanted {value!r}")
        await asyncio.sleep(0.1)


async def wait_until(
    check: Callable[[], Awaitable[bool]], what: str, *, timeout: float = 20.0
) -> None:
    """Poll a file or the relay's state: they change in another peer's tasks."""
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.1)


async def until_connected(pc: RTCPeerConnection) -> None:
    """Before closing a peer a test just opened: aiortc's connect task, if still
    running, raises into the event loop when its transport closes under it."""

    async def connected() -> bool:
        return pc.connectionState == "connected"

    await wait_until(connected, "the peer never connected")


async def fetch(
    url: str, headers: dict[str, str] | None = None, *, method: str = "GET"
) -> tuple[int, bytes]:
    """Status and body; the path goes out byte for byte (``%2F``, ``..``), not normalised."""
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, URL(url, encoded=True), headers=headers or {}) as response,
    ):
        return response.status, await response.read()


class BadLink(SocketTap):
    """A viewer's network going bad: drops the incoming RTP packets ``drop`` picks
    (by payload type and sequence number); the connection itself stays up."""

    def __init__(self, inner: Any, drop: Callable[[int, int], bool]) -> None:
        super().__init__(inner)
        self.drop = drop
        self.dropped = 0

    def on_rtp(self, data: bytes) -> bool:
        if self.drop(data[1] & 0x7F, int.from_bytes(data[2:4], "big")):
            self.dropped += 1
            return True
        return False


def bad_link(pc: RTCPeerConnection, drop: Callable[[int, int], bool]) -> list[BadLink]:
    """Put a ``BadLink`` in front of every socket of ``pc``; change ``.drop`` to change it."""
    return tap_sockets(pc, lambda inner: BadLink(inner, drop))


def relay_sender(relay: RunningRelay, peer_id: str, kind: str) -> ForwardingSender:
    """The relay's sender for one viewer's video or audio."""
    for transceiver in relay.relay.peers[peer_id].pc.getTransceivers():
        if transceiver.kind == kind:
            assert isinstance(transceiver.sender, ForwardingSender)
            return transceiver.sender
    raise LookupError(kind)


# --- observing events rather than waiting out a clock ---------------------------------


@dataclass(frozen=True)
class Picture:
    """A decoded frame as a viewer sees it: the publisher's stamp, and whether the
    decoder got it as a keyframe (where a decoder can start)."""

    stamp: Stamp
    keyframe: bool


async def next_picture(
    track: MediaStreamTrack,
    predicate: Callable[[Picture], bool] = lambda _: True,
    *,
    timeout: float = 10.0,
) -> Picture:
    """The first decoded, stamped frame that satisfies ``predicate``. The timeout only
    keeps a broken relay from hanging the run; what a test asserts is the event."""

    async def scan() -> Picture:
        while True:
            frame = await track.recv()
            stamp = read_frame_stamp(frame)
            if stamp is not None:
                picture = Picture(stamp, bool(getattr(frame, "key_frame", False)))
                if predicate(picture):
                    return picture

    return await asyncio.wait_for(scan(), timeout)


async def pictures_until(
    track: MediaStreamTrack, counter: int, *, timeout: float = 10.0
) -> list[Picture]:
    """Every stamped frame a viewer decodes until one the publisher drew as ``counter``
    or later (counted in the publisher's own frame numbers, not in seconds)."""
    pictures: list[Picture] = []

    async def scan() -> None:
        while not pictures or pictures[-1].stamp.counter < counter:
            pictures.append(await next_picture(track))

    await asyncio.wait_for(scan(), timeout)
    return pictures


def viewer_outlet(relay: RunningRelay, peer_id: str, kind: str = "video") -> Outlet:
    """The room's outlet for one viewer: what the relay sent, dropped, is waiting for."""
    return relay_sender(relay, peer_id, kind).outlet


def kernel_drops(transports: list[asyncio.DatagramTransport]) -> int:
    """Datagrams the kernel dropped because these sockets' receive buffers were full
    (the ``drops`` column of /proc/net/udp*, matched by socket inode)."""
    inodes = {os.fstat(t.get_extra_info("socket").fileno()).st_ino for t in transports}
    drops = 0
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as rows:
            next(rows)  # the header
            for row in rows:
                fields = row.split()
                if int(fields[9]) in inodes:
                    drops += int(fields[12])
    return drops


async def connected(pc: RTCPeerConnection, *, timeout: float = 10.0) -> None:
    """Until ``pc`` is connected (ICE and DTLS up), told by its own state event."""
    done = asyncio.Event()

    def on_change() -> None:
        if pc.connectionState == "connected":
            done.set()

    pc.on("connectionstatechange", on_change)
    try:
        on_change()
        await asyncio.wait_for(done.wait(), timeout)
    finally:
        pc.remove_listener("connectionstatechange", on_change)
