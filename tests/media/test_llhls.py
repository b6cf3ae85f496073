"""The LL-HLS writer (streaming/llhls.py, streaming/fmp4.py) fed the room's real encoders:
the playlist it writes, the parts FFmpeg decodes back to the frames that went in, and the
blocking reload it answers."""

from __future__ import annotations

import asyncio
import fractions
import io
import re
from pathlib import Path

import av
import numpy as np
import pytest

from streaming import llhls
from streaming.encoder import SharedAacEncoder, SharedVideoEncoder
from streaming.framecode import Stamp, draw_stamp, read_stamp
from streaming.media_files import is_hls_file

pytestmark = pytest.mark.media

FPS = 30
TICKS_PER_FRAME = 90000 // FPS
AUDIO_PER_FRAME = 1600  # 48 kHz samples in one video frame


class Feeder:
    """Stamped frames through the room's H.264 and AAC encoders into a muxer, at 30 fps
    of room clock (no waiting: the muxer only reads the packets' timestamps)."""

    def __init__(self, muxer: llhls.LowLatencyHls) -> None:
        self.muxer = muxer
        self.video = SharedVideoEncoder("h264", 320, 240)
        self.aac = SharedAacEncoder()
        self.count = 0
        self.keyframes_asked = 0

    def frames(self, n: int, *, keyframe_at: set[int] = frozenset()) -> None:  # type: ignore[assignment]
        for _ in range(n):
            image = np.full((240, 320, 3), 90, dtype=np.uint8)
            draw_stamp(image, Stamp(counter=self.count, sent_ms=self.count))
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            pts = self.count * TICKS_PER_FRAME
            for packet in self.video.encode(frame, pts, self.count in keyframe_at):
                self.muxer.write(packet)
            tone = np.zeros((1, AUDIO_PER_FRAME * 2), dtype=np.int16)
            audio = av.AudioFrame.from_ndarray(tone, format="s16", layout="stereo")
            audio.sample_rate = 48000
            audio.pts = self.count * AUDIO_PER_FRAME
            audio.time_base = fractions.Fraction(1, 48000)
            for packet in self.aac.encode(audio, self.count * AUDIO_PER_FRAME):
                self.muxer.write_audio(packet)
            self.count += 1


def parse(
    text: str,
) -> tuple[list[tuple[float, str, bool]], list[tuple[float, str]], dict[str, str]]:
    """(parts, segments, other tags) of a playlist."""
    parts: list[tuple[float, str, bool]] = []
    segments: list[tuple[float, str]] = []
    tags: dict[str, str] = {}
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("#EXT-X-PART:"):
            duration = float(re.search(r"DURATION=([\d.]+)", line)[1])  # type: ignore[index]
            uri = re.search(r'URI="([^"]+)"', line)[1]  # type: ignore[index]
            parts.append((duration, uri, "INDEPENDENT=YES" in line))
        elif line.startswith("#EXTINF:"):
            segments.append((float(line[8:].rstrip(",")), lines[i + 1]))
        elif line.startswith("#EXT"):
            name, _, value = line.partition(":")
            tags[name] = value
    return parts, segments, tags


def decode(*chunks: bytes) -> tuple[list[int], int]:
    """The stamps of the video frames and the count of audio frames FFmpeg reads back."""
    container = av.open(io.BytesIO(b"".join(chunks)), "r", format="mp4")
    counters: list[int] = []
    audio_frames = 0
    for frame in container.decode(*container.streams):
        if isinstance(frame, av.VideoFrame):
            stamp = read_stamp(frame.to_ndarray(format="gray"))
            assert stamp is not None
            counters.append(stamp.counter)
        else:
            audio_frames += 1
    return counters, audio_frames


@pytest.fixture
def muxer(tmp_path: Path) -> llhls.LowLatencyHls:
    return llhls.LowLatencyHls(tmp_path / "hls", 320, 240, audio=True)


def test_the_playlist_lists_parts_segments_and_the_next_part(
    muxer: llhls.LowLatencyHls, tmp_path: Path
) -> None:
    feeder = Feeder(muxer)
    feeder.frames(5 * FPS + 10)  # 5.3 s: keyframes every 60 frames (the encoder's GOP)
    text = (tmp_path / "hls" / "index.m3u8").read_text()
    assert text == muxer.render()
    parts, segments, tags = parse(text)
    assert tags["#EXT-X-TARGETDURATION"] == "2"
    assert tags["#EXT-X-SERVER-CONTROL"] == "CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.750"
    assert tags["#EXT-X-PART-INF"] == "PART-TARGET=0.250"
    assert tags["#EXT-X-MEDIA-SEQUENCE"] == "0"
    assert tags["#EXT-X-MAP"] == f'URI="{muxer.playlist.init_name}"'
    assert "#EXT-X-ENDLIST" not in tags
    # Segments of 2 s cut on the encoder's keyframes; parts of 6 frames (0.2 s), the
    # first of each segment on its keyframe; the part being made is hinted.
    sid = muxer.playlist.sid
    assert segments == [(2.0, f"{sid}-0.m4s"), (2.0, f"{sid}-1.m4s")]
    assert all(duration == 0.2 for duration, _, _ in parts)
    assert [uri for _, uri, independent in parts if independent] == [
        f"{sid}-{msn}.0.m4s" for msn in range(3)
    ]
    assert len(parts) == 10 + 10 + 6  # two complete segments, then 1.2 s of the third
    assert parts[-1][1] == f"{sid}-2.5.m4s"
    assert tags["#EXT-X-PRELOAD-HINT"] == f'TYPE=PART,URI="{sid}-2.6.m4s"'
    assert all(duration <= llhls.PART_TARGET for duration, _, _ in parts)

    # The files: every part and segment decodes to the frames that went in, in order,
    # the audio with them; a segment is its parts back to back.
    directory = tmp_path / "hls"
    init = (directory / muxer.playlist.init_name).read_bytes()
    counters, audio = decode(init, (directory / f"{sid}-1.m4s").read_bytes())
    assert counters == list(range(60, 120))
    assert audio >= 90  # 2 s of 1024-sample AAC frames (93.75), give or take a part's
    pieces = [(directory / f"{sid}-1.{n}.m4s").read_bytes() for n in range(10)]
    assert b"".join(pieces) == (directory / f"{sid}-1.m4s").read_bytes()
    # A player starting at a segment's independent part plays from its parts alone.
    counters, _ = decode(init, *pieces[:4])
    assert counters == list(range(60, 84))


