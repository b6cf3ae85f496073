"""Fit a colour correction to the card and apply it to a snapshot (colour-science).

The fit is done in linear light: camera values are decoded with the sRGB transfer
function (what webcams encode with), the targets are the patches' true linear sRGB.
Cheung 2004's 10-term polynomial (R, G, B, their products, their squares and a
constant): the constant takes the camera's black level and flare, the second-order
terms the camera's tone curve where it is not quite sRGB's. On the synthetic casts a
plain 3×3 matrix left the black patch at ΔE 4.8 under tungsten; this fit leaves ≤ 1.6
(docs/colour.md has the comparison). 24 patches for 10 terms per channel: not overfitted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sessions.colour import card
from sessions.colour._science import D65, colour_science
from sessions.colour.detect import Reading

METHOD = "Cheung 2004"
TERMS = 10
# 256 entries: the sRGB decoding of every 8-bit value, computed by colour-science once.
_DECODE = np.asarray(colour_science.cctf_decoding(np.arange(256) / 255.0))


@dataclass(frozen=True)
class Correction:
    matrix: np.ndarray
    delta_e: np.ndarray  # ΔE2000 of each corrected patch against its truth

    @property
    def delta_e_mean(self) -> float:
        return float(np.mean(self.delta_e))

    @property
    def delta_e_max(self) -> float:
        return float(np.max(self.delta_e))

    def to_linear(self, rgb8: np.ndarray) -> np.ndarray:
        """Corrected linear sRGB (float, 0–1) of an RGB uint8 image or pixel block."""
        linear = _DECODE[rgb8]
        out = colour_science.apply_matrix_colour_correction(
            linear, self.matrix, method=METHOD, terms=TERMS
        )
        return np.clip(out, 0.0, 1.0)

    def apply(self, rgb8: np.ndarray) -> np.ndarray:
        """The corrected picture, RGB uint8 (the snapshot the shopper sees).

        The correction of a pixel depends only on its 8-bit value, and a JPEG frame holds
        a few ten thousand distinct values among its million pixels: each is corrected
        once, then looked up (20× faster than correcting every pixel).
        """
        codes = (rgb8[..., 0].astype(np.int32) << 16) | (rgb8[..., 1].astype(np.int32) << 8)
        codes |= rgb8[..., 2]
        present = np.zeros(1 << 24, np.bool_)
        present[codes.ravel()] = True
        distinct = np.flatnonzero(present)
        values = np.stack([distinct >> 16, (distinct >> 8) & 255, distinct & 255], axis=-1)
        corrected = self._encode(values.astype(np.uint8))
        position = np.empty(1 << 24, np.int32)
        position[distinct] = np.arange(len(distinct), dtype=np.int32)
        return corrected[position[codes]]

    def _encode(self, rgb8: np.ndarray) -> np.ndarray:
        encoded = colour_science.cctf_encoding(self.to_linear(rgb8))
        return np.asarray(np.round(encoded * 255), dtype=np.uint8)


def fit(reading: Reading) -> Correction:
    linear, lab = card.truth()
    used = list(reading.indices)
    measured = np.asarray(colour_science.cctf_decoding(reading.camera))
    target = linear[used]
    matrix = colour_science.matrix_colour_correction(measured, target, method=METHOD, terms=TERMS)
    corrected = np.clip(
        colour_science.apply_matrix_colour_correction(measured, matrix, method=METHOD, terms=TERMS),
        0.0,
        1.0,
    )
    delta_e = colour_science.delta_E(linear_to_lab(corrected), lab[used], "CIE 2000")
    return Correction(matrix, np.asarray(delta_e))


def linear_to_lab(linear: np.ndarray) -> np.ndarray:
    return np.asarray(colour_science.XYZ_to_Lab(colour_science.RGB_to_XYZ(linear, "sRGB"), D65))
