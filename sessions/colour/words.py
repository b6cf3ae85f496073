"""A colour difference said in words: how far (ΔE2000) and which way (Lab).

Codes, not sentences: the web layer says them in the reader's language. Thresholds
follow common practice for ΔE2000 in retail colour control: under 2, two swatches side
by side look the same to most people; from 2 to 5 a close look tells them apart; past 5
anyone sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Verdict = Literal["same", "noticeable", "clear"]
Direction = Literal["lighter", "darker", "redder", "greener", "yellower", "bluer"]

SAME_BELOW = 2.0
CLEAR_FROM = 5.0


@dataclass(frozen=True)
class Comparison:
    delta_e: float
    verdict: Verdict
    direction: Direction | None  # how the piece differs from the catalogue's colour

    def as_dict(self) -> dict[str, object]:
        return {
            "delta_e": round(self.delta_e, 1),
            "verdict": self.verdict,
            "direction": self.direction,
        }


def compare(
    measured: tuple[float, float, float], reference: tuple[float, float, float], delta_e: float
) -> Comparison:
    if delta_e < SAME_BELOW:
        return Comparison(delta_e, "same", None)
    verdict: Verdict = "clear" if delta_e >= CLEAR_FROM else "noticeable"
    return Comparison(delta_e, verdict, direction(measured, reference))


def direction(
    measured: tuple[float, float, float], reference: tuple[float, float, float]
) -> Direction:
    """The largest of the three Lab differences names the way the piece differs."""
    dl, da, db = (m - r for m, r in zip(measured, reference, strict=True))
    axis = max(((abs(dl), "L"), (abs(da), "a"), (abs(db), "b")))[1]
    if axis == "L":
        return "lighter" if dl > 0 else "darker"
    if axis == "a":
        return "redder" if da > 0 else "greener"
    return "yellower" if db > 0 else "bluer"
