"""Colour truth: the reference card, its detection in a frame, the correction fitted to it,
and the measured colour of a piece against the catalogue's (OpenCV + colour-science).

`analyse()` is the one entry point the web layer needs: a frame in, a corrected picture
and its figures out, or `NoCard` ("no reference card in view").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sessions.colour.correct import Correction, fit
from sessions.colour.detect import NoCard, find_card
from sessions.colour.measure import Measurement, measure


@dataclass(frozen=True)
class Analysis:
    corrected: np.ndarray  # RGB uint8, the snapshot the shopper sees
    correction: Correction
    patches_used: int
    raw: np.ndarray  # the frame as the camera gave it (measurements read it with the fit)

    @property
    def delta_e_mean(self) -> float:
        return self.correction.delta_e_mean

    def measure(self, x: float, y: float) -> Measurement:
        return measure(self.raw, self.correction, x, y)


# Past this average residual the card was misread (glare on it, a lamp in the patches):
# the picture is not "corrected", it is refused.
MAX_MEAN_DELTA_E = 6.0


def analyse(rgb8: np.ndarray) -> Analysis:
    """Find the card, fit the correction, correct the frame; NoCard if it is not in view."""
    reading = find_card(rgb8)
    correction = fit(reading)
    if correction.delta_e_mean > MAX_MEAN_DELTA_E:
        raise NoCard("the reference card could not be read (glare or too little light)", "misread")
    return Analysis(correction.apply(rgb8), correction, len(reading.indices), rgb8)


__all__ = ["Analysis", "Measurement", "NoCard", "analyse"]
