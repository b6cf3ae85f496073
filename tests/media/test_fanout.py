"""The fan-out under trouble: one viewer's bad network or backed-up socket is its own
problem, lost packets are resent, and a viewer that lost frames restarts at a keyframe.

Real relay, real aiortc publisher and viewers over loopback. A viewer's bad link is
made on the viewer's side of the socket (``BadLink``), the way a real network loses
packets; the relay is not touched.
"""

from __future__ import annotations

import asyncio
import itertools
import socket

import pytest
from aiortc import RTCPeerConnection, RTCRtpReceiver
from aiortc.mediastreams import MediaStreamTrack

from streaming.client import signal, udp_transports, video_payload_types, view
from streaming.fanout import MAX_SOCKET_BACKLOG
from streaming.synthetic import Publication, publish

from .conftest import (
    GrantFactory,
    RunningRelay,
    bad_link,
    kernel_drops,
    next_picture,
    pictures_until,
    relay_sender,
    viewer_outlet,
    wait_for_status,
)

pytestmark = [pytest.mark.media, pytest.mark.anyio]


async def catch_up(publication: Publication, *tracks: MediaStreamTrack) -> None:
    """Read past each viewer's local backlog: a viewer not read for a while (here:
    while the next one connects) holds decoded frames in its track's queue. Caught up
    means: it has shown a frame the publisher drew after this call."""
    now = publication.video.counter
    await asyncio.gather(
        *(next_picture(track, lambda p: p.stamp.counter >= now) for track in tracks)
    )


def increasing(counters: list[int]) -> bool:
    """Each frame once, in the publisher's order: no repeat, no backlog replayed."""
    return all(a < b for a, b in itertools.pairwise(counters))


async def test_a_viewer_cut_off_loses_frames_alone_and_recovers(
    relay: RunningRelay, grant: GrantFactory
) -> None:
    publication = await publish(relay.url, grant("cut", "publish"))
    steady = await view(relay.url, grant("cut", "view"))
    cut = await view(relay.url, grant("cut", "view"))
    try:
        await catch_up(publication, steady.video, cut.video)
        room = relay.relay.rooms["cut"]
        steady_out = viewer_outlet(relay, steady.peer_id)
        cut_out = viewer_outlet(relay, cut.peer_id)
        links = bad_link(cut.pc, lambda payload_type, seq: True)  # its network goes down
        cut_at = publication.video.counter
        steady_sent, steady_dropped, cut_sent = (
            steady_out.frames_sent,
            steady_out.frames_dropped,
            cut_out.frames_sent,
        )

        # The other viewer goes on with the publisher's new frames, in order ...
        pictures = await pictures_until(steady.video, cut_at + 30)
        assert increasing([p.stamp.counter for p in pictures])
        # ... and the room served both alike in every pass (read in one instant): it
        # never held anyone back for the cut viewer, nor dropped anything for the other.
        assert steady_out.frames_dropped == steady_dropped
        assert steady_out.frames_sent - steady_sent == cut_out.frames_sent - cut_sent > 0
        assert sum(link.dropped for link in links) > 0  # all of it lost on the way

        # The network comes back. The viewer's NACK for the whole burst makes the
        # room force a keyframe, and the viewer decodes the publisher's new frames
        # again from a keyframe. (How soon is up to the viewer's jitter buffer:
        # aiortc's plays out the resent packets first.)
        forced_before = room.stats.keyframes_forced
        for link in links:
            link.drop = lambda payload_type, seq: False
        back_at = publication.video.counter
        await next_picture(cut.video, lambda p: p.keyframe and p.stamp.counter > back_at)
        assert room.stats.keyframes_forced > forced_before
    finally:
        await steady.close()
        await cut.close()
        await publication.close()


async def test_a_backed_up_viewer_skips_frames_alone_and_restarts_at_a_keyframe(
    relay: RunningRelay, grant: GrantFactory
) -> None:
    """The socket's backlog is forced here (``max_backlog = -1``): on loopback a UDP
    socket's send queue never fills (Linux hands each datagram to the receiver at
    once, or drops it), so only the threshold can make the relay see one. The test
    below stops a viewer's socket for real."""
    publication = await publish(relay.url, grant("backlog", "publish"))
    fast = await view(relay.url, grant("backlog", "view"))
    slow = await view(relay.url, grant("backlog", "view"))
    try:
        await catch_up(publication, fast.video, slow.video)
        fast_out = viewer_outlet(relay, fast.peer_id)
        slow_sender = relay_sender(relay, slow.peer_id, "video")
        slow_out = slow_sender.outlet
        fast_sent, fast_dropped = fast_out.frames_sent, fast_out.frames_dropped
        slow_sent, slow_dropped = slow_out.frames_sent, slow_out.frames_dropped

        # From now on the slow viewer's socket counts as backed up. Every frame the
        # publisher draws from here is encoded after this line.
        slow_sender.max_backlog = -1
        backed_up_at = publication.video.counter
        pictures = await pictures_until(fast.video, backed_up_at + 20)
        assert increasing([p.stamp.counter for p in pictures])
        assert fast_out.frames_dropped == fast_dropped  # nothing lost for the others
        assert slow_out.frames_sent == slow_sent  # nothing sent into a full socket
        # Every frame the others got in that time, the slow one skipped (same passes).
        assert slow_out.frames_dropped - slow_dropped == fast_out.frames_sent - fast_sent > 0
        assert slow_out.awaiting_keyframe

        # Its socket drains: the first frame drawn since the backlog that it gets is a
        # keyframe (a decoder cannot resume mid-GOP), sent to it once it drained.
        keyframes = slow_out.keyframes_sent
        slow_sender.max_backlog = MAX_SOCKET_BACKLOG
        restart = await next_picture(slow.video, lambda p: p.stamp.counter >= backed_up_at)
        assert restart.keyframe
        assert slow_out.keyframes_sent > keyframes
        assert not slow_out.awaiting_keyframe
        assert fast_out.frames_dropped == fast_dropped
    finally:
        await fast.close()
        await slow.close()
        await publication.close()


