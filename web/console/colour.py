"""Colour truth in the console: a snapshot corrected against the reference card, the piece's
measured colour against the catalogue's, and a variant's reference colour kept from it.

The views parse and gate; the colour work is in sessions/colour. The live video is never
touched: only the snapshot the associate takes is corrected.
"""

from __future__ import annotations

import base64
from io import BytesIO
from typing import TYPE_CHECKING, Any

from flask import current_app, request
from flask_babel import gettext as _
from PIL import Image
from sqlmodel import col, select

from sessions import live as live_actions
from sessions.access import access_host, access_variant_reference_colour
from sessions.errors import InvalidInput, NotFound
from sessions.models import Product, Variant
from sessions.privacy.consent import check_snapshot_allowed
from sessions.service.rooms import do_send_snapshot
from web.admin.images import open_image, store_image
from web.console import bp
from web.db import db
from web.identity import current_actor

if TYPE_CHECKING:
    import numpy as np

    from sessions import colour

# sessions.colour (OpenCV, colour-science, numpy) is imported by the views that use it, not
# with the app: it was most of a web node's start (about 1 s of CPU, more on a busy
# machine), paid by every node and every test server, most of which never see a snapshot.

VARIANT_CHOICES = 300  # a select, not a search: enough for a boutique's current range


def no_card_words(code: str) -> str:
    return {
        "covered": _("The reference card is partly covered or unevenly lit: show all of it."),
        "misread": _("The reference card could not be read (glare or too little light)."),
    }.get(code, _("No reference card in view: hold it beside the piece, facing the camera."))


def _frame() -> tuple[Image.Image, np.ndarray]:
    import numpy as np

    upload = request.files.get("image")
    picture = open_image(upload.read() if upload is not None else b"").convert("RGB")
    return picture, np.asarray(picture)


def _point() -> tuple[float, float] | None:
    x, y = request.form.get("x", ""), request.form.get("y", "")
    if not x and not y:
        return None
    try:
        point = float(x), float(y)
    except ValueError:
        raise InvalidInput(_("Tap the piece in the picture."), field="x") from None
    if not all(0.0 <= v <= 1.0 for v in point):
        raise InvalidInput(_("Tap the piece in the picture."), field="x")
    return point


def _variant(brand_id: int, field: str = "variant_id") -> tuple[Variant, Product] | None:
    raw = request.form.get(field, "")
    if not raw:
        return None
    if not raw.isdigit():
        raise InvalidInput(_("Choose a variant from the list."), field=field)
    return _variant_of_brand(int(raw), brand_id)


def _variant_of_brand(variant_id: int, brand_id: int | None) -> tuple[Variant, Product]:
    variant = db().get(Variant, variant_id)
    if variant is None or (brand_id is not None and variant.brand_id != brand_id):
        raise NotFound(_("No such variant in this brand's catalogue."))
    product = db().get(Product, variant.product_id)
    assert product is not None
    return variant, product


def _jpeg(rgb: np.ndarray) -> bytes:
    out = BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=88)
    return out.getvalue()


def _analysed(rgb: np.ndarray, brand_id: int) -> tuple[colour.Analysis, dict[str, Any]]:
    point = _point()  # the input is checked before the picture is worked on
    if request.form.get("variant_id") and point is None:
        raise InvalidInput(_("Tap the piece in the picture."), field="x")
    chosen = _variant(brand_id)
    variant, product = chosen if chosen else (None, None)
    from sessions import colour
    from sessions.colour import report

    analysis = colour.analyse(rgb)
    return analysis, report.build(analysis, point, variant, product)


@bp.post("/live/<int:live_session_id>/colour")
def colour_preview(live_session_id: int) -> dict[str, Any]:
    """The corrected snapshot and its figures, for the associate to check before sending.
    Changes nothing (a POST because it carries the picture)."""
    from sessions import colour

    live = live_actions.live_or_404(db(), live_session_id)
    access_host(current_actor(), live)
    _picture, rgb = _frame()
    try:
        analysis, figures = _analysed(rgb, live.brand_id)
    except colour.NoCard as missing:
        return {"found": False, "message": no_card_words(missing.code)}
    image = base64.b64encode(_jpeg(analysis.corrected)).decode()
    return {"found": True, "report": figures, "image": image}


@bp.post("/live/<int:live_session_id>/snapshot")
def snapshot(live_session_id: int) -> tuple[dict[str, object], int]:
    """The host sends a try-on snapshot (taken by the relay) into the chat: corrected
    against the reference card when asked (``colour=1``) and the card is in view."""
    from sessions import colour

    live = live_actions.live_or_404(db(), live_session_id)
    actor = current_actor()
    access_host(actor, live)
    check_snapshot_allowed(db(), live)  # before the file is written: nothing kept on a "no"
    picture, rgb = _frame()
    figures = None
    if request.form.get("colour") == "1":
        try:
            analysis, figures = _analysed(rgb, live.brand_id)
            picture = Image.fromarray(analysis.corrected)
        except colour.NoCard:
            figures = None  # sent as the camera saw it; the preview said why
    path = store_image(picture, current_app.config["UPLOAD_DIR"], "snapshots")
    caption = request.form.get("caption", "")
    message = do_send_snapshot(db(), actor, live, path, caption, figures)
    return {"ok": True, "message": message}, 201


@bp.post("/variants/<int:variant_id>/reference-colour")
def reference_colour(variant_id: int) -> tuple[dict[str, Any], int]:
    """Keep the piece's measured colour (card in view) as the variant's catalogue colour."""
    from sessions import colour
    from sessions.colour.actions import do_set_reference_colour

    actor = current_actor()
    variant, _product = _variant_of_brand(variant_id, None)
    access_variant_reference_colour(actor, variant)
    point = _point()
    if point is None:
        raise InvalidInput(_("Tap the piece in the picture."), field="x")
    _picture, rgb = _frame()
    try:
        analysis = colour.analyse(rgb)
    except colour.NoCard as missing:
        raise InvalidInput(no_card_words(missing.code), field="image") from None
    return do_set_reference_colour(db(), actor, variant, analysis, point), 200


def variant_choices(brand_id: int) -> list[tuple[Product, list[Variant]]]:
    """The brand's active pieces that have a colour, for the associate to name the one shown."""
    rows = (
        db()
        .exec(
            select(Variant, Product)
            .join(Product, col(Product.id) == col(Variant.product_id))
            .where(col(Variant.brand_id) == brand_id, col(Product.is_active).is_(True))
            .where(col(Variant.colour) != "")
            .order_by(col(Product.name), col(Variant.id))
            .limit(VARIANT_CHOICES)
        )
        .all()
    )
    grouped: dict[int, tuple[Product, list[Variant]]] = {}
    for variant, product in rows:
        grouped.setdefault(product.id or 0, (product, []))[1].append(variant)
    return list(grouped.values())
