"""Low-latency HLS from the room's own encoded packets: CMAF parts, blocking reload.

The room hands every H.264 packet it encodes (the ones WebRTC viewers get) and every
AAC packet to ``LowLatencyHls``; nothing is encoded again. Packets are gathered into
parts of about ``PART_CUT`` seconds (``moof``+``mdat``, streaming/fmp4.py), parts into
segments that open on a keyframe, and the playlist (RFC 8216bis, LL-HLS) lists them:

- ``EXT-X-PART`` for the parts of the newest segments, ``EXT-X-PRELOAD-HINT`` for the
  part being made, ``EXT-X-PART-INF`` and ``EXT-X-SERVER-CONTROL`` with
  ``CAN-BLOCK-RELOAD=YES`` and ``PART-HOLD-BACK`` (three part targets, as advised);
- a playlist request with ``_HLS_msn``/``_HLS_part`` is held until that part exists
  (``wait_for``), so a player learns of a part the moment it is written instead of
  polling: that, and parts of a fifth of a second, is the whole latency gain;
- the full segments are written too (their parts back to back), for players without
  LL-HLS and for CDNs.

Files are written under ``<media>/hls/<room>/`` (the playlist too, so an ended show's
last playlist is still served after its room is gone); their names start with a
stream id so that a show restarted in the same room never reuses a name a CDN may
have cached. All of it runs on the event loop thread, like the room that calls it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import av

from . import fmp4
from .media_files import HLS_FILE_PATTERN

logger = logging.getLogger(__name__)

# Parts are cut once they hold this much video (6 frames at 30 fps); the declared
# target leaves room for a late frame. hls.js then plays PART_HOLD_BACK behind live.
PART_CUT = 0.2
PART_TARGET = 0.25
PART_HOLD_BACK = 3 * PART_TARGET
# Segments open on a keyframe. The encoder sends one at least every GOP_FRAMES frames
# (2 s at 30 fps, longer from a slower camera): past SEGMENT_ASK the muxer asks the
# room for one (as a joining viewer does), past SEGMENT_MAX it cuts without one.
TARGET_DURATION = 2
SEGMENT_MIN = 1.0
SEGMENT_ASK = 1.9
SEGMENT_MAX = 2.4
# Complete segments listed, and of those the newest whose parts are listed too.
LIST_SEGMENTS = 6
PART_SEGMENTS = 2
# Files of segments that left the playlist are kept a little longer for slow players.
KEEP_SEGMENTS = LIST_SEGMENTS + 3
# A blocking request is answered with 503 after this (three target durations, the
# spec's advice); a request for a segment further ahead than this is refused.
BLOCK_TIMEOUT = 3 * TARGET_DURATION
MAX_MSN_AHEAD = 2

VIDEO_TICKS = fmp4.VIDEO_TIMESCALE
AUDIO_TICKS = fmp4.AUDIO_TIMESCALE

PLAYLIST = "index.m3u8"


class TooFarAhead(Exception):
    """A blocking request for a segment more than MAX_MSN_AHEAD past the newest."""


@dataclass
class Part:
    duration: float
    independent: bool
    data: bytes


@dataclass
class Segment:
    msn: int
    started_at: float  # wall clock, for EXT-X-PROGRAM-DATE-TIME
    parts: list[Part] = field(default_factory=list)
    complete: bool = False

    @property
    def duration(self) -> float:
        return sum(p.duration for p in self.parts)


class Playlist:
    """The segments and parts of one stream, and the media playlist that lists them.

    Pure bookkeeping (no files, no clock): streaming/llhls.py's muxer feeds it, the
    unit tests drive it directly."""

    def __init__(self, sid: str) -> None:
        self.sid = sid
        self.segments: list[Segment] = []
        self.ended = False

    def name(self, msn: int, part: int | None = None) -> str:
        return f"{self.sid}-{msn}.m4s" if part is None else f"{self.sid}-{msn}.{part}.m4s"

    @property
    def init_name(self) -> str:
        return f"{self.sid}-init.mp4"

    @property
    def current(self) -> Segment | None:
        return self.segments[-1] if self.segments else None

    def add_part(self, part: Part, *, new_segment: bool, started_at: float) -> tuple[int, int]:
        """Append a part, opening a new segment first if asked; its (msn, index)."""
        current = self.current
        if current is None or new_segment or current.complete:
            if current is not None:
                current.complete = True
            msn = current.msn + 1 if current is not None else 0
            current = Segment(msn, started_at)
            self.segments.append(current)
        current.parts.append(part)
        return current.msn, len(current.parts) - 1

    def finish(self) -> None:
        if self.current is not None:
            self.current.complete = True
        self.ended = True

    def drop_old(self) -> list[Segment]:
        """Forget the segments past KEEP_SEGMENTS; they are returned for deletion."""
        dropped = self.segments[:-KEEP_SEGMENTS] if len(self.segments) > KEEP_SEGMENTS else []
        del self.segments[: len(dropped)]
        return dropped

    def has(self, msn: int, part: int | None) -> bool:
        """Whether the playlist already holds segment ``msn`` (complete) or, with
        ``part``, that part of it; a later segment or part counts (RFC 8216bis 6.2.5.2)."""
        current = self.current
        if current is None:
            return False
        if part is None:
            done = current.msn if current.complete else current.msn - 1
            return done >= msn
        if current.msn != msn:
            return current.msn > msn
        # Past the last part of a complete segment: that is the next segment's first.
        return len(current.parts) > part

    def check_ahead(self, msn: int) -> None:
        newest = self.current.msn if self.current is not None else 0
        if msn > newest + MAX_MSN_AHEAD:
            raise TooFarAhead

    def render(self) -> str:
        listed = [s for s in self.segments if s.complete][-LIST_SEGMENTS:]
        current = self.current
        if current is not None and not current.complete:
            listed.append(current)
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:6",
            f"#EXT-X-TARGETDURATION:{TARGET_DURATION}",
            f"#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK={PART_HOLD_BACK:.3f}",
            f"#EXT-X-PART-INF:PART-TARGET={PART_TARGET:.3f}",
            f"#EXT-X-MEDIA-SEQUENCE:{listed[0].msn if listed else 0}",
            f'#EXT-X-MAP:URI="{self.init_name}"',
        ]
        with_parts = {s.msn for s in listed[-(PART_SEGMENTS + 1) :]}
        for index, segment in enumerate(listed):
            if index == 0:
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(segment.started_at))
                millis = int(segment.started_at * 1000) % 1000
                lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{stamp}.{millis:03d}Z")
            if segment.msn in with_parts:
                for n, part in enumerate(segment.parts):
                    independent = ",INDEPENDENT=YES" if part.independent else ""
                    uri = self.name(segment.msn, n)
                    lines.append(
                        f'#EXT-X-PART:DURATION={part.duration:.3f},URI="{uri}"{independent}'
                    )
            if segment.complete:
                lines.append(f"#EXTINF:{segment.duration:.3f},")
                lines.append(self.name(segment.msn))
        if self.ended:
            lines.append("#EXT-X-ENDLIST")
        elif current is not None:
            # The part being made: the next of this segment (or the first of the next,
            # which a player asks for by the same rule when this one completes).
            msn, n = (current.msn + 1, 0) if current.complete else (current.msn, len(current.parts))
            lines.append(f'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="{self.name(msn, n)}"')
        return "\n".join(lines) + "\n"


def part_of(filename: str) -> tuple[str, int, int | None] | None:
    """(stream id, msn, part or None) of a part or segment file name."""
    match = HLS_FILE_PATTERN.fullmatch(filename)
    if match is None or match["msn"] is None:
        return None
    part = match["part"]
    return match["sid"], int(match["msn"]), int(part) if part is not None else None


class LowLatencyHls:
    """The room's LL-HLS muxer: ``write`` and ``write_audio`` take shared packets (as
    recorder.PacketMuxer does), ``wait_for`` holds a blocking playlist request."""

    def __init__(
        self,
        directory: Path,
        width: int,
        height: int,
        *,
        audio: bool,
        request_keyframe: Callable[[], None] = lambda: None,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for old in directory.glob("*"):
            old.unlink()
        self.directory = directory
        self.path = directory / PLAYLIST
        self.width, self.height = width, height
        self.audio = audio
        self.playlist = Playlist(secrets.token_hex(6))
        self._request_keyframe = request_keyframe
        self._changed = asyncio.Event()
        self._init_written = False
        self._sequence = 0
        # Video: the part's samples so far, waiting for the next frame's pts (a frame
        # lasts until the next one starts).
        self._origin_pts: int | None = None  # 90 kHz, of the first keyframe
        self._origin_time: float | None = None  # room clock seconds, of the same
        self._origin_wall = 0.0  # wall clock, of the same
        self._held: tuple[int, bytes, bool] | None = None  # (pts, avcc data, keyframe)
        self._video: list[fmp4.VideoSample] = []
        self._part_start = 0  # 90 kHz from the origin
        self._segment_start = 0
        self._new_segment = True
        self._asked_keyframe = False
        # Audio: samples since the last part, and the decode time they continue from.
        self._audio_samples: list[fmp4.AudioSample] = []
        self._audio_time: int | None = None  # 48 kHz from the origin, of the next sample
        self._audio_part_time = 0
        self.frames = 0

    # -- packets in ------------------------------------------------------------

    def write(self, packet: av.Packet) -> None:
        if self.playlist.ended or packet.pts is None or packet.time_base is None:
            return
        if self._origin_pts is None:
            if not packet.is_keyframe:
                return  # the stream opens on a keyframe
            data, sps, pps = fmp4.avcc_sample(bytes(packet))
            if sps is None or pps is None:
                return  # nothing to describe the stream with yet
            self._write_file(
                self.playlist.init_name,
                fmp4.init_segment(self.width, self.height, sps, pps, audio=self.audio),
            )
            self._origin_pts = packet.pts
            self._origin_time = float(packet.pts * packet.time_base)
            self._origin_wall = time.time()
        else:
            data, _, _ = fmp4.avcc_sample(bytes(packet))
        pts = int((packet.pts - self._origin_pts) * packet.time_base * VIDEO_TICKS)
        if self._held is not None:
            held_pts, held_data, held_key = self._held
            if pts <= held_pts:
                return  # never a zero or negative duration
            # A frame lasts until the next one starts: only now is the held one complete.
            self._video.append(fmp4.VideoSample(held_data, pts - held_pts, held_key))
            self._maybe_cut(pts, packet.is_keyframe)
        self._held = (pts, data, packet.is_keyframe)
        self.frames += 1

    def write_audio(self, packet: av.Packet) -> None:
        """An AAC packet whose pts is on the room clock; dropped before the first keyframe."""
        if not self.audio or self._origin_time is None or self.playlist.ended:
            return
        if packet.pts is None or packet.time_base is None:
            return
        at = round((float(packet.pts * packet.time_base) - self._origin_time) * AUDIO_TICKS)
        if at < 0:
            return
        if not self._audio_samples:
            # Samples follow each other exactly (1024 each), so the track has no gap
            # that would stall the player over the clock's jitter; only a real jump
            # (the publisher was away) restarts the timeline, at a part's first sample
            # (one decode time per track and part).
            if self._audio_time is None or abs(at - self._audio_time) > AUDIO_TICKS // 10:
                self._audio_time = at
            self._audio_part_time = self._audio_time
        self._audio_samples.append(fmp4.AudioSample(bytes(packet)))
        self._audio_time = (self._audio_time or 0) + fmp4.AAC_FRAME_SAMPLES

    # -- cutting ---------------------------------------------------------------

    def _maybe_cut(self, pts: int, keyframe: bool) -> None:
        """A frame at ``pts`` has arrived: close the part before it if the part is long
        enough or the frame is a keyframe (a player may start at any such part), and
        open a segment at a keyframe once the segment is long enough."""
        part_length = (pts - self._part_start) / VIDEO_TICKS
        segment_length = (pts - self._segment_start) / VIDEO_TICKS
        if segment_length >= SEGMENT_ASK and not self._asked_keyframe:
            self._asked_keyframe = True
            self._request_keyframe()
        opens_segment = (keyframe and segment_length >= SEGMENT_MIN) or (
            segment_length >= SEGMENT_MAX
        )
        if opens_segment or keyframe or part_length >= PART_CUT:
            self._close_part(pts, opens_segment)

    def _close_part(self, end: int, opens_segment: bool) -> None:
        samples, self._video = self._video, []
        if not samples:
            return
        audio, self._audio_samples = self._audio_samples, []
        data = fmp4.fragment(
            self._sequence, samples, self._part_start, audio, self._audio_part_time
        )
        self._sequence += 1
        part = Part((end - self._part_start) / VIDEO_TICKS, samples[0].keyframe, data)
        started_at = self._origin_wall + self._part_start / VIDEO_TICKS
        msn, index = self.playlist.add_part(
            part, new_segment=self._new_segment, started_at=started_at
        )
        self._write_file(self.playlist.name(msn, index), data)
        self._part_start = end
        self._new_segment = opens_segment
        if opens_segment:
            self._segment_start = end
            self._asked_keyframe = False
            self._finish_segment(msn)
        self._publish()

    def _finish_segment(self, msn: int) -> None:
        segment = self.playlist.current
        assert segment is not None and segment.msn == msn
        segment.complete = True  # listed with its EXTINF from now on
        self._write_file(self.playlist.name(msn), b"".join(p.data for p in segment.parts))
        for old in self.playlist.drop_old():
            for n in range(len(old.parts)):
                (self.directory / self.playlist.name(old.msn, n)).unlink(missing_ok=True)
            (self.directory / self.playlist.name(old.msn)).unlink(missing_ok=True)

    # -- output ----------------------------------------------------------------

    def _write_file(self, name: str, data: bytes) -> None:
        path = self.directory / name
        tmp = path.with_name(f".{name}.tmp")
        try:
            tmp.write_bytes(data)
            tmp.replace(path)  # a reader never sees half a part
        except OSError:
            logger.exception("writing %s failed", path)

    def _publish(self) -> None:
        """The playlist changed: write it and wake every held request."""
        self._write_file(PLAYLIST, self.playlist.render().encode())
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, msn: int, part: int | None, timeout: float = BLOCK_TIMEOUT) -> bool:
        """Until the playlist holds segment ``msn`` (or its ``part``): True, or False
        after ``timeout``. Raises TooFarAhead for a segment too far in the future."""
        self.playlist.check_ahead(msn)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (self.playlist.has(msn, part) or self.playlist.ended):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return True

    def render(self) -> str:
        return self.playlist.render()

    def close(self) -> None:
        """The show ended: the last part, the last segment, ``EXT-X-ENDLIST``."""
        if self.playlist.ended:
            return
        if self._held is not None:
            pts, data, key = self._held
            frame = math.ceil(VIDEO_TICKS / 30)
            self._video.append(fmp4.VideoSample(data, frame, key))
            self._held = None
            self._close_part(pts + frame, True)
        self.playlist.finish()
        self._publish()