async def test_a_viewer_that_stops_reading_its_socket_is_its_own_problem(
    relay: RunningRelay, grant: GrantFactory
) -> None:
    """A viewer's socket really backs up: it stops reading (its tab froze) and its
    receive buffer, made small, fills; the kernel drops what does not fit."""
    publication = await publish(relay.url, grant("frozen", "publish"))
    others = [await view(relay.url, grant("frozen", "view")) for _ in range(2)]
    frozen = await view(relay.url, grant("frozen", "view"))
    try:
        await catch_up(publication, frozen.video, *(v.video for v in others))
        room = relay.relay.rooms["frozen"]
        outlets = [viewer_outlet(relay, v.peer_id) for v in others]
        frozen_out = viewer_outlet(relay, frozen.peer_id)
        sockets = udp_transports(frozen.pc)
        buffers = [t.get_extra_info("socket") for t in sockets]
        # Linux reports twice what was set (its bookkeeping): halve it to restore it.
        usual = [b.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) // 2 for b in buffers]
        for buffer in buffers:
            buffer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        drops_before = kernel_drops(sockets)
        sent = [o.frames_sent for o in outlets]
        dropped = [o.frames_dropped for o in outlets]
        frozen_sent = frozen_out.frames_sent
        for transport in sockets:
            transport.pause_reading()  # type: ignore[attr-defined]
        frozen_at = publication.video.counter

        seen = await asyncio.gather(*(pictures_until(v.video, frozen_at + 30) for v in others))
        for pictures in seen:
            assert increasing([p.stamp.counter for p in pictures])
        # The others lost nothing and were sent every frame; the relay cannot tell the
        # frozen one apart (UDP has no back-pressure) and kept sending it the same.
        assert [o.frames_dropped for o in outlets] == dropped
        served = {o.frames_sent - s for o, s in zip(outlets, sent, strict=True)}
        assert served == {frozen_out.frames_sent - frozen_sent}
        assert kernel_drops(sockets) > drops_before  # its buffer was really full

        # It reads again: its NACK for the gap forces a keyframe, where it restarts.
        forced_before = room.stats.keyframes_forced
        for buffer, size in zip(buffers, usual, strict=True):
            buffer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
        for transport in sockets:
            transport.resume_reading()  # type: ignore[attr-defined]
        back_at = publication.video.counter
        await next_picture(frozen.video, lambda p: p.keyframe and p.stamp.counter > back_at)
        assert room.stats.keyframes_forced > forced_before
        assert [o.frames_dropped for o in outlets] == dropped
    finally:
        for viewer in (*others, frozen):
            await viewer.close()
        await publication.close()


async def test_lost_packets_are_resent(relay: RunningRelay, grant: GrantFactory) -> None:
    publication = await publish(relay.url, grant("lossy", "publish"))
    viewer = await view(relay.url, grant("lossy", "view"))
    clean = await view(relay.url, grant("lossy", "view"))  # the same frames, no loss
    try:
        await catch_up(publication, viewer.video, clean.video)
        video = video_payload_types(viewer.pc)
        # One video packet in 20 never arrives (retransmissions travel as RTX,
        # another payload type, and get through).
        links = bad_link(viewer.pc, lambda pt, seq: pt in video and seq % 20 == 0)
        lossy_at = publication.video.counter
        window = range(lossy_at + 1, lossy_at + 46)
        lossy, reference = await asyncio.gather(
            pictures_until(viewer.video, window[-1]), pictures_until(clean.video, window[-1])
        )
        assert sum(link.dropped for link in links) > 5
        assert relay_sender(relay, viewer.peer_id, "video").retransmitted > 5
        # Resent in time: every frame the clean viewer decoded in those 45 of the
        # publisher's frames, the lossy one decoded too, in order (counted against a
        # viewer served in the same passes, not the clock: a busy room skips frames
        # for everyone alike).
        lossy_counters = [p.stamp.counter for p in lossy if p.stamp.counter in window]
        assert increasing(lossy_counters)
        assert lossy_counters == [p.stamp.counter for p in reference if p.stamp.counter in window]
    finally:
        await viewer.close()
        await clean.close()
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
        assert room.codecs == {"h264", "vp8"}
        # Both viewers see the publisher's frames, each in its own codec.
        await catch_up(publication, tracks["video"], h264.video)
        outlet = viewer_outlet(relay, peer_id)
        assert outlet.frames_sent > 0 and outlet.keyframes_sent >= 1

        # The VP8 encode stops with its last viewer; H.264 (recording, HLS) goes on.
        await pc.close()
        await wait_for_status(f"{relay.url}/rooms/vp8/status", "viewers", 1)
        assert room.codecs == {"h264"}
        await catch_up(publication, h264.video)
    finally:
        await pc.close()
        await h264.close()
        await publication.close()
