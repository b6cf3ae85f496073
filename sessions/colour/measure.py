"""The colour of the piece where the associate tapped, in the corrected picture."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sessions.colour._science import D65, colour_science
from sessions.colour.correct import Correction, linear_to_lab
from sessions.colour.detect import interquartile_mean

# Half the side of the square read around the tap, as a fraction of the picture's width:
# large enough to average a fabric's weave, small enough to stay on a sleeve.
SPOT = 0.015


@dataclass(frozen=True)
class Measurement:
    lab: tuple[float, float, float]
    hex: str  # its sRGB value, for a swatch on screen


def measure(rgb8: np.ndarray, correction: Correction, x: float, y: float) -> Measurement:
    """Interquartile mean of the corrected linear light in a small square at (x, y),
    as fractions of the size."""
    if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
        raise ValueError("the point is outside the picture")
    height, width = rgb8.shape[:2]
    half = max(2, int(width * SPOT))
    cx, cy = int(x * (width - 1)), int(y * (height - 1))
    block = rgb8[max(0, cy - half) : cy + half + 1, max(0, cx - half) : cx + half + 1]
    linear = interquartile_mean(correction.to_linear(block.reshape(-1, 3)))
    lab = linear_to_lab(linear)
    return Measurement(lab=(float(lab[0]), float(lab[1]), float(lab[2])), hex=lab_to_hex(lab))


def lab_to_hex(lab: np.ndarray | tuple[float, float, float]) -> str:
    xyz = colour_science.Lab_to_XYZ(np.asarray(lab, dtype=float), D65)
    rgb = np.clip(np.asarray(colour_science.XYZ_to_sRGB(xyz, D65)), 0.0, 1.0)
    return "#" + "".join(f"{round(float(v) * 255):02x}" for v in rgb)


def delta_e(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    return float(colour_science.delta_E(np.asarray(a), np.asarray(b), "CIE 2000"))
