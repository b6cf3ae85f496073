"""A show larger than one relay: an edge relay pulls the room from the origin relay once
and serves its own viewers with the origin's encoded packets (streaming/edge.py).

Origin and edge run as their own processes (``python -m streaming``), as deployed; the
publisher and the viewers are real aiortc peers. Viewers read the synthetic camera's
stamp from every picture they decode, so frames are counted in the publisher's own
frame numbers. The HTTP rules of ``/rooms/<room>/pull`` are checked against in-process
relays.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamTrack

from sessions.grants import COHOST_SLOT, issue_grant
from streaming.client import SignalError, Viewing, view, view_show
from streaming.config import RelayConfig
from streaming.synthetic import Publication, publish
from tests.servers import RelayServer

from .conftest import (
    INTERNAL,
    INTERNAL_TOKEN,
    SECRET,
    GrantFactory,
    RunningRelay,
    bad_link,
    get_json,
    next_picture,
    read_stamps,
    serve_relay,
    wait_until,
)

pytestmark = [pytest.mark.media, pytest.mark.anyio]

ROOM = "big-show"
# Small pictures: the publisher and every viewer encode or decode in this test's one
# process, on a machine other runs share; the stamp reads at any size.
WIDTH, HEIGHT = 320, 240
WINDOW_FRAMES = 90  # 3 s of the publisher's frames


def show_grant(role: str) -> str:
    return issue_grant(
        SECRET,
        room=ROOM,
        role=role,  # type: ignore[arg-type]
        identity=f"{role}-tester",
        public=True,
    )


async def post_json(
    url: str, body: object, headers: dict[str, str] | None = None, *, method: str = "POST"
) -> tuple[int, dict[str, object]]:
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            method, url, json=body, headers=INTERNAL if headers is None else headers
        ) as response,
    ):
        return response.status, await response.json()


async def pull(edge: str, origin: str) -> tuple[int, dict[str, object]]:
    return await post_json(f"{edge}/rooms/{ROOM}/pull", {"origin": origin})


@pytest.fixture
async def relays(tmp_path: Path) -> AsyncIterator[tuple[RelayServer, RelayServer]]:
    origin = RelayServer(tmp_path / "origin", grant_secret=SECRET, internal_token=INTERNAL_TOKEN)
    edge = RelayServer(tmp_path / "edge", grant_secret=SECRET, internal_token=INTERNAL_TOKEN)
    # Both start at once: importing aiortc takes a while on a loaded machine.
    await asyncio.gather(
        asyncio.to_thread(lambda: origin.spawn().wait_ready()),
        asyncio.to_thread(lambda: edge.spawn().wait_ready()),
    )
    try:
        yield origin, edge
    finally:
        await asyncio.gather(asyncio.to_thread(origin.stop), asyncio.to_thread(edge.stop))


async def frames_in_window(track: MediaStreamTrack, first: int, last: int) -> list[int]:
    """The publisher's frame numbers a viewer decodes, in order, from ``first`` until one
    at ``last`` or after (the window is the publisher's numbering, not a clock)."""
    counters: list[int] = []
    while not counters or counters[-1] < last:
        picture = await next_picture(track, lambda p: p.stamp.counter >= first, timeout=30)
        counters.append(picture.stamp.counter)
    return [c for c in counters if c < last]


async def tone_level(track: MediaStreamTrack, frames: int = 25) -> float:
    """The loudest of ``frames`` decoded audio frames (the publisher sends a 440 Hz tone)."""
    loudest = 0.0
    for _ in range(frames):
        frame = await asyncio.wait_for(track.recv(), 10)
        assert isinstance(frame, av.AudioFrame)
        loudest = max(loudest, float(np.abs(frame.to_ndarray().astype(np.float64)).mean()))
    return loudest


async def origin_viewers(origin: str) -> int:
    _, status = await get_json(f"{origin}/rooms/{ROOM}/status")
    return int(status["viewers"])


async def watch_window(publication: Publication, viewers: list[Viewing]) -> list[list[int]]:
    """Every viewer's decoded frame numbers over the next ``WINDOW_FRAMES`` the
    publisher draws, from a frame drawn after every viewer caught up."""
    now = publication.video.counter
    await asyncio.gather(
        *(next_picture(v.video, lambda p: p.stamp.counter >= now, timeout=30) for v in viewers)
    )
    first = publication.video.counter + 1
    return list(
        await asyncio.gather(
            *(frames_in_window(v.video, first, first + WINDOW_FRAMES) for v in viewers)
        )
    )


def check_window(seen: list[list[int]]) -> None:
    for counters in seen:
        # In the publisher's order. Not strictly: a picture a starved viewer lost packets
        # of is concealed from a reference frame, the one before or VP8's older golden
        # frame, and reads that one's stamp (seen in CI, twice). A relay that reordered
        # would go back often; a concealment goes back now and then, and comes back.
        backwards = sum(b < a for a, b in itertools.pairwise(counters))
        assert backwards <= max(2, len(counters) // 20), (backwards, counters)
        # ... and a moving picture through the whole window, each frame counted once.
        # The share of the publisher's frames delivered is a figure for
        # bench/relay_bench.py, not a pass mark here: on a starved machine (CI runs this
        # beside browser tests and other sessions' work) the publisher's own encoder skips
        # frames, and a viewer decodes what reaches it (seen: 68 of 90 under load, 27 of
        # 90 at a load average of 9). A broken edge delivers none, or one frozen frame.
        # (frames_in_window read on until one at the window's end: the picture moved.)
        assert len(set(counters)) >= WINDOW_FRAMES // 9, (len(set(counters)), counters)


async def test_edge_viewers_decode_the_publishers_frames_through_one_origin_subscriber(
    relays: tuple[RelayServer, RelayServer],
) -> None:
    origin, edge = relays
    publication = await publish(origin.url, show_grant("publish"), width=WIDTH, height=HEIGHT)
    viewers: list[Viewing] = []
    try:
        status, body = await pull(edge.url, origin.url)
        assert status == 201 and body["origin"] == origin.url
        status, _ = await pull(edge.url, origin.url)
        assert status == 200  # told again: nothing changes

        # Viewers' grants are the same as for the origin: any relay of the show takes them.
        viewers += [await view(edge.url, show_grant("view")) for _ in range(3)]
        check_window(await watch_window(publication, viewers))
        levels = await asyncio.gather(*(tone_level(v.audio) for v in viewers))
        assert min(levels) > 1000, levels

        # The origin carries one viewer for the whole edge ...
        assert await origin_viewers(origin.url) == 1
        _, pulled = await get_json(f"{edge.url}/rooms/{ROOM}/pull")
        assert pulled["state"] == "live" and pulled["viewers"] == 3
        assert pulled["attempts"] == 1

        # ... whatever the edge's own count: twice the viewers, still one subscriber.
        viewers += [await view(edge.url, show_grant("view")) for _ in range(3)]
        check_window(await watch_window(publication, viewers))
        assert await origin_viewers(origin.url) == 1
        _, edge_status = await get_json(f"{edge.url}/rooms/{ROOM}/status")
        assert edge_status["viewers"] == 6 and edge_status["publisher"] == "live"
        _, pulled = await get_json(f"{edge.url}/rooms/{ROOM}/pull")
        assert pulled["attempts"] == 1
    finally:
        await asyncio.gather(*(v.close() for v in viewers))
        await publication.close()


async def test_edge_viewers_come_back_to_picture_when_the_origin_restarts(
    relays: tuple[RelayServer, RelayServer],
) -> None:
    origin, edge = relays
    publication = await publish(origin.url, show_grant("publish"), width=WIDTH, height=HEIGHT)
    assert (await pull(edge.url, origin.url))[0] == 201
    viewer = await view(edge.url, show_grant("view"))
    try:
        await next_picture(viewer.video, timeout=30)
        await publication.close()
        restarted_at = publication.video.counter
        await asyncio.to_thread(origin.stop)
        await asyncio.to_thread(lambda: origin.spawn().wait_ready())  # the same port
        # The host's browser reconnects on its own (here: a new publication whose camera
        # counts on); the edge subscribes again on its own, and its viewer, connected
        # all along, decodes the new frames.
        publication = await publish(
            origin.url,
            show_grant("publish"),
            width=WIDTH,
            height=HEIGHT,
            start_counter=restarted_at + 1000,
        )
        picture = await next_picture(
            viewer.video, lambda p: p.stamp.counter > restarted_at + 1000, timeout=90
        )
        assert viewer.pc.connectionState == "connected"
        after = await next_picture(viewer.video, lambda p: p.stamp.counter > picture.stamp.counter)
        assert after.stamp.counter > picture.stamp.counter
        _, pulled = await get_json(f"{edge.url}/rooms/{ROOM}/pull")
        assert int(pulled["attempts"]) >= 2 and pulled["state"] == "live"
        assert await origin_viewers(origin.url) == 1
    finally:
        await viewer.close()
        await publication.close()


# -- the pull route's rules, against in-process relays -----------------------------------


@pytest.fixture
async def origin_relay(tmp_path: Path) -> AsyncIterator[RunningRelay]:
    config = RelayConfig(
        grant_secret=SECRET, media_dir=tmp_path / "origin", internal_token=INTERNAL_TOKEN
    )
    async with serve_relay(config) as running:
        yield running


async def test_pull_needs_the_internal_token_and_a_usable_origin(
    relay: RunningRelay, origin_relay: RunningRelay
) -> None:
    url = f"{relay.url}/rooms/{ROOM}/pull"
    body = {"origin": origin_relay.url}
    assert (await post_json(url, body, {}))[0] == 401
    assert (await post_json(url, body, {"Authorization": "Bearer wrong"}))[0] == 401
    for bad in (None, "", "ftp://relay:21", "relay:8001", "http://", 42, f"{origin_relay.url}?x=1"):
        status, answer = await post_json(url, {"origin": bad})
        assert status == 400, (bad, answer)
    assert (await post_json(url, ["not", "an", "object"]))[0] == 400
    assert (await post_json(f"{relay.url}/rooms/bad%20room/pull", body))[0] == 400
    status, _ = await post_json(url, {}, {}, method="GET")
    assert status == 401
    assert (await get_json(url))[0] == 404  # not pulled
    assert (await post_json(url, None, method="DELETE"))[1] == {"room": ROOM, "stopped": False}


async def test_a_pulled_room_takes_no_publisher_and_one_origin_only(
    relay: RunningRelay, origin_relay: RunningRelay, grant: GrantFactory
) -> None:
    url = f"{relay.url}/rooms/{ROOM}/pull"
    assert (await post_json(url, {"origin": origin_relay.url}))[0] == 201
    status, answer = await post_json(url, {"origin": "http://127.0.0.1:1"})
    assert status == 409 and answer["error"] == "pulled_elsewhere"
    # The host publishes to the origin; the edge refuses, whatever the grant.
    with pytest.raises(SignalError) as refused:
        await publish(relay.url, grant(ROOM, "publish"), width=WIDTH, height=HEIGHT)
    assert refused.value.status == 409 and refused.value.body["error"] == "edge_room"
    # Stopped: the room is this relay's own again (a publisher may come).
    assert (await post_json(url, None, method="DELETE"))[1] == {"room": ROOM, "stopped": True}
    assert ROOM not in relay.relay.rooms


async def test_a_room_in_use_here_is_not_pulled_over(
    relay: RunningRelay, origin_relay: RunningRelay, grant: GrantFactory
) -> None:
    publication = await publish(relay.url, grant(ROOM, "publish"), width=WIDTH, height=HEIGHT)
    try:
        status, answer = await post_json(
            f"{relay.url}/rooms/{ROOM}/pull", {"origin": origin_relay.url}
        )
        assert status == 409 and answer["error"] == "room_in_use"
    finally:
        await publication.close()


async def test_stopping_a_pull_hangs_up_the_edges_viewers(
    relay: RunningRelay, origin_relay: RunningRelay, grant: GrantFactory
) -> None:
    publication = await publish(
        origin_relay.url, grant(ROOM, "publish"), width=WIDTH, height=HEIGHT
    )
    url = f"{relay.url}/rooms/{ROOM}/pull"
    try:
        assert (await post_json(url, {"origin": origin_relay.url}))[0] == 201
        viewer = await view(relay.url, grant(ROOM, "view"))
        try:
            await next_picture(viewer.video, timeout=30)

            async def one_at_origin() -> bool:
                return len(origin_relay.relay.peers) == 2  # the publisher and the edge

            await wait_until(one_at_origin, "the edge never subscribed")
            assert (await post_json(url, None, method="DELETE"))[1]["stopped"] is True
            assert not any(p.room == ROOM for p in relay.relay.peers.values())

            async def unsubscribed() -> bool:
                return len(origin_relay.relay.peers) == 1  # the publisher only

            await wait_until(unsubscribed, "the edge's subscription stayed at the origin")
        finally:
            await viewer.close()
    finally:
        await publication.close()


async def test_an_edge_viewer_gets_the_host_and_the_cohost_from_the_one_subscription(
    relay: RunningRelay, origin_relay: RunningRelay, grant: GrantFactory
) -> None:
    host = await publish(origin_relay.url, grant(ROOM, "publish"), width=WIDTH, height=HEIGHT)
    assert (await post_json(f"{relay.url}/rooms/{ROOM}/pull", {"origin": origin_relay.url}))[
        0
    ] == 201
    viewer = await view_show(relay.url, grant(ROOM, "view"))
    cohost = None
    try:
        await read_stamps(viewer.videos[0], 5, timeout=30)
        _, status = await get_json(f"{relay.url}/rooms/{ROOM}/status")
        assert status["publisher"] == "live" and status["cohost"] == "none"
        cohost_grant = issue_grant(
            SECRET, room=ROOM, role="publish", identity="guest", slot=COHOST_SLOT
        )
        cohost = await publish(origin_relay.url, cohost_grant, width=160, height=120)
        # Each tile is its own publisher's picture (told apart by size), through the edge.
        for track, size in ((viewer.videos[1], (160, 120)), (viewer.videos[0], (WIDTH, HEIGHT))):
            await read_stamps(track, 5, timeout=30)
            frame = await asyncio.wait_for(track.recv(), 10)
            assert isinstance(frame, av.VideoFrame)
            assert (frame.width, frame.height) == size
        _, status = await get_json(f"{relay.url}/rooms/{ROOM}/status")
        assert status["cohost"] == "live"
        assert len(origin_relay.relay.peers) == 3  # host, co-host and the one edge peer
    finally:
        await viewer.close()
        if cohost is not None:
            await cohost.close()
        await host.close()


async def test_edge_viewers_restart_on_a_keyframe_after_the_origin_link_lost_packets(
    relay: RunningRelay, origin_relay: RunningRelay, grant: GrantFactory
) -> None:
    """The link between origin and edge goes down for longer than the origin's resend
    history (2 s of video): the edge sends its viewers nothing broken, asks the origin for
    a keyframe, and they go on from it. The loss is made at the edge's subscription
    socket, the way a network loses packets; neither relay is touched."""
    publication = await publish(
        origin_relay.url, grant(ROOM, "publish"), width=WIDTH, height=HEIGHT
    )
    assert (await post_json(f"{relay.url}/rooms/{ROOM}/pull", {"origin": origin_relay.url}))[
        0
    ] == 201
    viewer = await view(relay.url, grant(ROOM, "view"))
    try:
        await next_picture(viewer.video, timeout=30)
        assert relay.edges is not None
        subscription = relay.edges.pulls[ROOM]
        stage = subscription.stages[0]
        assert subscription.pc is not None
        links = bad_link(subscription.pc, lambda payload_type, seq: True)
        cut_at = publication.video.counter

        async def long_enough() -> bool:
            return publication.video.counter >= cut_at + 60

        await wait_until(long_enough, "the publisher stopped drawing", timeout=60)
        asked = stage.stats.keyframes_forced
        for link in links:
            link.drop = lambda payload_type, seq: False
        back_at = publication.video.counter
        # The first picture after the cut is a keyframe the edge asked the origin for ...
        first = await next_picture(viewer.video, lambda p: p.stamp.counter > cut_at, timeout=30)
        assert first.keyframe and first.stamp.counter >= back_at - 5
        assert stage.stats.keyframes_forced > asked
        # ... and the frames that follow decode, in the publisher's order.
        counters = [first.stamp.counter]
        while len(counters) < 20:
            counters.append((await next_picture(viewer.video)).stamp.counter)
        assert all(a < b for a, b in itertools.pairwise(counters)), counters
        assert sum(link.dropped for link in links) > 0
    finally:
        await viewer.close()
        await publication.close()
