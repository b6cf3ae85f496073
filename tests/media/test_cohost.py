"""A show with two publishers: the host and a co-host, fanned out to one viewer peer.

The first test runs the relay as its own process (``python -m streaming``), as in
production; mute and remove are checked against an in-process relay, where the
stage's state can be read as well as the packets a viewer gets.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import av
import numpy as np
import pytest

from sessions.grants import COHOST_SLOT, issue_grant
from streaming.client import ShowViewing, SignalError, SocketTap, tap_sockets, view, view_show
from streaming.synthetic import Publication, publish
from tests.servers import RelayServer

from .conftest import SECRET, RunningRelay, get_json, read_stamps

pytestmark = [pytest.mark.media, pytest.mark.anyio]

HOST_SIZE = (640, 480)
COHOST_SIZE = (320, 240)


def show_grant(role: str, *, slot: int = 0, room: str = "show") -> str:
    return issue_grant(
        SECRET,
        room=room,
        role=role,  # type: ignore[arg-type]
        identity=f"{role}-{slot}",
        public=True,
        record=True,
        slot=slot,
    )


async def levels(track: object, count: int) -> list[float]:
    """Mean absolute level of ``count`` decoded audio frames."""
    found = []
    for _ in range(count):
        frame = await asyncio.wait_for(track.recv(), 5)  # type: ignore[attr-defined]
        assert isinstance(frame, av.AudioFrame)
        found.append(float(np.abs(frame.to_ndarray().astype(np.float64)).mean()))
    return found


async def frames_of_size(track: object, size: tuple[int, int], count: int) -> int:
    """Stamped frames of the given size (the size tells whose camera it is)."""
    stamps = await read_stamps(track, count, timeout=20)  # type: ignore[arg-type]
    frame = await asyncio.wait_for(track.recv(), 5)  # type: ignore[attr-defined]
    assert (frame.width, frame.height) == size
    counters = [s.counter for s in stamps]
    assert counters == sorted(counters) and len(set(counters)) == count
    return len(stamps)


@pytest.fixture
async def relay_process(tmp_path: Path) -> AsyncIterator[str]:
    server = RelayServer(tmp_path / "media", grant_secret=SECRET, internal_token="t")
    await asyncio.to_thread(server.start)
    try:
        yield server.url
    finally:
        await asyncio.to_thread(server.stop)


async def test_one_viewer_receives_host_and_cohost_from_the_relay_process(
    relay_process: str,
) -> None:
    url = relay_process
    host = await publish(url, show_grant("publish"), width=640, height=480)
    cohost = await publish(
        url, show_grant("publish", slot=COHOST_SLOT), width=320, height=240, frequency=880
    )
    viewer = await view_show(url, show_grant("view"))
    try:
        counted = await asyncio.gather(
            frames_of_size(viewer.videos[0], HOST_SIZE, 20),
            frames_of_size(viewer.videos[1], COHOST_SIZE, 20),
        )
        assert counted == [20, 20]
        heard = await asyncio.gather(levels(viewer.audios[0], 20), levels(viewer.audios[1], 20))
        assert max(heard[0]) > 1000 and max(heard[1]) > 1000
        headers = {"Authorization": "Bearer t"}
        _, status = await get_json(f"{url}/rooms/show/status", headers)
        assert status["publisher"] == "live" and status["cohost"] == "live"
        assert status["viewers"] == 1
    finally:
        await viewer.close()
        await cohost.close()
        await host.close()


class PacketCounter(SocketTap):
    """Counts the RTP packets a viewer receives, per SSRC (headers are in the clear)."""

    def __init__(self, inner: object, counts: dict[int, int], wake: asyncio.Event) -> None:
        super().__init__(inner)
        self.counts = counts
        self.wake = wake

    def on_rtp(self, data: bytes) -> bool:
        ssrc = int.from_bytes(data[8:12], "big")
        self.counts[ssrc] = self.counts.get(ssrc, 0) + 1
        self.wake.set()
        return False


class Packets:
    def __init__(self, viewing: ShowViewing) -> None:
        self.counts: dict[int, int] = {}
        self.wake = asyncio.Event()
        tap_sockets(viewing.pc, lambda inner: PacketCounter(inner, self.counts, self.wake))
        self.video = viewing.ssrcs("video")
        self.audio = viewing.ssrcs("audio")

    def of(self, ssrc: int) -> int:
        return self.counts.get(ssrc, 0)

    async def until(self, ssrc: int, more: int, *, timeout: float = 60.0) -> None:
        """Until ``more`` further packets of ``ssrc`` arrived (an event, not a clock)."""
        target = self.of(ssrc) + more

        async def wait() -> None:
            while self.of(ssrc) < target:
                self.wake.clear()
                await self.wake.wait()

        await asyncio.wait_for(wait(), timeout)

    async def quiet(self, silent: list[int], clock: int, *, attempts: int = 10) -> None:
        """Until no packet of ``silent`` arrives while ``clock`` gets 50 more. The first
        rounds may still see packets that were in the sockets before the change."""
        for _ in range(attempts):
            before = [self.of(ssrc) for ssrc in silent]
            await self.until(clock, 50)
            if [self.of(ssrc) for ssrc in silent] == before:
                return
        raise AssertionError(f"{silent} kept arriving")


async def relay_call(
    relay: RunningRelay, method: str, path: str, body: dict[str, object] | None = None
) -> tuple[int, dict[str, object]]:
    headers = {"Authorization": f"Bearer {show_grant('publish')}"}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, f"{relay.url}{path}", json=body, headers=headers) as response,
    ):
        return response.status, await response.json()


async def on_air(relay: RunningRelay) -> tuple[Publication, Publication, ShowViewing, Packets]:
    # Small pictures: four encoders and four decoders share this process's one event loop,
    # and what these tests count is packets, not pixels.
    small: dict[str, int] = {"width": 320, "height": 240, "fps": 15}
    host = await publish(relay.url, show_grant("publish"), **small)
    cohost = await publish(
        relay.url, show_grant("publish", slot=COHOST_SLOT), frequency=880, **small
    )
    viewer = await view_show(relay.url, show_grant("view"))
    packets = Packets(viewer)
    await asyncio.gather(*(packets.until(s, 10) for s in (*packets.video, *packets.audio)))
    return host, cohost, viewer, packets


async def closing(*peers: Publication | ShowViewing) -> None:
    for peer in peers:
        await peer.close()


async def test_muted_cohost_is_not_heard_by_viewers(relay: RunningRelay) -> None:
    host, cohost, viewer, packets = await on_air(relay)
    host_audio, cohost_audio = packets.audio
    try:
        status, body = await relay_call(relay, "POST", "/rooms/show/cohost", {"muted": True})
        assert status == 200 and body == {"room": "show", "muted": True, "on_air": True}
        # At the relay: from the mute on, not one more co-host audio packet goes out.
        outlets = relay.relay.cohosts["show"]._audio_viewers
        sent = [outlet.frames_sent for outlet in outlets]
        await packets.until(host_audio, 50)  # a second of the host's sound
        assert [outlet.frames_sent for outlet in outlets] == sent
        # At the viewer: the co-host's sound stops while the host's goes on.
        await packets.quiet([cohost_audio], host_audio)
        # The co-host's picture still goes out; only their sound is off.
        await packets.until(packets.video[1], 10)
        _, room = await get_json(f"{relay.url}/rooms/show/status")
        assert room["cohost_muted"] is True

        status, _ = await relay_call(relay, "POST", "/rooms/show/cohost", {"muted": False})
        assert status == 200
        try:
            await packets.until(cohost_audio, 20)
        except TimeoutError:
            _, room = await get_json(f"{relay.url}/rooms/show/status")
            raise AssertionError(
                f"no co-host sound after unmuting; the relay says {room}"
            ) from None
        heard = await levels(viewer.audios[1], 5)
        assert max(heard) > 1000
    finally:
        await closing(viewer, cohost, host)


async def test_removed_cohost_leaves_the_air_and_the_host_stays(relay: RunningRelay) -> None:
    host, cohost, viewer, packets = await on_air(relay)
    closed = asyncio.Event()
    cohost.pc.on("connectionstatechange", lambda: closed.set())
    try:
        status, body = await relay_call(relay, "DELETE", "/rooms/show/cohost")
        assert status == 200 and body["removed"] is True
        assert cohost.peer_id not in relay.relay.peers
        await packets.quiet([packets.video[1], packets.audio[1]], packets.audio[0])
        _, room = await get_json(f"{relay.url}/rooms/show/status")
        assert room["publisher"] == "live" and room["cohost"] == "none"
        # Removing again finds nobody; the host's picture is untouched.
        status, body = await relay_call(relay, "DELETE", "/rooms/show/cohost")
        assert status == 200 and body["removed"] is False
        # A new co-host (another grant: the web app decides who) is on the same tile.
        again = await publish(
            relay.url, show_grant("publish", slot=COHOST_SLOT), width=320, height=240, fps=15
        )
        await packets.until(packets.video[1], 10)
        await again.close()
    finally:
        await closing(viewer, cohost, host)


async def test_cohost_controls_need_the_hosts_grant(relay: RunningRelay) -> None:
    cohost = await publish(relay.url, show_grant("publish", slot=COHOST_SLOT))
    try:
        for grant in (show_grant("view"), show_grant("publish", slot=COHOST_SLOT)):
            async with (
                aiohttp.ClientSession() as http,
                http.delete(
                    f"{relay.url}/rooms/show/cohost", headers={"Authorization": f"Bearer {grant}"}
                ) as response,
            ):
                assert response.status == 403
        status, _ = await relay_call(relay, "POST", "/rooms/show/cohost", {"muted": "yes"})
        assert status == 400
        assert relay.relay.cohosts["show"].publisher_id == cohost.peer_id
        # A co-host's grant says nothing about the room: it stays as the host's said.
        assert relay.relay.rooms.get("show") is None or not relay.relay.rooms["show"].record
    finally:
        await cohost.close()


async def test_one_pair_viewer_sees_the_host_only_and_three_pairs_are_refused(
    relay: RunningRelay,
) -> None:
    host = await publish(relay.url, show_grant("publish"))
    cohost = await publish(relay.url, show_grant("publish", slot=COHOST_SLOT))
    single = await view(relay.url, show_grant("view"))
    try:
        stamps = await read_stamps(single.video, 5)
        assert stamps
        with pytest.raises(SignalError) as refused:
            await view_show(relay.url, show_grant("view"), slots=3)
        assert refused.value.status == 400
        assert refused.value.body["error"] == "too_many_tracks"
        with pytest.raises(ValueError):
            show_grant("publish", slot=2)
    finally:
        await closing(single, cohost, host)  # type: ignore[arg-type]
