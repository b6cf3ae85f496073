"""What a colour-corrected snapshot tells its shopper, as stored with the chat message:
the card's residual, and the piece's measured colour against the catalogue's."""

from __future__ import annotations

from typing import Any

import numpy as np

from sessions.colour import Analysis
from sessions.colour._science import D65, colour_science
from sessions.colour.measure import delta_e, lab_to_hex
from sessions.colour.words import compare
from sessions.models import Product, Variant

Lab = tuple[float, float, float]


def reference_of(variant: Variant) -> tuple[Lab, str] | None:
    """The catalogue's colour of a variant and where it comes from: measured with the card
    (the truth), else the swatch colour the catalogue shows (what the shopper was promised)."""
    if variant.reference_lab_l is not None:
        assert variant.reference_lab_a is not None and variant.reference_lab_b is not None
        return (
            variant.reference_lab_l,
            variant.reference_lab_a,
            variant.reference_lab_b,
        ), "measured"
    if variant.colour_hex:
        rgb = colour_science.notation.HEX_to_RGB(variant.colour_hex)
        swatch = colour_science.XYZ_to_Lab(colour_science.sRGB_to_XYZ(rgb), D65)
        return (float(swatch[0]), float(swatch[1]), float(swatch[2])), "swatch"
    return None


def build(
    analysis: Analysis,
    point: tuple[float, float] | None,
    variant: Variant | None,
    product: Product | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "card_delta_e": round(analysis.delta_e_mean, 1),
        "card_delta_e_max": round(analysis.correction.delta_e_max, 1),
        "patches": analysis.patches_used,
        "point": None,
        "measured": None,
        "variant": None,
        "comparison": None,
    }
    if point is None:
        return out
    measured = analysis.measure(*point)
    out["point"] = {"x": round(point[0], 4), "y": round(point[1], 4)}
    out["measured"] = {"lab": [round(v, 2) for v in measured.lab], "hex": measured.hex}
    if variant is None:
        return out
    label = " · ".join(p for p in (variant.colour, variant.size) if p)
    out["variant"] = {
        "id": variant.id,
        "product": product.name if product else "",
        "label": label,
        "reference_hex": None,
        "source": None,
    }
    reference = reference_of(variant)
    if reference is not None:
        lab, source = reference
        out["variant"] |= {"reference_hex": lab_to_hex(np.asarray(lab)), "source": source}
        difference = delta_e(measured.lab, lab)
        out["comparison"] = compare(measured.lab, lab, difference).as_dict()
    return out