def test_the_window_slides_and_the_end_is_marked(
    muxer: llhls.LowLatencyHls, tmp_path: Path
) -> None:
    feeder = Feeder(muxer)
    feeder.frames(12 * 60 + 20)  # 12 segments of 2 s
    parts, segments, tags = parse(muxer.render())
    assert len(segments) == llhls.LIST_SEGMENTS
    assert tags["#EXT-X-MEDIA-SEQUENCE"] == str(12 - llhls.LIST_SEGMENTS)
    # Parts only for the newest segments (listing older ones would only grow the playlist).
    assert {uri.split("-")[1].split(".")[0] for _, uri, _ in parts} == {"10", "11", "12"}
    sid = muxer.playlist.sid
    kept = {p.name for p in (tmp_path / "hls").iterdir()}
    assert f"{sid}-0.m4s" not in kept and f"{sid}-0.0.m4s" not in kept
    assert f"{sid}-5.m4s" in kept  # out of the playlist, still there for a slow player

    muxer.close()
    text = (tmp_path / "hls" / "index.m3u8").read_text()
    assert text.endswith("#EXT-X-ENDLIST\n")
    assert "PRELOAD-HINT" not in text
    _, segments, _ = parse(text)
    assert segments[-1] == (pytest.approx(20 / FPS, abs=0.001), f"{sid}-12.m4s")


def test_a_forced_keyframe_starts_an_independent_part_and_a_long_gop_is_cut(
    tmp_path: Path,
) -> None:
    asked: list[int] = []
    muxer = llhls.LowLatencyHls(
        tmp_path / "hls", 320, 240, audio=False, request_keyframe=lambda: asked.append(1)
    )
    feeder = Feeder(muxer)
    # A keyframe 0.5 s in (a viewer joined): a new part, not a new segment (too short).
    feeder.frames(50, keyframe_at={0, 15})
    parts, segments, _ = parse(muxer.render())
    assert segments == []
    assert [independent for _, _, independent in parts][:4] == [True, False, False, True]
    assert parts[2][0] == pytest.approx(0.1, abs=0.001)  # cut short by the keyframe
    # Past 1.9 s without a keyframe the muxer asks the room for one, once.
    feeder.frames(10)
    assert asked == [1]


@pytest.mark.anyio
async def test_a_blocking_reload_waits_for_the_part(muxer: llhls.LowLatencyHls) -> None:
    feeder = Feeder(muxer)
    feeder.frames(30)  # segment 0: parts 0-3 complete, the fifth being made
    assert muxer.playlist.has(0, 3) and not muxer.playlist.has(0, 4)
    waiter = asyncio.create_task(muxer.wait_for(0, 4, timeout=30))
    await asyncio.sleep(0)
    assert not waiter.done()
    feeder.frames(3)
    await asyncio.sleep(0)
    assert not waiter.done(), "answered before its part"
    feeder.frames(3)  # the frame that closes part 4
    assert await asyncio.wait_for(waiter, 5) is True
    assert f'URI="{muxer.playlist.name(0, 4)}"' in muxer.render()

    # Segment 0 complete (msn alone), a later segment answers an earlier request, and
    # a request that cannot be answered in time is told so; one too far ahead is refused.
    assert await muxer.wait_for(0, None, timeout=0.05) is False
    feeder.frames(30)
    assert await muxer.wait_for(0, None, timeout=0.05) is True
    assert await muxer.wait_for(0, 9, timeout=0.05) is True
    # Past segment 0's last part is segment 1's first: not made yet (its frames are in,
    # the frame after them is not).
    assert await muxer.wait_for(0, 10, timeout=0.05) is False
    assert await muxer.wait_for(1, 0, timeout=0.05) is False
    feeder.frames(1)
    assert await muxer.wait_for(0, 10, timeout=0.05) is True
    assert await muxer.wait_for(1, 0, timeout=0.05) is True
    assert await muxer.wait_for(1, 1, timeout=0.05) is False
    with pytest.raises(llhls.TooFarAhead):
        await muxer.wait_for(4, 0)
    # The show ends: every held request is answered (with the final playlist).
    waiter = asyncio.create_task(muxer.wait_for(2, 0, timeout=30))
    await asyncio.sleep(0)
    muxer.close()
    assert await asyncio.wait_for(waiter, 5) is True


def test_file_names() -> None:
    assert is_hls_file("index.m3u8")
    assert llhls.part_of("0123456789ab-12.3.m4s") == ("0123456789ab", 12, 3)
    assert llhls.part_of("0123456789ab-12.m4s") == ("0123456789ab", 12, None)
    assert llhls.part_of("0123456789ab-init.mp4") is None
    assert is_hls_file("0123456789ab-init.mp4")
    for bad in ("segment00001.ts", "../index.m3u8", "0123456789ab-1.2.ts", "x-1.m4s", ".a.tmp"):
        assert not is_hls_file(bad), bad
