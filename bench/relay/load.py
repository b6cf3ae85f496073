"""A load-generating process: many receive-only viewers of one room.

The bench (``bench/relay_bench.py``) makes every viewer a decoding one: it decodes
every frame and reads the synthetic camera's stamp (frame number and send time),
so frames are counted as the publisher's own frame numbers and the delay is
measured at arrival. ``--decoders`` below ``--viewers`` leaves the rest as cheap
counting viewers (distinct RTP timestamps, no decoding) for larger loads; their
count is not against the source.

Protocol with the parent (one line each): prints ``ready``; reads
``<start> <end>`` (wall-clock seconds of the measuring window); prints a JSON
result after ``end``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from aiortc import RTCPeerConnection, RTCRtpReceiver
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtp import RtpPacket

from sessions.grants import issue_grant
from streaming.client import SocketTap, signal, tap_sockets, video_payload_types
from streaming.framecode import delay_ms, read_frame_stamp


class Window:
    def __init__(self) -> None:
        self.start = float("inf")
        self.end = float("inf")

    def contains(self, now: float) -> bool:
        return self.start <= now < self.end


WINDOW = Window()  # one measuring window per process
CONNECT_BATCH = 8
LATE_GRACE = 1.0  # seconds after the window a frame sent in it may still arrive


def count_from_headers(pc: RTCPeerConnection, window: Window, frames: set[int]) -> None:
    """A counting viewer: one distinct RTP timestamp of video is one frame delivered.

    RTP headers travel in the clear under SRTP, so the viewer's UDP sockets count
    them on arrival and drop every RTP packet there: no SRTP decryption, no jitter
    buffer, no decoder (about 1 µs a packet), so one load process holds a hundred
    viewers and the load generator stops being what limits the measurement. STUN
    (ICE consent), DTLS and RTCP still go to aiortc, so the relay sees a live peer.
    The relay still encrypts and sends every packet for every viewer.

    Called once the answer is applied and before the connection is up, so not one
    media packet takes aiortc's receive path.
    """
    video = video_payload_types(pc)
    tap_sockets(pc, lambda inner: HeaderCounter(inner, video, window, frames))


class HeaderCounter(SocketTap):
    """Counts a viewer's video frames from RTP headers and swallows every RTP packet."""

    def __init__(self, inner: Any, video: set[int], window: Window, frames: set[int]) -> None:
        super().__init__(inner)
        self._video = video
        self._window = window
        self._frames = frames

    def on_rtp(self, data: bytes) -> bool:
        if (data[1] & 0x7F) in self._video and self._window.contains(time.time()):
            self._frames.add(int.from_bytes(data[4:8], "big"))
        return True


async def connected(pc: RTCPeerConnection) -> None:
    for _ in range(200):
        if pc.connectionState == "connected":
            return
        await asyncio.sleep(0.05)  # ICE and DTLS finish after the answer


def instrument(
    pc: RTCPeerConnection, window: Window, frames: set[int], arrivals: dict[int, float] | None
) -> None:
    """Count this viewer's video frames as they arrive (distinct RTP timestamps).

    Bench-only instance patch of the receiver's packet handler. A counting viewer
    (``arrivals`` None) stops there: the network and SRTP path stay real, but the
    jitter buffer and decoder thread are skipped, so one load process holds dozens
    of viewers. A decoding viewer notes when each frame's packets arrived and
    passes them on to be decoded; its delay is then measured at arrival, so a
    load process that is slow to decode does not count against the relay.
    """
    for receiver in pc.getReceivers():
        if receiver.track.kind == "video":
            _patch(receiver, window, frames, arrivals)


def _patch(
    receiver: RTCRtpReceiver, window: Window, frames: set[int], arrivals: dict[int, float] | None
) -> None:
    original = receiver._handle_rtp_packet

    async def on_rtp(packet: RtpPacket, arrival_time_ms: int) -> None:
        now = time.time()
        if packet.payload:
            if window.contains(now):
                frames.add(packet.timestamp)
            if arrivals is not None:
                arrivals[packet.timestamp] = now  # the last packet completes the frame
        if arrivals is not None:
            await original(packet, arrival_time_ms)

    receiver._handle_rtp_packet = on_rtp  # type: ignore[method-assign]
    if arrivals is not None:
        _note_rebased_timestamps(receiver, arrivals)


def _note_rebased_timestamps(receiver: RTCRtpReceiver, arrivals: dict[int, float]) -> None:
    """aiortc rebases RTP timestamps to the first frame before decoding; keep the
    arrival times under the rebased value, which is the decoded frame's pts."""
    mapper = receiver._RTCRtpReceiver__timestamp_mapper  # type: ignore[attr-defined]
    original = mapper.map

    def map_and_note(timestamp: int) -> int:
        rebased = int(original(timestamp))
        arrived = arrivals.pop(timestamp, None)
        if arrived is not None:
            arrivals[-1 - rebased] = arrived  # negative keys: rebased, ready to decode
        return rebased

    mapper.map = map_and_note


