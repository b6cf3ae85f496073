"""OpenCV work on decoded frames: snapshots, thumbnails, the holding slate."""

from __future__ import annotations

import av
import cv2
import numpy as np

JPEG_QUALITY = 88
# Frames averaged for a colour snapshot: two seconds at 15 fps. The codec's error on a dark
# patch drifts over seconds with its rate control (in the browser test, the card's worst
# patch from one snapshot to the next: 1.4-3.5 with 8 frames, mostly 2.1-2.6 with 30).
COLOUR_FRAMES = 30


def to_jpeg(frame: av.VideoFrame, *, max_width: int | None = None) -> bytes:
    image: np.ndarray = frame.to_ndarray(format="bgr24")
    if max_width and image.shape[1] > max_width:
        height = int(image.shape[0] * max_width / image.shape[1])
        image = cv2.resize(image, (max_width, height), interpolation=cv2.INTER_AREA)
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buffer.tobytes()


def to_rgb(frame: av.VideoFrame) -> np.ndarray:
    """RGB uint8 of a decoded frame, BT.601 as WebRTC's senders encode it.

    A 4:2:0 frame is converted by OpenCV, which rounds to nearest; libswscale's default
    (``to_ndarray(format="rgb24")``) came out 1.3–1.8 8-bit steps darker on every channel,
    a bias the colour fit then pays on the card's darkest patches.
    """
    if frame.format.name == "yuv420p" and frame.width % 2 == 0 and frame.height % 2 == 0:
        return cv2.cvtColor(frame.to_ndarray(format="yuv420p"), cv2.COLOR_YUV2RGB_I420)
    rgb: np.ndarray = frame.to_ndarray(format="rgb24")
    return rgb


def mean_png(frames: list[av.VideoFrame]) -> bytes:
    """Lossless PNG of the per-pixel mean of same-size frames (a colour snapshot)."""
    total = np.zeros((frames[0].height, frames[0].width, 3), np.float64)
    for frame in frames:
        total += to_rgb(frame)
    mean = np.clip(np.rint(total / len(frames)), 0, 255).astype(np.uint8)
    ok, buffer = cv2.imencode(".png", cv2.cvtColor(mean, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("PNG encoding failed")
    return buffer.tobytes()


def holding_slate(last: av.VideoFrame | None, width: int, height: int, text: str) -> av.VideoFrame:
    """The picture viewers see while the host is away: the last frame, dimmed, with a note.

    Sending a real picture (rather than nothing) keeps every viewer's decoder and
    jitter buffer alive, so the live picture resumes without a renegotiation.
    """
    image: np.ndarray
    if last is not None:
        image = last.to_ndarray(format="bgr24")
        if image.shape[:2] != (height, width):
            image = cv2.resize(image, (width, height))
        image = (image * 0.35).astype(np.uint8)
    else:
        image = np.full((height, width, 3), 32, dtype=np.uint8)
    scale = max(0.6, width / 640)
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    origin = ((width - tw) // 2, (height + th) // 2)
    cv2.putText(
        image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 2, cv2.LINE_AA
    )
    return av.VideoFrame.from_ndarray(image, format="bgr24")
