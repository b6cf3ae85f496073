"""OpenCV work on decoded frames: snapshots, thumbnails, the holding slate."""

from __future__ import annotations

import av
import cv2
import numpy as np

JPEG_QUALITY = 88


def to_jpeg(frame: av.VideoFrame, *, max_width: int | None = None) -> bytes:
    image: np.ndarray = frame.to_ndarray(format="bgr24")
    if max_width and image.shape[1] > max_width:
        height = int(image.shape[0] * max_width / image.shape[1])
        image = cv2.resize(image, (max_width, height), interpolation=cv2.INTER_AREA)
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("JPEG encoding failed")
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
