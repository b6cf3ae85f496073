"""Edge relays: a show larger than one relay, fanned out origin -> edges.

The origin relay (where the host publishes) decodes, encodes once and serves its own
viewers. An edge relay is told to *pull* a room from the origin (``POST
/rooms/<room>/pull``, the web nodes' internal token): it opens **one** viewer peer to
the origin, as any viewer would, and forwards the encoded packets it receives to its
own viewers through the same fan-out the origin uses (``fanout.py``). Nothing is
decoded or encoded at the edge, so an edge costs what the origin's viewers cost it,
per viewer; the origin carries one more viewer per edge. Viewers of the edge are
answered by the edge's ``Relay`` as usual (same grants, same ``POST /signal``): their
stage is an ``EdgeRoom`` fed by the subscription instead of an encoder.

How the encoded frames are had from aiortc: the subscription's receivers keep aiortc's
RTP path (SRTP, RTX, NACKs, the jitter buffer that reassembles a frame, PLIs), and
only its last step changes: the queue to the decoder thread is replaced by one that
hands each reassembled frame to the room (``FrameTap``), so the decoder thread waits
idle and never decodes. The video jitter buffer also releases a frame as soon as its
last (marker) packet is in, rather than when the next frame's first packet comes
(``EdgeJitterBuffer``): a frame interval less of delay. These touch aiortc's private
attributes (pinned minor version, as ``fanout.py`` does); the edge tests exercise them.

The edge serves the origin's H.264 rendition (a VP8-only viewer is refused with a
400; every browser decodes H.264) and the host's and co-host's stages both (the
subscription offers two of each m-line). Recording, HLS and thumbnails stay with the
origin. If the subscription fails (the origin restarts, the network breaks), the edge
subscribes again with a growing pause; its viewers stay connected, their RTP clocks
carry on from where they were, and they restart at the origin's next keyframe.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpSender, RTCSessionDescription
from aiortc.codecs import H264Encoder
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtp import RtpPacket
from aiortc.utils import uint16_add, uint16_gt

from sessions.grants import COHOST_SLOT, HOST_SLOT, issue_grant

from .encoder import VideoCodec
from .fanout import SharedFrame
from .relay import Relay, RelayError
from .room import KEYFRAME_MIN_INTERVAL, Rendition, Room

logger = logging.getLogger(__name__)

# The subscription's grant: spent at once by the origin, so a short life is enough.
GRANT_TTL_SECONDS = 60
# No packet from the origin for this long (it sends a slate at 2 fps even while its
# host is away): the subscription is dead, whatever ICE says yet.
STALL_SECONDS = 5.0
# Pauses between subscription attempts: quick after one failure, then every 10 s.
RETRY_DELAYS = (0.5, 1.0, 2.0, 5.0, 10.0)
# Wait this long for the origin's answer to a subscription offer.
SIGNAL_TIMEOUT = 15.0
# 128 packets: what the origin keeps for NACKs (aiortc's RTP_HISTORY_SIZE); a hole
# older than that is never filled, so the buffer gives up on it there.
VIDEO_BUFFER_PACKETS = 128
# Between two frames of the origin, in each clock: the step a resubscription's first
# frame takes after the last one viewers got, so their RTP timestamps never go back.
FRAME_STEP = {"video": 3000, "audio": 960}
H264_IDR = 5


class EdgeFrame(JitterFrame):
    """A reassembled frame and the RTP sequence numbers it spans (first, last)."""

    def __init__(self, data: bytes, timestamp: int, first_seq: int, last_seq: int) -> None:
        super().__init__(data, timestamp)
        self.first_seq = first_seq
        self.last_seq = last_seq


class EdgeJitterBuffer(JitterBuffer):
    """aiortc's video jitter buffer, releasing a frame as soon as its marker packet
    completes it (aiortc waits for the next frame's first packet), and saying which
    sequence numbers each frame spans: the edge checks that frames follow each other."""

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity, is_video=True)
        self._spans: dict[int, list[int]] = {}
        self.media_ssrc: int | None = None  # the origin's video SSRC, for PLIs

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        # Packets here are unwrapped already (a resend carries its original number).
        self.media_ssrc = packet.ssrc
        seq = packet.sequence_number
        span = self._spans.setdefault(packet.timestamp, [seq, seq])
        if uint16_gt(span[0], seq):
            span[0] = seq
        if uint16_gt(seq, span[1]):
            span[1] = seq
        pli, frame = super().add(packet)
        if frame is not None:
            return pli, self._released(frame.data, frame.timestamp)
        if not packet.marker or self._origin is None:
            return pli, None
        count = uint16_add(seq, -self._origin) + 1
        if count > self.capacity:
            return pli, None
        slots = [self._packets[(self._origin + i) % self.capacity] for i in range(count)]
        if any(p is None or p.timestamp != packet.timestamp for p in slots):
            return pli, None  # a hole, or an older frame still waiting for a resend
        self.remove(count)
        data = b"".join(p._data for p in slots if p is not None)  # type: ignore[attr-defined]
        return pli, self._released(data, packet.timestamp)

    def _released(self, data: bytes, timestamp: int) -> EdgeFrame:
        first, last = self._spans.pop(timestamp, (0, 0))
        if len(self._spans) > 64:  # frames given up on (holes never filled): forget them
            for stale in list(self._spans)[:-8]:
                del self._spans[stale]
        return EdgeFrame(data, timestamp, first, last)


class PassThroughBuffer(JitterBuffer):
    """Audio: every Opus packet is a frame, passed on at once (aiortc's audio buffer
    holds four; the viewers' own buffers absorb jitter, and Opus conceals a loss)."""

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        data: bytes = packet._data  # type: ignore[attr-defined]
        return False, JitterFrame(data=data, timestamp=packet.timestamp)


class FrameTap(queue.Queue[Any]):
    """Stands in for the receiver's queue to its decoder thread: a reassembled frame
    goes to ``on_frame`` (on the event loop, where aiortc puts it); the ``None`` that
    stops the decoder still reaches the thread, which has waited idle until then."""

    def __init__(self, on_frame: Callable[[JitterFrame], None]) -> None:
        super().__init__()
        self._on_frame = on_frame

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:
            super().put(None)
            return
        _codec, frame = item
        self._on_frame(frame)


class RawTimestamps:
    """Stands in for the receiver's timestamp mapper: the edge keeps the origin's RTP
    timestamps (its ``Clock`` rebases them for viewers, across resubscriptions)."""

    def map(self, timestamp: int) -> int:
        return timestamp


def tap_receiver(
    receiver: RTCRtpReceiver, kind: str, on_frame: Callable[[JitterFrame], None]
) -> JitterBuffer:
    """Hand ``receiver``'s reassembled, still encoded frames to ``on_frame``; returns the
    jitter buffer put in. Before the remote description is set: aiortc starts the
    decoder thread with the queue it finds then."""
    buffer: JitterBuffer
    if kind == "video":
        buffer = EdgeJitterBuffer(capacity=VIDEO_BUFFER_PACKETS)
    else:
        buffer = PassThroughBuffer(capacity=16)
    receiver._RTCRtpReceiver__jitter_buffer = buffer  # type: ignore[attr-defined]
    receiver._RTCRtpReceiver__timestamp_mapper = RawTimestamps()  # type: ignore[attr-defined]
    receiver._RTCRtpReceiver__decoder_queue = FrameTap(on_frame)  # type: ignore[attr-defined]
    return buffer


def is_h264_keyframe(data: bytes) -> bool:
    """Whether an Annex B access unit holds an IDR slice (where a decoder can start)."""
    return any(nalu and nalu[0] & 0x1F == H264_IDR for nalu in H264Encoder._split_bitstream(data))


def h264_payloads(data: bytes) -> list[bytes]:
    """RTP payloads of an access unit, packetised as the origin does (aiortc's FU-A/STAP-A)."""
    return H264Encoder._packetize(H264Encoder._split_bitstream(data))


class Clock:
    """A viewer-facing RTP clock over one subscription's timestamps after another: each
    new subscription continues a frame step after the last timestamp sent."""

    def __init__(self, step: int) -> None:
        self._step = step
        self._offset = 0
        self._last: int | None = None
        self._rebase = True

    def restart(self) -> None:
        self._rebase = True

    def map(self, timestamp: int) -> int:
        if self._rebase:
            self._rebase = False
            following = 0 if self._last is None else self._last + self._step
            self._offset = following - timestamp
        self._last = (timestamp + self._offset) & 0xFFFFFFFF
        return self._last


class EdgeRoom(Room):
    """A stage whose media comes encoded from the origin's subscription, not from an
    encoder: the viewers' bookkeeping, outlets and status are the ``Room``'s."""

    def __init__(self, name: str, media_dir: Path, *, main: bool = True) -> None:
        self.clocks = {kind: Clock(step) for kind, step in FRAME_STEP.items()}
        # Until the next keyframe, frames go to nobody: after a hole, or a new subscription.
        self._awaiting_keyframe = True
        self._last_seq: int | None = None
        self._request_pli: Callable[[], None] = lambda: None
        self._last_pli = 0.0
        self.frames_forwarded = 0
        self.frames_withheld = 0  # after a hole, until a keyframe
        super().__init__(name, media_dir, main=main)
        # The host's stage waits for the origin's first frame; a co-host's is "none"
        # until one is on air at the origin (its frames come only then).
        self.state = "reconnecting" if main else "none"
        self._last_frame_at = 0.0

    @property
    def is_idle(self) -> bool:
        return False  # pulled until told to stop, whether anyone watches now or not

    def _rendition(self, codec: VideoCodec) -> Rendition:
        if codec != "h264":
            raise RelayError(
                400, "no_common_codec", "an edge relay serves H.264 only; offer H.264 video"
            )
        return super()._rendition(codec)

    def attach_publisher(self, peer_id: str, video: Any, audio: Any) -> None:
        raise RelayError(
            409, "edge_room", "this relay pulls the room from its origin: publish there"
        )

    async def _run(self) -> None:
        """No encode loop (frames arrive from the ``Subscription``): only the state, from
        when the last frame came. The origin sends its host's stage a slate while the host
        is away, so a silent host stage means the origin is out of reach; a silent
        co-host stage means nobody co-hosts."""
        while True:
            await asyncio.sleep(1.0)
            if self.state == "live" and time.monotonic() - self._last_frame_at > STALL_SECONDS:
                self.state = "reconnecting" if self.main else "none"

    # -- from the subscription ----------------------------------------------------

    def subscribed(self, request_pli: Callable[[], None]) -> None:
        """A new subscription feeds this stage: its clocks restart after the last frame."""
        self._request_pli = request_pli
        for clock in self.clocks.values():
            clock.restart()
        self._awaiting_keyframe = True
        self._last_seq = None

    def unsubscribed(self) -> None:
        self._request_pli = lambda: None
        if self.state == "live":
            self.state = "reconnecting" if self.main else "none"

    def on_video(self, frame: EdgeFrame) -> None:
        now = time.monotonic()
        self.stats.frames_in += 1
        self.state = "live"
        self._last_frame_at = now
        keyframe = is_h264_keyframe(frame.data)
        if self._last_seq is not None and frame.first_seq != uint16_add(self._last_seq, 1):
            # Packets lost between origin and edge for good: viewers' decoders would
            # break on what follows, so nothing goes until a keyframe.
            self._awaiting_keyframe = True
        self._last_seq = frame.last_seq
        if self._awaiting_keyframe:
            if not keyframe:
                self.frames_withheld += 1
                self._request_keyframe("h264")
                return
            self._awaiting_keyframe = False
        self.stats.add_bytes(now, len(frame.data))
        self.stats.keyframes += int(keyframe)
        rendition = self._renditions.get("h264")
        if rendition is None or not rendition.viewers:
            return
        shared = SharedFrame(
            h264_payloads(frame.data), self.clocks["video"].map(frame.timestamp), keyframe
        )
        self.frames_forwarded += 1
        for outlet in list(rendition.viewers):
            outlet.send(shared)

    def on_audio(self, frame: JitterFrame) -> None:
        if not self._audio_viewers or not frame.data:
            return
        shared = SharedFrame([frame.data], self.clocks["audio"].map(frame.timestamp), True)
        for outlet in list(self._audio_viewers):
            outlet.send(shared)

    def _request_keyframe(self, codec: VideoCodec) -> None:
        # A joining viewer, a viewer's PLI or a hole: one PLI to the origin (whose room
        # rate-limits forced keyframes too), at most one per interval from here.
        now = time.monotonic()
        if now - self._last_pli >= KEYFRAME_MIN_INTERVAL:
            self._last_pli = now
            self.stats.keyframes_forced += 1
            self._request_pli()


class Subscription:
    """One viewer peer on the origin for one room, feeding the edge's stages, subscribed
    again whenever it fails until ``close``."""

    def __init__(self, relay: Relay, room: str, origin: str) -> None:
        self.relay = relay
        self.room = room
        self.origin = origin
        self.stages = {
            HOST_SLOT: EdgeRoom(room, relay.config.media_dir),
            COHOST_SLOT: EdgeRoom(room, relay.config.media_dir, main=False),
        }
        self.peer_id: str | None = None  # the subscription's peer at the origin
        self.pc: RTCPeerConnection | None = None  # while subscribed
        self.attempts = 0
        self.last_error = ""
        self._last_packet = 0.0
        self._task = asyncio.create_task(self._run(), name=f"edge-{room}")

    async def _run(self) -> None:
        failures = 0
        while True:
            self.attempts += 1
            pc: RTCPeerConnection | None = None
            try:
                pc = self.pc = await self._subscribe()
                failures = 0
                await self._until_dead(pc)
                self.last_error = "the subscription stalled or failed"
            except Exception as exc:  # any failure to subscribe: try again in a while
                self.last_error = str(exc) or type(exc).__name__
                logger.warning("edge %s: subscribing to %s failed: %s", self.room, self.origin, exc)
            finally:
                for stage in self.stages.values():
                    stage.unsubscribed()
                self.peer_id = self.pc = None
                if pc is not None:
                    await pc.close()
            delay = RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)]
            failures += 1
            await asyncio.sleep(delay)

    async def _subscribe(self) -> RTCPeerConnection:
        config = self.relay.config
        identity = f"edge-{config.host}:{config.port}"
        pc = RTCPeerConnection(self.relay._rtc_configuration(identity, max_bundle=True))
        try:
            h264 = [
                c
                for c in RTCRtpSender.getCapabilities("video").codecs
                if c.mimeType in ("video/H264", "video/rtx")
            ]
            buffers: list[EdgeJitterBuffer] = []
            # Host's video and audio, then the co-host's: the origin's m-line order.
            for stage in self.stages.values():
                video = pc.addTransceiver("video", direction="recvonly")
                # H.264 only: the origin's main rendition, which it encodes anyway.
                video.setCodecPreferences(h264)
                audio = pc.addTransceiver("audio", direction="recvonly")
                buffer = self._feed(video.receiver, "video", stage)
                assert buffer is not None
                buffers.append(buffer)
                self._feed(audio.receiver, "audio", stage)
            grant = issue_grant(
                config.grant_secret,
                room=self.room,
                role="view",
                identity=identity,
                ttl=GRANT_TTL_SECONDS,
            )
            await pc.setLocalDescription(await pc.createOffer())
            body = {"grant": grant, "sdp": pc.localDescription.sdp, "type": "offer"}
            timeout = aiohttp.ClientTimeout(total=SIGNAL_TIMEOUT)
            async with (
                aiohttp.ClientSession(timeout=timeout) as http,
                http.post(f"{self.origin}/signal", json=body) as response,
            ):
                answer = await response.json(content_type=None)
                if response.status != 200:
                    message = answer.get("message") if isinstance(answer, dict) else None
                    raise RelayError(
                        502, "origin_refused", f"the origin said {response.status}: {message}"
                    )
            await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
        except BaseException:
            await pc.close()
            raise
        self.peer_id = answer["peer_id"]
        self._last_packet = time.monotonic()
        for stage, buffer in zip(self.stages.values(), buffers, strict=True):
            stage.subscribed(self._pli_sender(pc, buffer))
        logger.info("edge %s: subscribed to %s as peer %s", self.room, self.origin, self.peer_id)
        return pc

    @staticmethod
    def _pli_sender(pc: RTCPeerConnection, buffer: EdgeJitterBuffer) -> Callable[[], None]:
        receiver = next(
            t.receiver
            for t in pc.getTransceivers()
            if t.kind == "video" and t.receiver._RTCRtpReceiver__jitter_buffer is buffer  # type: ignore[attr-defined]
        )

        sending: set[asyncio.Task[None]] = set()  # held until sent: the loop keeps weak refs

        def send() -> None:
            if buffer.media_ssrc is not None:
                task = asyncio.create_task(receiver._send_rtcp_pli(buffer.media_ssrc))
                sending.add(task)
                task.add_done_callback(sending.discard)

        return send

    def _feed(
        self, receiver: RTCRtpReceiver, kind: str, stage: EdgeRoom
    ) -> EdgeJitterBuffer | None:
        def on_frame(frame: JitterFrame) -> None:
            self._last_packet = time.monotonic()
            if isinstance(frame, EdgeFrame):
                stage.on_video(frame)
            else:
                stage.on_audio(frame)

        buffer = tap_receiver(receiver, kind, on_frame)
        return buffer if isinstance(buffer, EdgeJitterBuffer) else None

    async def _until_dead(self, pc: RTCPeerConnection) -> None:
        """Returns once the subscription failed or stalled."""
        failed = asyncio.Event()

        def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                failed.set()

        pc.on("connectionstatechange", on_state)
        while not failed.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(failed.wait(), 1.0)
            if time.monotonic() - self._last_packet > STALL_SECONDS:
                return

    def status(self) -> dict[str, Any]:
        host = self.stages[HOST_SLOT]
        return {
            "room": self.room,
            "origin": self.origin,
            "state": host.state,
            "origin_peer": self.peer_id,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "viewers": host.viewer_count,
            "frames_in": host.stats.frames_in,
            "frames_forwarded": host.frames_forwarded,
            "frames_withheld": host.frames_withheld,
        }

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


