"""One room: a publisher's decoded media in, one encode per rendition, many viewers out.

The room owns the shared encoders, the viewers' packet queues, keyframe control,
the recording and HLS muxers and the latest decoded frame (for snapshots and
thumbnails). It has one loop task that pulls the newest publisher frame, encodes
it once per rendition and offers the packets to every viewer's queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import av
from aiortc.codecs import H264Encoder, OpusEncoder, Vp8Encoder
from aiortc.codecs.base import Encoder
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from . import imaging
from .encoder import SharedAacEncoder, SharedAudioEncoder, SharedVideoEncoder, VideoCodec
from .fanout import Outlet, SharedFrame
from .llhls import LowLatencyHls
from .recorder import PacketMuxer, open_recording

logger = logging.getLogger(__name__)

PublisherState = Literal["none", "live", "reconnecting"]

DEFAULT_SIZE = (640, 480)
# At most one forced keyframe per room in this window: a burst of joins or PLIs
# then costs one big frame, not one each.
KEYFRAME_MIN_INTERVAL = 0.5
# While the host is away the slate goes out at 2 fps: enough to keep decoders
# and RTP timers alive, cheap enough to ignore.
SLATE_INTERVAL = 0.5
# A live publisher that sends no frame for this long is treated as dropped.
STALL_SECONDS = 3.0
THUMBNAIL_INTERVAL = 10.0
BITRATE_WINDOW = 2.0


def _packetiser(codec: VideoCodec) -> Encoder:
    # Only aiortc's ``pack`` is used (RTP payloads from an encoded packet), once
    # per frame for all viewers; these objects never encode.
    return H264Encoder() if codec == "h264" else Vp8Encoder()


@dataclass
class Rendition:
    encoder: SharedVideoEncoder
    viewers: set[Outlet] = field(default_factory=set)
    packetiser: Encoder = field(init=False)
    keyframe_wanted: bool = True
    last_forced: float = 0.0

    def __post_init__(self) -> None:
        self.packetiser = _packetiser(self.encoder.codec)

    def request_keyframe(self) -> None:
        self.keyframe_wanted = True

    def take_keyframe_request(self, now: float) -> bool:
        if self.keyframe_wanted and now - self.last_forced >= KEYFRAME_MIN_INTERVAL:
            self.keyframe_wanted = False
            self.last_forced = now
            return True
        return False


@dataclass
class RoomStats:
    frames_in: int = 0
    frames_encoded: int = 0
    keyframes: int = 0  # of the main (H.264) rendition, periodic and forced
    keyframes_forced: int = 0  # of those, forced for a join, a PLI or a lost burst
    frames_sent: int = 0  # by viewers that have left; live ones are added on read
    frames_dropped: int = 0
    bytes_encoded: int = 0
    _window: list[tuple[float, int]] = field(default_factory=list)

    def add_bytes(self, now: float, size: int) -> None:
        self.bytes_encoded += size
        self._window.append((now, size))
        while self._window and now - self._window[0][0] > BITRATE_WINDOW:
            self._window.pop(0)

    def bitrate(self, now: float) -> float:
        recent = sum(size for t, size in self._window if now - t <= BITRATE_WINDOW)
        return recent * 8 / BITRATE_WINDOW


class Room:
    """One publisher's stage. A show's host stage (``main``) also records, writes HLS and
    thumbnails and shows the slate; a co-host stage (``main=False``) only serves viewers,
    sends nothing while nobody publishes on it and may be muted for them."""

    def __init__(self, name: str, media_dir: Path, *, main: bool = True) -> None:
        self.name = name
        self.media_dir = media_dir
        self.main = main
        # The host muted this stage's sound: viewers get none of its audio.
        self.muted = False
        self.publisher_id: str | None = None
        self.state: PublisherState = "none"
        self.stats = RoomStats()
        self.recording: PacketMuxer | None = None
        # LL-HLS (streaming/llhls.py), from the same H.264 packets viewers get.
        self.hls: LowLatencyHls | None = None
        # Set from the publisher's grant (Relay._adopt_claims). HLS is for a mass
        # audience: only a public show writes it; a recording only when asked for.
        self.public = False
        self.record = False
        self._size = DEFAULT_SIZE
        self._size_fixed = False
        # Whether the publisher sends sound: HLS declares an audio track only then (a
        # track that never gets a sample would hold the player's buffer empty).
        self._publisher_audio = True
        self._renditions: dict[VideoCodec, Rendition] = {}
        self._audio_viewers: set[Outlet] = set()
        self._audio_encoder = SharedAudioEncoder()
        self._audio_packetiser = OpusEncoder()
        self._aac_encoder = SharedAacEncoder()
        self._latest: av.VideoFrame | None = None
        self._latest_at = 0.0
        self._fresh = asyncio.Event()
        # A colour snapshot's collectors: each gets the next decoded frames (colour_snapshot).
        self._frame_taps: set[asyncio.Queue[av.VideoFrame]] = set()
        self._slate: av.VideoFrame | None = None
        self._publisher_tasks: list[asyncio.Task[None]] = []
        self._clock_origin = time.monotonic()
        self._last_pts = -1
        self._last_thumbnail = 0.0
        self._closed = False
        self._loop_task = asyncio.create_task(self._run(), name=f"room-{name}")

    # -- viewers ---------------------------------------------------------------

    @property
    def is_idle(self) -> bool:
        return self.state == "none" and self.publisher_id is None and self.viewer_count == 0

    @property
    def codecs(self) -> frozenset[VideoCodec]:
        """The renditions being encoded now: H.264 always once published, others per viewer."""
        return frozenset(self._renditions)

    @property
    def viewer_count(self) -> int:
        return sum(len(r.viewers) for r in self._renditions.values())

    def add_viewer(self, codec: VideoCodec) -> tuple[Outlet, Outlet]:
        rendition = self._rendition(codec)
        video = Outlet(
            "video",
            # Looked up by codec each time: the rendition object is replaced when
            # the first publisher frame fixes the room's size.
            on_keyframe_needed=lambda: self._request_keyframe(codec),
            on_stop=self._remove_viewer,
        )
        audio = Outlet("audio", on_keyframe_needed=lambda: None, on_stop=self._remove_viewer)
        rendition.viewers.add(video)
        self._audio_viewers.add(audio)
        return video, audio

    def _rendition(self, codec: VideoCodec) -> Rendition:
        if codec not in self._renditions:
            width, height = self._size
            self._renditions[codec] = Rendition(SharedVideoEncoder(codec, width, height))
        return self._renditions[codec]

    def _request_keyframe(self, codec: VideoCodec) -> None:
        rendition = self._renditions.get(codec)
        if rendition is not None:
            rendition.request_keyframe()

    def _remove_viewer(self, outlet: Outlet) -> None:
        if outlet.kind == "video":
            self.stats.frames_sent += outlet.frames_sent
            self.stats.frames_dropped += outlet.frames_dropped
        self._audio_viewers.discard(outlet)
        for codec, rendition in list(self._renditions.items()):
            rendition.viewers.discard(outlet)
            # H.264 stays on for recording/HLS; other renditions only serve viewers.
            if codec != "h264" and not rendition.viewers:
                del self._renditions[codec]

    def viewer_totals(self) -> tuple[int, int]:
        """Frames sent and dropped by all video viewers, past and present."""
        sent, dropped = self.stats.frames_sent, self.stats.frames_dropped
        for rendition in self._renditions.values():
            for outlet in rendition.viewers:
                sent += outlet.frames_sent
                dropped += outlet.frames_dropped
        return sent, dropped

    # -- publisher -------------------------------------------------------------

    def attach_publisher(
        self, peer_id: str, video: MediaStreamTrack | None, audio: MediaStreamTrack | None
    ) -> None:
        """Make this peer the room's publisher, replacing any previous one."""
        self._cancel_publisher_tasks()
        self.publisher_id = peer_id
        self.state = "live"
        self._latest_at = time.monotonic()
        self._slate = None
        self._publisher_audio = audio is not None
        if video is not None:
            self._publisher_tasks.append(
                asyncio.create_task(self._pump(peer_id, video, self._on_video))
            )
        if audio is not None:
            self._publisher_tasks.append(
                asyncio.create_task(self._pump(peer_id, audio, self._on_audio))
            )
        for rendition in self._renditions.values():
            rendition.request_keyframe()

    def publisher_dropped(self, peer_id: str) -> None:
        """The host's connection went away: viewers stay, and see the slate."""
        if peer_id == self.publisher_id and self.state == "live":
            self.state = "reconnecting"
            self._slate = None

    def end_publisher(self, peer_id: str) -> None:
        """The host ended the show on purpose: close the recording and HLS."""
        if peer_id != self.publisher_id:
            return
        self._cancel_publisher_tasks()
        self.publisher_id = None
        self.state = "none"
        self._slate = None
        self._close_muxers()

    def _cancel_publisher_tasks(self) -> None:
        for task in self._publisher_tasks:
            task.cancel()
        self._publisher_tasks = []

    async def _pump(
        self,
        peer_id: str,
        track: MediaStreamTrack,
        handle: Callable[[Any], None],
    ) -> None:
        try:
            while True:
                frame = await track.recv()
                handle(frame)
        except MediaStreamError:
            self.publisher_dropped(peer_id)

    def _on_video(self, frame: av.VideoFrame) -> None:
        if not self._size_fixed:
            self._fix_size(frame.width, frame.height)
        self.stats.frames_in += 1
        if self.state == "reconnecting":
            self.state = "live"  # a stalled publisher came back by itself
        # Keep only the newest frame: if encoding falls behind, viewers get
        # the present, not a growing backlog.
        self._latest = frame
        self._latest_at = time.monotonic()
        self._fresh.set()
        for tap in self._frame_taps:
            tap.put_nowait(frame)

    def _on_audio(self, frame: av.AudioFrame) -> None:
        # Opus runs for the whole show, viewers or not, like the H.264 encode: a
        # per-room cost, and the audio RTP clock keeps pace with the wall clock, so a
        # viewer who joins later gets timestamps consistent with the video's.
        for packet in self._audio_encoder.encode(frame):
            # Muted at the relay, not in the co-host's browser: nothing a guest's page
            # does can put their sound back on air.
            if self._audio_viewers and not self.muted:
                shared = SharedFrame.pack(self._audio_packetiser, packet)
                for outlet in list(self._audio_viewers):
                    outlet.send(shared)
        muxers = [m for m in (self.recording, self.hls) if m is not None]
        if muxers:
            clock = int((time.monotonic() - self._clock_origin) * 48000)
            for packet in self._aac_encoder.encode(frame, clock):
                for muxer in muxers:
                    muxer.write_audio(packet)

    def _fix_size(self, width: int, height: int) -> None:
        """The first publisher frame sets the room's size for its lifetime.

        A fixed size keeps the recording and HLS consistent; later publishers with
        another size are scaled to it by the encoder.
        """
        self._size_fixed = True
        if (width, height) != self._size:
            self._size = (width, height)
            for codec in list(self._renditions):
                old = self._renditions[codec]
                fresh = Rendition(SharedVideoEncoder(codec, width, height), viewers=old.viewers)
                self._renditions[codec] = fresh
        self._rendition("h264")
        if not self.main:
            return  # the replay and HLS are the host's picture (docs/relay.md)
        if self.record:
            self.recording = open_recording(self.media_dir, self.name, width, height)
        if self.public:
            self.hls = LowLatencyHls(
                self.media_dir / "hls" / self.name,
                width,
                height,
                audio=self._publisher_audio,
                # Segments open on keyframes: past 1.9 s without one, HLS asks for one
                # the way a joining viewer does (the GOP is 60 frames, long from a
                # slow camera).
                request_keyframe=lambda: self._request_keyframe("h264"),
            )

    # -- the encode loop -------------------------------------------------------

    async def _run(self) -> None:
        while not self._closed:
            frame = await self._next_frame()
            if frame is None:
                continue
            now = time.monotonic()
            pts = self._next_pts(now)
            jobs = [(r, r.take_keyframe_request(now)) for r in self._renditions.values()]
            try:
                # On the loop thread, on purpose: ultrafast x264 takes 2-4 ms a
                # 640x480 frame (measured), and a hop to a worker thread must wait
                # for the GIL behind the viewers' packet sending.
                encoded = self._encode(frame, pts, jobs)
            except (av.FFmpegError, ValueError):
                logger.exception("room %s: encoding failed", self.name)
                continue
            self._distribute(encoded, now)
            self.stats.keyframes_forced += sum(
                forced for r, forced in jobs if forced and r.encoder.codec == "h264"
            )
            self._maybe_thumbnail(now)

    async def _next_frame(self) -> av.VideoFrame | None:
        """The newest publisher frame, or the slate when the host is away and someone watches."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._fresh.wait(), SLATE_INTERVAL)
        if self._fresh.is_set():
            self._fresh.clear()
            return self._latest
        if self.state == "live" and time.monotonic() - self._latest_at > STALL_SECONDS:
            self.state = "reconnecting"
        if self.state == "live" or not self._renditions or self.viewer_count == 0:
            return None
        if not self.main:
            return None  # no co-host on air: their tile is hidden, not slated
        if self._slate is None:
            text = (
                "Host reconnecting..." if self.state == "reconnecting" else "Waiting for the host"
            )
            width, height = self._size
            self._slate = imaging.holding_slate(self._latest, width, height, text)
        return self._slate

    def _next_pts(self, now: float) -> int:
        # One monotonic 90 kHz clock per room, whoever publishes: viewers' RTP
        # timestamps never jump back when the host reconnects.
        pts = max(int((now - self._clock_origin) * 90000), self._last_pts + 1)
        self._last_pts = pts
        return pts

    @staticmethod
    def _encode(
        frame: av.VideoFrame, pts: int, jobs: list[tuple[Rendition, bool]]
    ) -> list[tuple[Rendition, list[av.Packet]]]:
        return [(r, r.encoder.encode(frame, pts, keyframe)) for r, keyframe in jobs]

    def _distribute(self, encoded: list[tuple[Rendition, list[av.Packet]]], now: float) -> None:
        self.stats.frames_encoded += 1
        for rendition, packets in encoded:
            is_main = rendition.encoder.codec == "h264"
            for packet in packets:
                if is_main:
                    self.stats.add_bytes(now, packet.size)
                    self.stats.keyframes += int(packet.is_keyframe)
                    for muxer in (self.recording, self.hls):
                        if muxer is not None:
                            muxer.write(packet)
                if not rendition.viewers:
                    continue  # nobody to packetise for (recording and HLS take packets)
                # Packetised once; then one pass, every viewer, no await: each costs
                # a copy, a header patch, SRTP and a sendto per RTP packet (fanout.py).
                shared = SharedFrame.pack(rendition.packetiser, packet)
                for outlet in list(rendition.viewers):
                    outlet.send(shared)

    def _maybe_thumbnail(self, now: float) -> None:
        if self._latest is None or self.state != "live" or not self.main:
            return
        if now - self._last_thumbnail < THUMBNAIL_INTERVAL:
            return
        self._last_thumbnail = now
        path = self.thumbnail_path
        path.parent.mkdir(parents=True, exist_ok=True)
        data = imaging.to_jpeg(self._latest, max_width=480)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)  # readers never see half a file

    # -- snapshots and status --------------------------------------------------

    @property
    def thumbnail_path(self) -> Path:
        return self.media_dir / "thumbnails" / f"{self.name}.jpg"

    def snapshot(self) -> tuple[bytes, Path] | None:
        """JPEG of the current publisher frame, also saved under the media dir."""
        if self._latest is None:
            return None
        data = imaging.to_jpeg(self._latest)
        path = self.media_dir / "snapshots" / f"{self.name}-{int(time.time() * 1000)}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return data, path

    async def colour_snapshot(
        self, frames: int = imaging.COLOUR_FRAMES, timeout: float = 4.0
    ) -> tuple[bytes, Path] | None:
        """PNG of the mean of the next ``frames`` decoded frames, for colour measurement.

        One decoded frame carries the codec's noise and the snapshot JPEG's loss: on the
        card's dark patches one 8-bit step is ΔE ~3 once corrected (docs/colour.md). The
        mean of two seconds of frames (4 s at most: a starved sender's frames come slower) and
        a lossless picture keep what the camera saw. The live video is untouched: this only
        reads the decoded frames.
        """
        tap: asyncio.Queue[av.VideoFrame] = asyncio.Queue()
        self._frame_taps.add(tap)
        taken: list[av.VideoFrame] = []
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while len(taken) < frames:
                left = deadline - loop.time()
                if left <= 0:
                    break
                try:
                    frame = await asyncio.wait_for(tap.get(), left)
                except TimeoutError:
                    break
                if taken and (frame.width, frame.height) != (taken[0].width, taken[0].height):
                    taken = []  # the sender changed its size: only frames of one size mix
                taken.append(frame)
        finally:
            self._frame_taps.discard(tap)
        if not taken:
            if self._latest is None:
                return None
            taken = [self._latest]  # a frozen picture: the last frame is all there is
        data = imaging.mean_png(taken)
        path = self.media_dir / "snapshots" / f"{self.name}-{int(time.time() * 1000)}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return data, path

    def _close_muxers(self) -> None:
        for muxer in (self.recording, self.hls):
            if muxer is not None:
                muxer.close()
        self.recording = None
        self.hls = None
        self._size_fixed = False

    async def close(self) -> None:
        self._closed = True
        self._cancel_publisher_tasks()
        self._loop_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._loop_task
        for rendition in self._renditions.values():
            for outlet in list(rendition.viewers):
                outlet.stop()
        for outlet in list(self._audio_viewers):
            outlet.stop()
        self._close_muxers()
