"""Remux the room's shared H.264 packets into the MP4 recording (HLS: streaming/llhls.py).

No second video encode: the packets are the ones viewers get. PyAV's
``add_mux_stream`` opens a stream without a codec context, and PyAV pulls SPS/PPS
out of the first keyframe (``extract_extradata``) before it writes the header.
The audio stream is AAC from the room's one AAC encoder; its stream here has an
(unused) AAC context only so the header carries the AudioSpecificConfig.
"""

from __future__ import annotations

import fractions
import logging
import time
from pathlib import Path

import av

logger = logging.getLogger(__name__)

MUX_TIME_BASE = fractions.Fraction(1, 90000)
AUDIO_TIME_BASE = fractions.Fraction(1, 48000)


class PacketMuxer:
    """Write copies of shared video packets into one container, starting at a keyframe."""

    def __init__(
        self,
        path: Path,
        *,
        format: str,
        width: int,
        height: int,
        options: dict[str, str] | None = None,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._container = av.open(str(path), "w", format=format, options=options or {})
        self._stream = self._container.add_mux_stream("h264", rate=30, width=width, height=height)
        self._stream.time_base = MUX_TIME_BASE
        audio = self._container.add_stream("aac", rate=48000)
        audio.codec_context.layout = "stereo"
        audio.codec_context.format = "fltp"
        audio.time_base = AUDIO_TIME_BASE
        self._audio = audio
        self._first_time: fractions.Fraction | None = None  # room clock, seconds
        self._first_pts: int | None = None
        self._last_pts = -1
        self._last_audio_pts = -1
        self.frames = 0
        self.started_at = time.time()

    def write(self, packet: av.Packet) -> None:
        if packet.pts is None or packet.time_base is None:
            return
        if self._first_pts is None:
            if not packet.is_keyframe:
                return  # a file must open on a keyframe to be playable
            self._first_pts = packet.pts
            self._first_time = packet.pts * packet.time_base
        pts = int((packet.pts - self._first_pts) * packet.time_base / MUX_TIME_BASE)
        if pts <= self._last_pts:
            return  # the muxer refuses non-increasing timestamps
        self._last_pts = pts
        # The muxer rescales packets in place; viewers still hold the original.
        copy = av.Packet(bytes(packet))
        copy.pts = copy.dts = pts
        copy.time_base = MUX_TIME_BASE
        copy.is_keyframe = packet.is_keyframe
        copy.stream = self._stream
        if self._mux(copy):
            self.frames += 1

    def write_audio(self, packet: av.Packet) -> None:
        """An AAC packet whose pts is on the room clock; dropped before the first keyframe."""
        if self._first_time is None or packet.pts is None or packet.time_base is None:
            return
        pts = int((packet.pts * packet.time_base - self._first_time) / AUDIO_TIME_BASE)
        if pts < 0 or pts <= self._last_audio_pts:
            return
        self._last_audio_pts = pts
        copy = av.Packet(bytes(packet))
        copy.pts = copy.dts = pts
        copy.time_base = AUDIO_TIME_BASE
        copy.stream = self._audio
        self._mux(copy)

    def _mux(self, packet: av.Packet) -> bool:
        try:
            self._container.mux(packet)
        except av.FFmpegError:
            logger.exception("muxing into %s failed", self.path)
            return False
        return True

    def close(self) -> None:
        try:
            self._container.close()
        except av.FFmpegError:
            logger.exception("closing %s failed", self.path)


def open_recording(media_dir: Path, room: str, width: int, height: int) -> PacketMuxer:
    """Fragmented MP4: playable while it is written and after a crash, plays in Chromium."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = media_dir / "recordings" / f"{room}-{stamp}.mp4"
    return PacketMuxer(
        path,
        format="mp4",
        width=width,
        height=height,
        options={"movflags": "frag_keyframe+empty_moov+default_base_moof"},
    )
