"""The catalogue's reference colour of a variant, set from a measurement (never typed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from sessions.access import Actor, access_variant_reference_colour
from sessions.clock import utcnow
from sessions.colour import Analysis
from sessions.colour.measure import lab_to_hex
from sessions.models import Variant


def do_set_reference_colour(
    db: Session,
    actor: Actor,
    variant: Variant,
    analysis: Analysis,
    point: tuple[float, float],
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Measure the piece at ``point`` in a frame with the card in view and keep it as the
    variant's reference colour, with the card's residual at the time (how much to trust it)."""
    access_variant_reference_colour(actor, variant)
    measured = analysis.measure(*point)
    variant.reference_lab_l, variant.reference_lab_a, variant.reference_lab_b = measured.lab
    variant.reference_card_delta_e = round(analysis.delta_e_mean, 2)
    variant.reference_measured_at = now or utcnow()
    db.add(variant)
    db.commit()
    return reference_out(variant)


def reference_out(variant: Variant) -> dict[str, Any]:
    if variant.reference_lab_l is None:
        return {"variant_id": variant.id, "reference": None}
    lab = (variant.reference_lab_l, variant.reference_lab_a or 0.0, variant.reference_lab_b or 0.0)
    assert variant.reference_measured_at is not None
    return {
        "variant_id": variant.id,
        "reference": {
            "lab": [round(v, 2) for v in lab],
            "hex": lab_to_hex(lab),
            "card_delta_e": variant.reference_card_delta_e,
            "measured_at": variant.reference_measured_at.isoformat(),
        },
    }