def check_origin_url(origin: object) -> str:
    """An http(s) base URL with a host and nothing after the path; 400 otherwise."""
    if not isinstance(origin, str) or not origin:
        raise RelayError(400, "bad_request", "origin must be the origin relay's http(s) URL")
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise RelayError(
            400, "bad_origin", "origin must be an http(s) URL such as http://relay-1:8001"
        )
    return origin.rstrip("/")


class Edges:
    """The rooms this relay pulls from an origin, by room name."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.pulls: dict[str, Subscription] = {}

    async def pull(self, room: str, given: object) -> tuple[Subscription, bool]:
        """Start pulling ``room`` from the origin URL ``given``; returns the pull and
        whether it is new. Pulling a room already pulled from there changes nothing."""
        origin = check_origin_url(given)
        current = self.pulls.get(room)
        if current is not None:
            if current.origin != origin:
                raise RelayError(
                    409, "pulled_elsewhere", f"this relay pulls {room} from {current.origin}"
                )
            return current, False
        relay = self.relay
        for stages in (relay.rooms, relay.cohosts):
            local = stages.get(room)
            if local is None:
                continue
            if not local.is_idle:
                raise RelayError(
                    409, "room_in_use", "the room has a publisher or viewers on this relay"
                )
            del stages[room]
            await local.close()
        subscription = Subscription(relay, room, origin)
        relay.rooms[room] = subscription.stages[HOST_SLOT]
        relay.cohosts[room] = subscription.stages[COHOST_SLOT]
        self.pulls[room] = subscription
        return subscription, True

    async def stop(self, room: str) -> bool:
        """Stop pulling: the edge's viewers of the room are hung up."""
        subscription = self.pulls.pop(room, None)
        if subscription is None:
            return False
        await subscription.close()
        relay = self.relay
        for peer in [p for p in relay.peers.values() if p.room == room]:
            await relay.close_peer(peer.peer_id)
        for stages in (relay.rooms, relay.cohosts):
            stage = stages.get(room)
            if stage is not None and stage in subscription.stages.values():
                del stages[room]
                await stage.close()
        return True

    async def close_all(self) -> None:
        for room in list(self.pulls):
            subscription = self.pulls.pop(room)
            await subscription.close()
