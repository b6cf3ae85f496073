"""The one encoder per rendition that every viewer of a room shares.

aiortc's stock path gives every ``RTCRtpSender`` its own encoder, so each viewer
costs a full encode. Here a room encodes each frame once per codec and hands the
resulting ``av.Packet`` to every viewer; the sender then only packetises it
(``Encoder.pack``). Pure PyAV, no asyncio.
"""

from __future__ import annotations

import fractions
from typing import Literal

import av
from av.audio.resampler import AudioResampler

VideoCodec = Literal["h264", "vp8"]

VIDEO_TIME_BASE = fractions.Fraction(1, 90000)
AUDIO_RATE = 48000
AUDIO_TIME_BASE = fractions.Fraction(1, AUDIO_RATE)
DEFAULT_BITRATE = 1_200_000
# A keyframe at least every 2 s: HLS cuts segments on keyframes, and a viewer
# that lost a PLI still recovers by itself.
GOP_FRAMES = 60

_MIME = {"h264": "video/H264", "vp8": "video/VP8"}


def mime_type(codec: VideoCodec) -> str:
    return _MIME[codec]


class SharedVideoEncoder:
    """Encode decoded frames once; the packets carry 90 kHz pts for RTP."""

    def __init__(self, codec: VideoCodec, width: int, height: int, fps: int = 30) -> None:
        self.codec: VideoCodec = codec
        self.width = width
        self.height = height
        self._context = self._open(codec, width, height, fps)

    @staticmethod
    def _open(codec: VideoCodec, width: int, height: int, fps: int) -> av.VideoCodecContext:
        name = "libx264" if codec == "h264" else "libvpx"
        context = av.CodecContext.create(name, "w")
        assert isinstance(context, av.VideoCodecContext)
        context.width = width
        context.height = height
        context.pix_fmt = "yuv420p"
        context.time_base = VIDEO_TIME_BASE
        context.framerate = fractions.Fraction(fps, 1)
        context.bit_rate = DEFAULT_BITRATE
        context.gop_size = GOP_FRAMES
        if codec == "h264":
            # Constrained baseline 3.1 is what every browser decodes; zerolatency
            # disables lookahead and B-frames so a frame leaves as soon as it is in.
            context.profile = "Baseline"
            context.options = {
                "preset": "ultrafast",
                "tune": "zerolatency",
                "level": "31",
                "forced-idr": "1",
                "x264-params": "scenecut=0:repeat-headers=1",
            }
        else:
            context.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
        return context

    def encode(self, frame: av.VideoFrame, pts: int, keyframe: bool) -> list[av.Packet]:
        """Encode one frame (scaled to the rendition size) with the given 90 kHz pts."""
        if (
            frame.width != self.width
            or frame.height != self.height
            or frame.format.name != "yuv420p"
        ):
            frame = frame.reformat(width=self.width, height=self.height, format="yuv420p")
        frame.pts = pts
        frame.time_base = VIDEO_TIME_BASE
        # An I picture forced on the frame becomes an IDR (forced-idr), which is
        # what a joining viewer or a PLI needs; NONE lets the encoder choose.
        frame.pict_type = (
            av.video.frame.PictureType.I if keyframe else av.video.frame.PictureType.NONE
        )
        packets = list(self._context.encode(frame))
        for packet in packets:
            packet.time_base = VIDEO_TIME_BASE
        return packets


class SharedAudioEncoder:
    """Encode the publisher's audio to Opus once; 20 ms packets with 48 kHz pts."""

    def __init__(self) -> None:
        context = av.CodecContext.create("libopus", "w")
        assert isinstance(context, av.AudioCodecContext)
        context.sample_rate = AUDIO_RATE
        context.layout = "stereo"
        context.format = "s16"
        context.time_base = AUDIO_TIME_BASE
        context.bit_rate = 64000
        context.options = {"application": "lowdelay", "frame_duration": "20"}
        self._context = context
        self._resampler = AudioResampler(format="s16", layout="stereo", rate=AUDIO_RATE)
        self._next_pts: int | None = None

    def encode(self, frame: av.AudioFrame) -> list[av.Packet]:
        packets: list[av.Packet] = []
        for resampled in self._resampler.resample(frame):
            # Our own running pts: publishers come and go, the viewers' RTP clock
            # must not jump backwards when a new one starts at zero.
            if self._next_pts is None:
                self._next_pts = 0
            resampled.pts = self._next_pts
            resampled.time_base = AUDIO_TIME_BASE
            self._next_pts += resampled.samples
            packets.extend(self._context.encode(resampled))
        for packet in packets:
            packet.time_base = AUDIO_TIME_BASE
        return packets


class SharedAacEncoder:
    """AAC for the recording and HLS (MP4/TS players and hls.js want AAC, not Opus).

    Audio is cheap to encode, so this one extra audio encode per room buys
    replays that play everywhere; video is still encoded only once.
    Packet pts are on the room's clock (seconds * 48000), so they line up with
    the video in the muxers across publisher reconnects.
    """

    # A gap bigger than this between where the audio would continue and the room
    # clock means the publisher was away: restart the audio timeline there.
    RESYNC_SAMPLES = AUDIO_RATE // 10

    def __init__(self) -> None:
        context = av.CodecContext.create("aac", "w")
        assert isinstance(context, av.AudioCodecContext)
        context.sample_rate = AUDIO_RATE
        context.layout = "stereo"
        context.format = "fltp"
        context.time_base = AUDIO_TIME_BASE
        context.bit_rate = 128000
        self._context = context
        self._resampler = AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
        self._next_pts: int | None = None

    def encode(self, frame: av.AudioFrame, clock_pts: int) -> list[av.Packet]:
        """Encode a frame that arrived at ``clock_pts`` (room clock, 48 kHz units)."""
        packets: list[av.Packet] = []
        for resampled in self._resampler.resample(frame):
            if self._next_pts is None or abs(clock_pts - self._next_pts) > self.RESYNC_SAMPLES:
                self._next_pts = clock_pts
            resampled.pts = self._next_pts
            resampled.time_base = AUDIO_TIME_BASE
            self._next_pts += resampled.samples
            packets.extend(self._context.encode(resampled))
        for packet in packets:
            packet.time_base = AUDIO_TIME_BASE
        return packets