async def decode_frames(
    track: MediaStreamTrack, arrivals: dict[int, float], delays: list[int], seen: set[int]
) -> None:
    try:
        while True:
            frame = await track.recv()
            arrived = arrivals.pop(-1 - frame.pts, None) if frame.pts is not None else None
            if len(arrivals) > 300:  # frames lost before decoding: forget them
                arrivals.clear()
            stamp = read_frame_stamp(frame)
            if stamp is None:
                continue
            # Every publisher frame number decoded: the parent keeps those the
            # publisher says belong to the window (by its schedule, not by arrival,
            # so a backlog draining inside the window cannot add frames).
            seen.add(stamp.counter)
            if arrived is not None and WINDOW.contains(arrived):
                delays.append(delay_ms(stamp.sent_ms, int(arrived * 1000)))
    except MediaStreamError:
        pass


async def drain(track: MediaStreamTrack) -> None:
    try:
        while True:
            await track.recv()
    except MediaStreamError:
        pass


async def open_viewer(
    args: argparse.Namespace, counted: set[int] | None
) -> tuple[RTCPeerConnection, dict[str, Any]]:
    """A viewer peer; ``counted`` given: a counting viewer that fills it (see above)."""
    pc = RTCPeerConnection()
    tracks: dict[str, Any] = {}
    pc.on("track", lambda track: tracks.setdefault(track.kind, track))
    pc.addTransceiver("video", direction="recvonly")
    if not args.no_audio:
        pc.addTransceiver("audio", direction="recvonly")
    grant = issue_grant(args.grant_secret, room=args.room, role="view", identity="bench", ttl=300)
    await signal(args.relay, pc, grant)
    if counted is not None:
        count_from_headers(pc, WINDOW, counted)
    await connected(pc)
    return pc, tracks


async def run(args: argparse.Namespace) -> None:
    pcs: list[RTCPeerConnection] = []
    delays: list[int] = []
    # Per decoding viewer: the publisher's frame numbers it decoded in the window.
    seen: list[set[int]] = [set() for _ in range(min(args.decoders, args.viewers))]
    tasks: list[asyncio.Task[None]] = []
    # Connect in small concurrent batches: one at a time takes minutes at 128
    # viewers on a busy machine, all at once times out ICE.
    counted: list[set[int]] = [set() for _ in range(args.viewers)]
    opened: list[tuple[RTCPeerConnection, dict[str, Any]]] = []
    for first in range(0, args.viewers, CONNECT_BATCH):
        batch = range(first, min(first + CONNECT_BATCH, args.viewers))
        opened += await asyncio.gather(
            *(open_viewer(args, None if i < args.decoders else counted[i]) for i in batch)
        )
    for index, (pc, tracks) in enumerate(opened):
        pcs.append(pc)
        if index < args.decoders:
            arrivals: dict[int, float] = {}
            instrument(pc, WINDOW, counted[index], arrivals)
            reader = decode_frames(tracks["video"], arrivals, delays, seen[index])
            tasks.append(asyncio.create_task(reader))
            if "audio" in tracks:
                tasks.append(asyncio.create_task(drain(tracks["audio"])))
    print("ready", flush=True)
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    WINDOW.start, WINDOW.end = (float(x) for x in line.split())
    # Frames sent late in the window get a second to arrive and decode.
    await asyncio.sleep(max(0.0, WINDOW.end - time.time()) + LATE_GRACE)
    result = {
        "frames": [len(f) for f in counted],
        "delays": delays,
        # Per decoding viewer (one that decoded nothing included): the publisher's
        # frame numbers it decoded; the parent compares them with the numbers the
        # publisher says it sent in the window.
        "seen": [sorted(s) for s in seen],
        "connected": sum(pc.connectionState == "connected" for pc in pcs),
    }
    print(json.dumps(result), flush=True)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*(pc.close() for pc in pcs))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--relay", required=True)
    parser.add_argument("--room", required=True)
    parser.add_argument("--grant-secret", required=True)
    parser.add_argument("--viewers", type=int, required=True)
    parser.add_argument("--decoders", type=int, default=0)
    parser.add_argument("--no-audio", action="store_true")
    args = parser.parse_args()
    try:
        import uvloop  # cheaper packet handling: the load generator must not be the limit
    except ImportError:
        asyncio.run(run(args))
    else:
        uvloop.run(run(args))


if __name__ == "__main__":
    main()
