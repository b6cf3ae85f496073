"""The Vitrine reference card: 24 colour patches of known value framed by four ArUco markers.

The patches are the colours of the ColorChecker 24 (X-Rite's "After November 2014"
values, as colour-science ships them), converted once to sRGB: they spread over skin,
foliage, sky, primaries and a grey ramp, which is what a colour correction needs to be
fitted well. The truth of each patch is the sRGB value printed in the file (a calibrated
print reproduces it); its Lab (D65) is computed from it.

Geometry is in card units (1 unit = 1 pixel of the PNG at its design size); the detector
maps markers found in a frame back to these coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from io import BytesIO

import cv2
import numpy as np
from PIL import Image, ImageDraw

from sessions.colour._science import D65, colour_science

WIDTH, HEIGHT = 900, 600
MARKER_SIZE = 110
MARKER_MARGIN = 24
ARUCO_DICTIONARY = cv2.aruco.DICT_4X4_50
MARKER_IDS = (0, 1, 2, 3)  # top-left, top-right, bottom-right, bottom-left
COLUMNS, ROWS = 6, 4
PATCH_SIZE, PATCH_GAP = 92, 10
GRID_LEFT = (WIDTH - (COLUMNS * PATCH_SIZE + (COLUMNS - 1) * PATCH_GAP)) // 2
GRID_TOP = 96
LABEL = "Vitrine colour reference card · v1 · print at 100 %, no colour management"
CHECKER = "ColorChecker24 - After November 2014"


@dataclass(frozen=True)
class Patch:
    name: str
    srgb8: tuple[int, int, int]  # what the card prints
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in card units

    @property
    def linear(self) -> np.ndarray:
        return np.asarray(colour_science.cctf_decoding(np.asarray(self.srgb8) / 255.0))

    @property
    def lab(self) -> np.ndarray:
        xyz = colour_science.RGB_to_XYZ(self.linear, "sRGB")
        return np.asarray(colour_science.XYZ_to_Lab(xyz, D65))


@cache
def patches() -> tuple[Patch, ...]:
    checker = colour_science.CCS_COLOURCHECKERS[CHECKER]
    out = []
    for index, (name, xyY) in enumerate(checker.data.items()):
        # The chart's values are for D50; sRGB's white is D65 (Bradford adaptation).
        rgb = colour_science.XYZ_to_sRGB(
            colour_science.xyY_to_XYZ(xyY),
            checker.illuminant,
            chromatic_adaptation_transform="Bradford",
        )
        srgb8 = tuple(int(v) for v in np.clip(np.round(np.asarray(rgb) * 255), 0, 255))
        row, column = divmod(index, COLUMNS)
        x0 = GRID_LEFT + column * (PATCH_SIZE + PATCH_GAP)
        y0 = GRID_TOP + row * (PATCH_SIZE + PATCH_GAP)
        out.append(Patch(name, srgb8, (x0, y0, x0 + PATCH_SIZE, y0 + PATCH_SIZE)))  # type: ignore[arg-type]
    return tuple(out)


@cache
def truth() -> tuple[np.ndarray, np.ndarray]:
    """Every patch's true linear sRGB and Lab (D65), computed once: (24, 3) each."""
    return (
        np.array([p.linear for p in patches()]),
        np.array([p.lab for p in patches()]),
    )


def marker_corners() -> dict[int, np.ndarray]:
    """Each marker's four corners in card units, in ArUco's order (clockwise from top-left)."""
    far_x = WIDTH - MARKER_MARGIN - MARKER_SIZE
    far_y = HEIGHT - MARKER_MARGIN - MARKER_SIZE
    origins = [
        (MARKER_MARGIN, MARKER_MARGIN),
        (far_x, MARKER_MARGIN),
        (far_x, far_y),
        (MARKER_MARGIN, far_y),
    ]
    s = MARKER_SIZE
    return {
        marker_id: np.array([[x, y], [x + s, y], [x + s, y + s], [x, y + s]], dtype=np.float32)
        for marker_id, (x, y) in zip(MARKER_IDS, origins, strict=True)
    }


def dictionary() -> cv2.aruco.Dictionary:
    return cv2.aruco.getPredefinedDictionary(ARUCO_DICTIONARY)


def render(scale: int = 1) -> np.ndarray:
    """The card as an RGB array at ``scale`` × its design size (what is printed)."""
    image = Image.new("RGB", (WIDTH * scale, HEIGHT * scale), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for patch in patches():
        draw.rectangle([v * scale for v in patch.box], fill=patch.srgb8)
    for marker_id, corners in marker_corners().items():
        marker = cv2.aruco.generateImageMarker(dictionary(), marker_id, MARKER_SIZE * scale)
        x, y = (int(v) * scale for v in corners[0])
        image.paste(Image.fromarray(marker).convert("RGB"), (x, y))
    draw.text(
        (GRID_LEFT * scale, (HEIGHT - 62) * scale), LABEL, fill=(40, 40, 40), font_size=13 * scale
    )
    return np.asarray(image)


def png(scale: int = 3) -> bytes:
    out = BytesIO()
    Image.fromarray(render(scale)).save(out, "PNG", optimize=True, dpi=(150 * scale, 150 * scale))
    return out.getvalue()


def pdf(scale: int = 3) -> bytes:
    """One page, the card at 150 mm wide: 900 units at 150 dpi per unit of ``scale``."""
    out = BytesIO()
    Image.fromarray(render(scale)).save(out, "PDF", resolution=150.0 * scale)
    return out.getvalue()
