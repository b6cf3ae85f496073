"""The fan-out under trouble: one viewer's bad network or backed-up socket is its own
problem, lost packets are resent, and a viewer that lost frames restarts at a keyframe.

Real relay, real aiortc publisher and viewers over loopback. A viewer's bad link is
made on the viewer's side of the socket (``BadLink``), the way a real network loses
packets; the relay is not touched.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from aiortc import RTCPeerConnection, RTCRtpReceiver
from aiortc.mediastreams import MediaStreamTrack

from streaming.client import signal, video_payload_types, view
from streaming.fanout import MAX_SOCKET_BACKLOG
from streaming.framecode import Stamp, delay_ms, read_frame_stamp
from streaming.synthetic import publish

from .conftest import (
    GrantFactory,
    RunningRelay,
    bad_link,
    first_stamp_after,
    read_stamps,
    relay_sender,
    wait_for_status,
)

pytestmark = [pytest.mark.media, pytest.mark.anyio]


def recent(sent_ms: int, within_ms: int = 1000) -> bool:
    return delay_ms(sent_ms, int(time.time() * 1000)) < within_ms


async def catch_up(*tracks: MediaStreamTrack) -> None:
    """Read past each viewer's local backlog: a viewer not read for a while (here:
    while the next one connects) holds decoded frames in its track's queue."""

    async def one(track: MediaStreamTrack) -> None:
        await first_stamp_after(track, lambda s: True)
        while track._queue.qsize():  # type: ignore[attr-defined]
            await track.recv()

    await asyncio.gather(*(one(track) for track in tracks))


async def stamps_until(track: MediaStreamTrack, counter: int, timeout: float = 5.0) -> list[Stamp]:
    """Every readable stamp a viewer decodes up to the publisher's frame ``counter``."""
    stamps: list[Stamp] = []

    async def scan() -> None:
        while not stamps or stamps[-1].counter < counter:
            stamp = read_frame_stamp(await track.recv())
            if stamp is not None:
                stamps.append(stamp)

    await asyncio.wait_for(scan(), timeout)
    return stamps


async def test_a_viewer_cut_off_loses_frames_alone_and_recovers(
    relay: RunningRelay, grant: GrantFactory
) -> None:
    publication = await publish(relay.url, grant("cut", "publish"))
    steady = await view(relay.url, grant("cut", "view"))
    cut = await view(relay.url, grant("cut", "view"))
    try:
        await catch_up(steady.video, cut.video)
        links = bad_link(cut.pc, lambda payload_type, seq: True)  # its network goes down
        cut_at = publication.video.counter

        # For a second, the other viewer goes on with current frames. (It may miss
        # one or two on a busy machine: the room skips a publisher frame for everyone
        # when its loop is late; it never holds anyone back for the cut viewer.)
        stamps = await stamps_until(steady.video, cut_at + 30)
        counters = {s.counter for s in stamps if s.counter > cut_at}
        assert len(counters) >= 27
        assert recent(stamps[-1].sent_ms)
        assert sum(link.dropped for link in links) > 30

        # The network comes back. The viewer's NACK for the whole burst makes the
        # room force a keyframe, and the viewer decodes the publisher's new frames
        # again. (How soon it shows them is up to the viewer's jitter buffer:
        # aiortc's plays out the resent packets first.)
        rendition = relay.relay.rooms["cut"]._renditions["h264"]
        forced_before = rendition.last_forced
        for link in links:
            link.drop = lambda payload_type, seq: False
        back_at = publication.video.counter
        await first_stamp_after(cut.video, lambda s: s.counter > back_at + 30, timeout=6.0)
        assert rendition.last_forced > forced_before
    finally:
        await steady.close()
        await cut.close()
        await publication.close()


