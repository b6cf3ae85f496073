"""Per-viewer packet queues fed from one shared encoder.

Each viewer's ``RTCRtpSender`` reads from its own ``PacketTrack``. Its ``recv``
returns ``av.Packet`` objects, so aiortc packetises them with ``Encoder.pack``
instead of encoding (see ``RTCRtpSender._next_encoded_frame``). Queues are
bounded: a viewer that cannot keep up loses frames for itself only, and then
waits for the next keyframe, because a video decoder cannot resume mid-GOP.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

import av
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

VIDEO_QUEUE_FRAMES = 30  # one second at 30 fps
AUDIO_QUEUE_PACKETS = 50  # one second of 20 ms Opus


class PacketTrack(MediaStreamTrack):
    """A viewer's view of a shared encoded stream."""

    def __init__(
        self,
        kind: str,
        *,
        on_keyframe_needed: Callable[[], None],
        on_stop: Callable[[PacketTrack], None],
        max_queue: int | None = None,
    ) -> None:
        super().__init__()
        self.kind = kind
        self._queue: deque[av.Packet] = deque()
        self._max_queue = max_queue or (
            VIDEO_QUEUE_FRAMES if kind == "video" else AUDIO_QUEUE_PACKETS
        )
        self._ready = asyncio.Event()
        self._on_keyframe_needed = on_keyframe_needed
        self._on_stop = on_stop
        # Nothing is queued until the sender first reads (after DTLS is up), so a
        # viewer's first frame is current; a video viewer then starts at a keyframe.
        self._started = False
        self._awaiting_keyframe = kind == "video"
        self.packets_sent = 0
        self.packets_dropped = 0
        self.keyframes_sent = 0

    @property
    def awaiting_keyframe(self) -> bool:
        return self._awaiting_keyframe

    def offer(self, packet: av.Packet) -> None:
        """Queue a packet for this viewer, or drop it if the viewer is behind."""
        if self.readyState != "live" or not self._started:
            return
        if self._awaiting_keyframe:
            if not packet.is_keyframe:
                self.packets_dropped += 1
                return
            self._awaiting_keyframe = False
        if len(self._queue) >= self._max_queue:
            # Drop the whole backlog rather than the newest frame: the viewer
            # then catches up in one step, at the next keyframe, with no delay left.
            self.packets_dropped += len(self._queue) + 1
            self._queue.clear()
            if self.kind == "video":
                self._awaiting_keyframe = True
                self._on_keyframe_needed()
            return
        self._queue.append(packet)
        self._ready.set()

    async def recv(self) -> av.Packet:
        if not self._started:
            self._started = True
            if self._awaiting_keyframe:
                self._on_keyframe_needed()
        while not self._queue:
            if self.readyState != "live":
                raise MediaStreamError
            self._ready.clear()
            await self._ready.wait()
        packet = self._queue.popleft()
        self.packets_sent += 1
        if packet.is_keyframe and self.kind == "video":
            self.keyframes_sent += 1
        return packet

    def request_keyframe(self) -> None:
        """Called for a PLI/FIR from this viewer; the room rate-limits it."""
        self._on_keyframe_needed()

    def stop(self) -> None:
        if self.readyState == "live":
            super().stop()
            self._ready.set()  # wake recv() so the sender's loop ends
            self._on_stop(self)
