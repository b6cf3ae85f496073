"""A synthetic camera: a moving test pattern with a clock, a frame counter and a
machine-readable stamp (see ``framecode``), plus a 440 Hz tone.

``MEDIA_GRANT_SECRET=S python -m streaming.synthetic --relay http://127.0.0.1:8001 --room ROOM``
publishes it to a relay; tests, the benchmark and the demo import
``SyntheticCameraTrack`` and ``publish``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fractions
import math
import os
import time
from dataclasses import dataclass

import av
import cv2
import numpy as np
from aiortc import RTCPeerConnection
from aiortc.mediastreams import MediaStreamTrack

from sessions.grants import issue_grant

from .client import negotiate
from .framecode import Stamp, draw_stamp, stamp_height

VIDEO_CLOCK = 90000
AUDIO_RATE = 48000
AUDIO_SAMPLES = 960  # 20 ms


def _pattern(width: int, height: int) -> np.ndarray:
    """Colour bars twice as wide as the frame, so a moving window can scroll over them."""
    colours = [
        (255, 255, 255),
        (0, 255, 255),
        (255, 255, 0),
        (0, 255, 0),
        (255, 0, 255),
        (0, 0, 255),
        (255, 0, 0),
        (40, 40, 40),
    ]
    bars = np.zeros((height, width * 2, 3), dtype=np.uint8)
    bar_w = width // 4
    for i in range(8):
        bars[:, i * bar_w : (i + 1) * bar_w] = colours[i]
    return bars


class SyntheticCameraTrack(MediaStreamTrack):
    """Video frames at a steady rate, each stamped with its counter and send time."""

    kind = "video"

    def __init__(
        self, *, width: int = 640, height: int = 480, fps: int = 30, start_counter: int = 0
    ) -> None:
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        # A reconnecting camera may continue its count, so tests can tell old from new.
        self.counter = self._first = start_counter
        self._bars = _pattern(width, height)
        self._start: float | None = None
        self._time_base = fractions.Fraction(1, VIDEO_CLOCK)

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            from aiortc.mediastreams import MediaStreamError

            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            # Pace against the start time, not the previous frame, so a late
            # frame does not push every later one back.
            due = self._start + (self.counter - self._first) / self.fps
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        frame = av.VideoFrame.from_ndarray(self.draw(self.counter, time.time()), format="bgr24")
        frame.pts = int((self.counter - self._first) * VIDEO_CLOCK / self.fps)
        frame.time_base = self._time_base
        self.counter += 1
        return frame

    def draw(self, counter: int, now: float) -> np.ndarray:
        offset = (counter * 4) % self.width
        image = np.ascontiguousarray(self._bars[:, offset : offset + self.width])
        top = stamp_height(self.height)
        scale = self.height / 480
        clock = time.strftime("%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}"
        for text, row in ((clock, 1), (f"frame {counter}", 2)):
            y = top + int(row * 50 * scale)
            cv2.putText(
                image,
                text,
                (20, y),
                cv2.FONT_HERSHEY_SIMPLEX,
                1.4 * scale,
                (0, 0, 0),
                6,
                cv2.LINE_AA,
            )
            cv2.putText(
                image,
                text,
                (20, y),
                cv2.FONT_HERSHEY_SIMPLEX,
                1.4 * scale,
                (255, 255, 255),
                2,
                cv2.LINE_AA,
            )
        draw_stamp(image, Stamp(counter=counter, sent_ms=int(now * 1000)))
        return image


class ToneTrack(MediaStreamTrack):
    """A 440 Hz sine in 20 ms mono frames."""

    kind = "audio"

    def __init__(self, frequency: float = 440.0) -> None:
        super().__init__()
        self._frequency = frequency
        self._samples = 0
        self._start: float | None = None
        self._time_base = fractions.Fraction(1, AUDIO_RATE)

    async def recv(self) -> av.AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
        else:
            delay = self._start + self._samples / AUDIO_RATE - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        t = (np.arange(AUDIO_SAMPLES) + self._samples) / AUDIO_RATE
        wave = (np.sin(2 * math.pi * self._frequency * t) * 8000).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(wave.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = AUDIO_RATE
        frame.pts = self._samples
        frame.time_base = self._time_base
        self._samples += AUDIO_SAMPLES
        return frame


@dataclass
class Publication:
    """A running publish: close it to hang up (as a dropped host would)."""

    pc: RTCPeerConnection
    peer_id: str
    video: SyntheticCameraTrack
    peer_token: str = ""

    async def close(self) -> None:
        await self.pc.close()


async def publish(
    relay_url: str,
    grant: str,
    *,
    width: int = 640,
    height: int = 480,
    fps: int = 30,
    audio: bool = True,
    start_counter: int = 0,
    frequency: float = 440.0,
) -> Publication:
    pc = RTCPeerConnection()
    video = SyntheticCameraTrack(width=width, height=height, fps=fps, start_counter=start_counter)
    pc.addTransceiver(video, direction="sendonly")
    if audio:
        pc.addTransceiver(ToneTrack(frequency), direction="sendonly")
    try:
        answer = await negotiate(relay_url, pc, grant)
    except BaseException:
        await pc.close()
        raise
    return Publication(
        pc=pc, peer_id=answer["peer_id"], video=video, peer_token=answer["peer_token"]
    )


async def _main(args: argparse.Namespace) -> None:
    # The web app decides a room's publicity (sessions.access.media_claims); whoever
    # starts the demo camera passes it on (`vitrine run` does, for the demo show).
    grant = issue_grant(
        args.grant_secret,
        room=args.room,
        role="publish",
        identity="synthetic",
        ttl=60,
        public=args.public,
        record=args.record,
    )
    publication = await publish(
        args.relay.rstrip("/"), grant, width=args.width, height=args.height, fps=args.fps
    )
    print(f"publishing to room {args.room} as peer {publication.peer_id}", flush=True)
    try:
        if args.duration:
            await asyncio.sleep(args.duration)
        else:
            await asyncio.Event().wait()
    finally:
        print(f"sent {publication.video.counter} frames", flush=True)
        await publication.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m streaming.synthetic")
    parser.add_argument("--relay", default="http://127.0.0.1:8001")
    parser.add_argument("--room", required=True)
    # From the environment by default: a secret in argv is visible to every user of the
    # machine (ps), and one that starts with "-" reads as an option.
    secret = os.environ.get("MEDIA_GRANT_SECRET")
    parser.add_argument("--grant-secret", default=secret, required=secret is None)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--duration", type=float, default=0, help="seconds; 0 runs until stopped")
    parser.add_argument("--public", action="store_true", help="a public show: HLS and replay")
    parser.add_argument("--record", action="store_true", help="keep a recording")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args))


if __name__ == "__main__":
    main()
