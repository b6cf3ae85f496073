"""Find the reference card in a frame (OpenCV ArUco) and read its patches.

The four markers give the card's position, orientation and perspective; two are
enough (a hand may cover the others). Each patch is read as the interquartile mean of its
inner half, in the rectified card: a finger over its edge or JPEG ringing does not move it
(as with a median), and unlike a median it keeps the fraction of an 8-bit step that the
camera's noise dithers. Under a warm lamp the fit multiplies the camera's blue by ~3, so one
8-bit step lost on the black patch cost ΔE2000 ~3 there (docs/colour.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from sessions.colour import card

MIN_MARKERS = 2
MIN_PATCHES = 18  # of 24: a patch under a finger (too uneven) is left out of the fit
MAX_PATCH_STD = 7.0  # 8-bit units per channel: a print is flat; noise and JPEG are ~2


class NoCard(Exception):
    """No reference card in view: nothing is corrected, nothing is guessed."""

    def __init__(self, reason: str = "no reference card in view", code: str = "no_card") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code  # no_card, covered, misread: the web layer words each


@dataclass(frozen=True)
class Reading:
    """The card as the camera saw it: each usable patch's camera value (sRGB-encoded, 0–1)."""

    indices: tuple[int, ...]  # which of card.patches()
    camera: np.ndarray  # (n, 3) RGB
    homography: np.ndarray  # card units → frame pixels
    markers: int


_detector: cv2.aruco.ArucoDetector | None = None


def _aruco() -> cv2.aruco.ArucoDetector:
    global _detector
    if _detector is None:
        params = cv2.aruco.DetectorParameters()
        params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
        _detector = cv2.aruco.ArucoDetector(card.dictionary(), params)
    return _detector


def find_card(rgb: np.ndarray) -> Reading:
    """Read the card in an RGB uint8 frame, or raise NoCard."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    card_points, frame_points = _markers(gray)
    if len(card_points) < MIN_MARKERS:
        raise NoCard()
    homography, _ = cv2.findHomography(
        np.concatenate(card_points), np.concatenate(frame_points), cv2.RANSAC, 4.0
    )
    if homography is None:
        raise NoCard()
    flat = cv2.warpPerspective(
        rgb, homography, (card.WIDTH, card.HEIGHT), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    )
    indices, values = _read_patches(flat)
    if len(indices) < MIN_PATCHES:
        raise NoCard("the reference card is covered or unevenly lit", "covered")
    return Reading(tuple(indices), np.array(values) / 255.0, homography, len(card_points))


def _markers(gray: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Our markers' corners: (card units, frame pixels) for each one found.

    A card held up to the camera is large: its markers are found at half size (4× fewer
    pixels to search), their corners then refined on the full frame. A card too small for
    that is looked for again at full size.
    """
    known = card.marker_corners()
    for scale in (0.5, 1.0) if gray.shape[1] >= 960 else (1.0,):
        small = gray if scale == 1.0 else cv2.resize(gray, None, fx=scale, fy=scale)
        corners, ids, _ = _aruco().detectMarkers(small)
        pairs = [
            (known[int(i)], c.reshape(4, 2) / scale)
            for c, i in zip(corners, [] if ids is None else ids.ravel(), strict=True)
            if int(i) in known
        ]
        if len(pairs) >= MIN_MARKERS:
            break
    if scale != 1.0 and pairs:
        points = np.concatenate([p for _, p in pairs]).astype(np.float32)
        criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.05)
        cv2.cornerSubPix(gray, points, (5, 5), (-1, -1), criteria)
        refined = np.split(points, len(pairs))
        pairs = [(k, r) for (k, _), r in zip(pairs, refined, strict=True)]
    return [k for k, _ in pairs], [f for _, f in pairs]


def _read_patches(flat: np.ndarray) -> tuple[list[int], list[np.ndarray]]:
    indices, values = [], []
    for index, patch in enumerate(card.patches()):
        x0, y0, x1, y1 = patch.box
        qx, qy = (x1 - x0) // 4, (y1 - y0) // 4
        inner = flat[y0 + qy : y1 - qy, x0 + qx : x1 - qx].reshape(-1, 3).astype(np.float64)
        if float(np.max(inner.std(axis=0))) > MAX_PATCH_STD:
            continue
        indices.append(index)
        values.append(interquartile_mean(inner))
    return indices, values


def interquartile_mean(values: np.ndarray) -> np.ndarray:
    """Per channel, the mean of the middle half of (n, 3) values: robust and sub-8-bit."""
    ordered = np.sort(values, axis=0)
    quarter = len(ordered) // 4
    return np.asarray(ordered[quarter : len(ordered) - quarter].mean(axis=0))
