"""The per-viewer queue: a slow viewer loses frames alone and resumes at a keyframe."""

from __future__ import annotations

import asyncio

import av
import pytest
from aiortc.mediastreams import MediaStreamError

from streaming.fanout import PacketTrack

pytestmark = [pytest.mark.media, pytest.mark.anyio]


def make_packet(index: int, *, keyframe: bool) -> av.Packet:
    packet = av.Packet(bytes([index % 256]) * 10)
    packet.pts = index
    packet.is_keyframe = keyframe
    return packet


async def test_slow_viewer_drops_alone_and_resumes_at_keyframe() -> None:
    requests: list[str] = []

    def make(name: str) -> PacketTrack:
        return PacketTrack(
            "video", on_keyframe_needed=lambda: requests.append(name), on_stop=lambda t: None
        )

    tracks = [make("fast"), make("slow")]
    fast, slow = tracks
    for track in tracks:  # both start reading: the first read asks for a keyframe
        reader = asyncio.ensure_future(track.recv())
        await asyncio.sleep(0)
        track.offer(make_packet(0, keyframe=True))
        assert (await reader).pts == 0
    assert requests == ["fast", "slow"]

    received = []
    for index in range(1, 170):
        packet = make_packet(index, keyframe=index == 150)
        for track in tracks:
            track.offer(packet)
        received.append((await fast.recv()).pts)  # the fast viewer keeps up

    assert received == list(range(1, 170))
    assert fast.packets_dropped == 0
    # The slow viewer never read: its queue stayed bounded, it asked for a
    # keyframe when it overflowed, and it restarts exactly at one.
    assert slow.packets_dropped > 0
    assert "slow" in requests[2:]
    first = await slow.recv()
    assert first.is_keyframe and first.pts == 150


async def test_stopped_track_ends_recv() -> None:
    track = PacketTrack("audio", on_keyframe_needed=lambda: None, on_stop=lambda t: None)
    reader = asyncio.ensure_future(track.recv())
    await asyncio.sleep(0)
    track.stop()
    with pytest.raises(MediaStreamError):
        await reader
