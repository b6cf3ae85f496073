"""Try it on for me" and shelf stock per store, as JSON (sessions/service/tryon.py).

The shopper's ask opens (or reuses) the chat thread, routed to the store that holds
the variant; its answers arrive there like any thread message (``thread_*`` events).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from flask_babel import gettext as _
from pydantic import BaseModel, Field, StringConstraints

from sessions.catalogue import get_or_404
from sessions.i18n import N_
from sessions.models import Brand
from sessions.service import tryon
from web.api import bp
from web.api.service.threads import ThreadOut, _out
from web.api.spec import api_route
from web.db import db
from web.identity import current_actor, ensure_shopper

DbId = Annotated[int, Field(ge=1, le=2**31 - 1)]
Lang = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
TAG = "threads"


class TryOnIn(BaseModel):
    model_config = {"extra": "forbid"}
    variant_id: DbId
    language: Lang = "en"


class NearestOut(BaseModel):
    variant_id: int
    label: str


class TryOnOut(BaseModel):
    routed: bool
    message: str  # what the shopper is told, in their language
    store_name: str | None = None
    open_now: bool = False
    opens_at: datetime | None = None
    thread: ThreadOut | None = None
    nearest: NearestOut | None = None


class ShelfIn(BaseModel):
    model_config = {"extra": "forbid"}
    quantity: Annotated[int, Field(ge=0, le=tryon.MAX_SHELF)]


class ShelfOut(BaseModel):
    variant_id: int
    store_id: int
    quantity: int


def _told(result: tryon.TryOn) -> str:
    if result.route is None:
        if result.nearest is None:
            return _("No store has this piece on its shelves at the moment.")
        return _(
            "No store has this size and colour at the moment; %(other)s is in a store.",
            other=tryon.describe(result.nearest),
        )
    if result.open_now:
        return _(
            "Sent to %(store)s, which has it: an associate will answer here.",
            store=result.route.store.name,
        )
    return _(
        "Sent to %(store)s, which has it; it opens at %(time)s (UTC) and an associate will "
        "answer here.",
        store=result.route.store.name,
        time=result.route.opens_at.strftime("%H:%M, %d %b"),
    )


@api_route(
    bp,
    "/brands/<int:brand_id>/tryon",
    "POST",
    body=TryOnIn,
    response=TryOnOut,
    status=201,
    tag=TAG,
    summary="Try it on for me: route a variant to a store that holds it, or say none does",
    auth="shopper",
    example={"variant_id": 1},
)
def tryon_ask(brand_id: int, body: TryOnIn) -> TryOnOut:
    brand = get_or_404(db(), Brand, brand_id, N_("brand"))
    result = tryon.do_ask_tryon(
        db(), ensure_shopper(), brand, variant_id=body.variant_id, language=body.language
    )
    route, nearest = result.route, result.nearest
    return TryOnOut(
        routed=route is not None,
        message=_told(result),
        store_name=route.store.name if route else None,
        open_now=result.open_now,
        opens_at=route.opens_at if route else None,
        thread=_out(result.asked.thread) if result.asked else None,
        nearest=(
            NearestOut(variant_id=nearest.id or 0, label=tryon.describe(nearest))
            if nearest
            else None
        ),
    )


@api_route(
    bp,
    "/variants/<int:variant_id>/stores/<int:store_id>/stock",
    "PUT",
    body=ShelfIn,
    response=ShelfOut,
    tag="catalogue",
    summary="Set how many of a variant one store holds on its shelves (not the online stock)",
    auth="brand_admin",
    example={"quantity": 3},
)
def shelf_set(variant_id: int, store_id: int, body: ShelfIn) -> ShelfOut:
    count = tryon.do_set_store_stock(db(), current_actor(), variant_id, store_id, body.quantity)
    return ShelfOut(variant_id=variant_id, store_id=store_id, quantity=count)