async def test_a_backed_up_viewer_skips_frames_alone_and_restarts_at_a_keyframe(
    relay: RunningRelay, grant: GrantFactory
) -> None:
    publication = await publish(relay.url, grant("backlog", "publish"))
    fast = await view(relay.url, grant("backlog", "view"))
    slow = await view(relay.url, grant("backlog", "view"))
    try:
        await catch_up(fast.video, slow.video)
        fast_outlet = relay_sender(relay, fast.peer_id, "video")._outlet
        slow_sender = relay_sender(relay, slow.peer_id, "video")
        slow_outlet = slow_sender._outlet
        fast_dropped = fast_outlet.frames_dropped
        slow_sent = slow_outlet.frames_sent

        # From now on the slow viewer's socket counts as backed up.
        slow_sender.max_backlog = -1
        stamps = await read_stamps(fast.video, 20)
        assert recent(stamps[-1].sent_ms)
        assert fast_outlet.frames_dropped == fast_dropped  # nothing lost for the others
        assert slow_outlet.frames_sent == slow_sent  # nothing sent into a full socket
        assert slow_outlet.frames_dropped >= 15
        assert slow_outlet.awaiting_keyframe

        # Its socket drains: it restarts on a keyframe, at once.
        slow_sender.max_backlog = MAX_SOCKET_BACKLOG
        keyframes = slow_outlet.keyframes_sent
        back_at = publication.video.counter
        stamp = await first_stamp_after(slow.video, lambda s: s.counter > back_at, timeout=2.0)
        assert recent(stamp.sent_ms)
        assert slow_outlet.keyframes_sent == keyframes + 1
        assert not slow_outlet.awaiting_keyframe
    finally:
        await fast.close()
        await slow.close()
        await publication.close()


async def test_lost_packets_are_resent(relay: RunningRelay, grant: GrantFactory) -> None:
    publication = await publish(relay.url, grant("lossy", "publish"))
    viewer = await view(relay.url, grant("lossy", "view"))
    try:
        await catch_up(viewer.video)
        video = video_payload_types(viewer.pc)
        # One video packet in 20 never arrives (retransmissions travel as RTX,
        # another payload type, and get through).
        links = bad_link(viewer.pc, lambda pt, seq: pt in video and seq % 20 == 0)
        stamps = await read_stamps(viewer.video, 45)
        counters = [s.counter for s in stamps]
        assert sum(link.dropped for link in links) > 5
        assert relay_sender(relay, viewer.peer_id, "video").retransmitted > 5
        # Resent in time: the frames still decode, almost none missing.
        assert counters[-1] - counters[0] <= 50
        assert recent(stamps[-1].sent_ms)
    finally:
        await viewer.close()
        await publication.close()


async def test_a_viewer_without_h264_gets_the_shared_vp8_rendition(
    relay: RunningRelay, grant: GrantFactory
) -> None:
    publication = await publish(relay.url, grant("vp8", "publish"))
    h264 = await view(relay.url, grant("vp8", "view"))
    pc = RTCPeerConnection()
    tracks: dict[str, MediaStreamTrack] = {}
    pc.on("track", lambda track: tracks.setdefault(track.kind, track))
    video = pc.addTransceiver("video", direction="recvonly")
    capabilities = RTCRtpReceiver.getCapabilities("video")
    assert capabilities is not None
    wanted = ("video/VP8", "video/rtx")
    video.setCodecPreferences([c for c in capabilities.codecs if c.mimeType in wanted])
    pc.addTransceiver("audio", direction="recvonly")
    try:
        peer_id = await signal(relay.url, pc, grant("vp8", "view"))
        room = relay.relay.rooms["vp8"]
        assert set(room._renditions) == {"h264", "vp8"}
        # Both viewers see the publisher's frames, each in its own codec.
        await asyncio.gather(catch_up(tracks["video"]), catch_up(h264.video))
        outlet = relay_sender(relay, peer_id, "video")._outlet
        assert room._renditions["vp8"].viewers == {outlet}
        assert outlet.frames_sent > 0 and outlet.keyframes_sent >= 1

        # The VP8 encode stops with its last viewer; H.264 (recording, HLS) goes on.
        await pc.close()
        await wait_for_status(f"{relay.url}/rooms/vp8/status", "viewers", 1)
        assert set(room._renditions) == {"h264"}
        await catch_up(h264.video)
    finally:
        await pc.close()
        await h264.close()
        await publication.close()
