"""Live sessions over HTTP: state, media grants, the bag and checkout (a show's start
and end: web/api/shows.py).

The chatty part of a room travels over Socket.IO (web/sockets/); these are the
calls a page makes once, or that must work without a socket.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any, Literal

import urllib3
from flask import Blueprint, current_app, redirect
from pydantic import BaseModel, Field
from werkzeug.wrappers import Response

from sessions import bags
from sessions import live as live_actions
from sessions.access import (
    MediaSide,
    access_join,
    access_media,
    can_host,
    can_see_room_bag,
)
from sessions.catalogue import get_or_404
from sessions.errors import NotFound
from sessions.grants import issue_grant
from sessions.i18n import N_
from sessions.models import Brand, LiveSession
from sessions.outbound import UnsafeDestination, UrlPolicy, post_json
from web.api import bp
from web.api.schemas import DbId, Strict
from web.api.spec import api_route
from web.db import db, reads_only
from web.identity import current_actor, ensure_shopper, offer_guest_key
from web.relay import grant_claims
from web.relays import relay_for_grant
from web.sockets.snapshots import shared_room_state
from web.turn import grant_ice

log = logging.getLogger(__name__)
checkout_bp = Blueprint("checkout", __name__)
WEBHOOK_TIMEOUT_SECONDS = 5


# --- bodies -----------------------------------------------------------------


class VariantCard(BaseModel):
    id: int
    size: str
    colour: str
    colour_hex: str | None
    stock: int
    price_minor: int


class ProductCard(BaseModel):
    id: int
    name: str
    names: dict[str, str] = Field(
        default_factory=dict,
        description="The name in the brand's other languages (language → name)",
    )
    price_minor: int
    currency: str
    image_url: str | None
    url: str
    stock: int
    variants: list[VariantCard]
    showing: bool = Field(default=False, description='A pin the host marked "showing now"')
    pinned_at: str | None = Field(default=None, description="A pin's time (ISO)")


class ColourPointOut(BaseModel):
    x: float  # fractions of the picture's width and height
    y: float


class MeasuredColourOut(BaseModel):
    lab: list[float]  # CIE Lab, D65 white
    hex: str


class ColourVariantOut(BaseModel):
    id: int
    product: str
    label: str
    reference_hex: str | None
    source: str | None  # measured (with the card) or swatch (the catalogue's typed colour)


class ColourComparisonOut(BaseModel):
    delta_e: float  # ΔE2000, measured against the catalogue's
    verdict: str  # same, noticeable, clear
    direction: str | None  # lighter, darker, redder, greener, yellower, bluer


class ColourReportOut(BaseModel):
    """A snapshot corrected against the reference card (docs/colour.md)."""

    card_delta_e: float  # mean ΔE2000 of the corrected card patches
    card_delta_e_max: float
    patches: int
    point: ColourPointOut | None
    measured: MeasuredColourOut | None
    variant: ColourVariantOut | None
    comparison: ColourComparisonOut | None


class ChatMessageOut(BaseModel):
    id: int
    kind: str
    author: str
    author_role: str
    body: str
    product: ProductCard | None
    attachment_url: str | None
    colour: ColourReportOut | None = None
    created_at: str


class FlashOfferOut(BaseModel):
    id: int
    product_id: int
    price_minor: int
    quantity: int
    remaining: int
    ends_at: str


class BagLineOut(BaseModel):
    id: int
    product_id: int
    variant_id: int
    name: str
    names: dict[str, str] = Field(
        default_factory=dict,
        description="The name in the brand's other languages (language → name)",
    )
    size: str
    colour: str
    quantity: int
    unit_price_minor: int
    image_url: str | None
    expires_at: str | None


class BagOut(BaseModel):
    id: int | None
    count: int
    total_minor: int
    currency: str
    lines: list[BagLineOut]


class StockOut(BaseModel):
    product_id: int
    variant_id: int
    stock: int
    product_stock: int


class LiveSessionOut(BaseModel):
    id: int
    kind: str
    status: str
    role: str
    show_id: int | None
    show_status: str | None = Field(
        description="A show's state (draft, scheduled, live, ended, replay_published, "
        "replay_hidden, cancelled); none for a consultation"
    )
    viewers: int
    hearts: int
    pinned: list[ProductCard]
    offer: FlashOfferOut | None
    bag: BagOut | None


class ChatHistoryQuery(Strict):
    after: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None


class LiveGrantIn(Strict):
    role: Literal["publish", "view"]
    room_suffix: Literal["", "shopper"] = ""


class LiveGrantOut(BaseModel):
    relay_url: str
    grant: str
    room: str
    ice_servers: list[Any]
    ice_transport_policy: Literal["all", "relay"] = Field(
        "all",
        description='"relay": TURN only (RTCConfiguration.iceTransportPolicy)',
    )


class BagQuery(Strict):
    brand_id: DbId
    live_session_id: DbId | None = None


class AddToBagIn(Strict):
    variant_id: DbId
    quantity: Annotated[int, Field(ge=1, le=bags.MAX_QUANTITY)] = 1
    live_session_id: DbId | None = None


class LineQuantityIn(Strict):
    quantity: Annotated[int, Field(ge=0, le=bags.MAX_QUANTITY)] = Field(
        description="0 removes the line"
    )


class AddedOut(BaseModel):
    bag: BagOut
    stock: StockOut


class CheckoutIn(Strict):
    brand_id: DbId


class CheckoutOut(BaseModel):
    method: str
    redirect_url: str | None
    status_code: int | None


# --- live sessions ------------------------------------------------------------


def _live(live_session_id: int) -> LiveSession:
    return live_actions.live_or_404(db(), live_session_id)


def _viewers(live: LiveSession) -> int:
    from web.sockets import state

    return state.delivery().presence.count(live.room)


@api_route(
    bp,
    "/live-sessions/<int:live_session_id>",
    "GET",
    response=LiveSessionOut,
    tag="live",
    summary="A live session's state: status, pinned products, offer, viewers, your bag",
    auth="shopper",
)
@reads_only  # every show page asks it as it opens: no transaction, no write lock (web/db.py)
def get_live_session(live_session_id: int) -> LiveSessionOut:
    live = _live(live_session_id)
    actor = current_actor()
    access_join(actor, live)  # before handing out a guest key: a private room stays private
    offer_guest_key()  # a key in the cookie for the socket to come; a GET creates no shopper
    live_actions.check_can_enter(db(), actor, live)
    state = shared_room_state(live)  # the room's pins, offer and hearts: alike for all
    bag = None
    if can_see_room_bag(actor, live):
        brand = get_or_404(db(), Brand, live.brand_id, N_("brand"))
        bag = bags.shopper_bag(db(), actor, brand, live)
    assert live.id is not None
    return LiveSessionOut.model_validate(
        {
            **state,
            "id": live.id,
            "kind": live.kind.value,
            "role": "host" if can_host(actor, live) else "viewer",
            "show_id": live.show_id,
            "viewers": _viewers(live),
            "bag": bag,
        }
    )


@api_route(
    bp,
    "/live-sessions/<int:live_session_id>/messages",
    "GET",
    query=ChatHistoryQuery,
    response=list[ChatMessageOut],
    tag="live",
    summary="Chat history: recent messages, or those after a given id",
)
@reads_only
def list_messages(live_session_id: int, query: ChatHistoryQuery) -> list[ChatMessageOut]:
    live = _live(live_session_id)
    access_join(current_actor(), live)
    rows = live_actions.history(db(), live, last_id=query.after)
    return [ChatMessageOut.model_validate(row) for row in rows]


@api_route(
    bp,
    "/live-sessions/<int:live_session_id>/media-grant",
    "POST",
    body=LiveGrantIn,
    response=LiveGrantOut,
    tag="live",
    summary="A short-lived grant to publish or view the session's video on the relay",
    auth="shopper",
)
def media_grant(live_session_id: int, body: LiveGrantIn) -> LiveGrantOut:
    live = _live(live_session_id)
    side = MediaSide.SHOPPER if body.room_suffix == "shopper" else MediaSide.HOST
    room = access_media(current_actor(), live, body.role, side)
    config = current_app.config
    grant = issue_grant(
        config["MEDIA_GRANT_SECRET"],
        room=room,
        role=body.role,
        identity=current_actor().identity,
        **grant_claims(live),
    )
    return LiveGrantOut(
        relay_url=relay_for_grant(live, body.role).url,
        grant=grant,
        room=room,
        **grant_ice(current_actor().identity),
    )


# --- pins: the host's products on screen ------------------------------------------------


class PinIn(Strict):
    product_id: DbId


class ShowingIn(Strict):
    product_id: DbId | None = Field(
        description="The pinned product showing now; null: none", default=None
    )


class PinnedOut(BaseModel):
    pinned: list[ProductCard]


@api_route(
    bp,
    "/live-sessions/<int:live_session_id>/pins",
    "POST",
    body=PinIn,
    response=PinnedOut,
    status=201,
    tag="live",
    summary=f"Pin a product (at most {live_actions.MAX_PINS} at once: 409 for one more)",
    auth="staff",
    example={"product_id": 1},
)
def pin_product(live_session_id: int, body: PinIn) -> PinnedOut:
    pinned = live_actions.do_pin(db(), current_actor(), _live(live_session_id), body.product_id)
    return PinnedOut.model_validate({"pinned": pinned})


@api_route(
    bp,
    "/live-sessions/<int:live_session_id>/pins/<int:product_id>",
    "DELETE",
    response=PinnedOut,
    tag="live",
    summary="Unpin a product",
    auth="staff",
)
def unpin_product(live_session_id: int, product_id: int) -> PinnedOut:
    pinned = live_actions.do_unpin(db(), current_actor(), _live(live_session_id), product_id)
    return PinnedOut.model_validate({"pinned": pinned})


@api_route(
    bp,
    "/live-sessions/<int:live_session_id>/showing",
    "POST",
    body=ShowingIn,
    response=PinnedOut,
    tag="live",
    summary='Mark a pinned product "showing now" (null clears it); 409 if it is not pinned',
    auth="staff",
    example={"product_id": None},
)
def show_now(live_session_id: int, body: ShowingIn) -> PinnedOut:
    live = _live(live_session_id)
    pinned = live_actions.do_show_now(db(), current_actor(), live, body.product_id)
    return PinnedOut.model_validate({"pinned": pinned})


# --- bag ----------------------------------------------------------------------------


def _optional_live(live_session_id: int | None) -> LiveSession | None:
    return _live(live_session_id) if live_session_id is not None else None


@api_route(
    bp,
    "/bag",
    "GET",
    query=BagQuery,
    response=BagOut,
    tag="bag",
    summary="Your bag at a brand (expired reservations are released first)",
    auth="shopper",
)
def get_bag(query: BagQuery) -> BagOut:
    brand = get_or_404(db(), Brand, query.brand_id, N_("brand"))
    live = _optional_live(query.live_session_id)
    return BagOut.model_validate(bags.shopper_bag(db(), current_actor(), brand, live))


@api_route(
    bp,
    "/bag/lines",
    "POST",
    body=AddToBagIn,
    response=AddedOut,
    status=201,
    tag="bag",
    summary="Add a size and colour to the bag, reserving its stock (409 sold_out)",
    auth="shopper",
)
def add_to_bag(body: AddToBagIn) -> AddedOut:
    live = _optional_live(body.live_session_id)
    # Sold out and known to be, or short by one plain read: refused before a guest
    # becomes a shopper row (a refused tap writes nothing).
    bags.refuse_if_known_sold_out(current_actor(), body.variant_id, body.quantity, live)
    bags.refuse_if_short(db(), current_actor(), body.variant_id, body.quantity, live)
    bags.refuse_outside_live(db(), current_actor(), body.variant_id, body.quantity, live)
    actor = current_actor() if live is not None and can_host(current_actor(), live) else None
    actor = actor or ensure_shopper()
    added = bags.do_add_to_bag(
        db(), actor, variant_id=body.variant_id, quantity=body.quantity, live=live
    )
    return AddedOut.model_validate({"bag": added.bag, "stock": added.stock})


@api_route(
    bp,
    "/bag/lines/<int:line_id>",
    "DELETE",
    response=BagOut,
    tag="bag",
    summary="Remove a line from the bag; its stock goes back",
    auth="shopper",
)
def remove_bag_line(line_id: int) -> BagOut:
    return BagOut.model_validate(bags.do_remove_line(db(), current_actor(), line_id))


@api_route(
    bp,
    "/bag/lines/<int:line_id>",
    "PATCH",
    body=LineQuantityIn,
    response=BagOut,
    tag="bag",
    summary="Change a line's quantity (0 removes it; 409 sold_out when stock lacks)",
    auth="shopper",
    example={"quantity": 2},
)
def set_bag_line_quantity(line_id: int, body: LineQuantityIn) -> BagOut:
    out = bags.do_set_line_quantity(db(), current_actor(), line_id, quantity=body.quantity)
    return BagOut.model_validate(out)


def _post_webhook(handoff: bags.Handoff, policy: UrlPolicy) -> int | None:
    """The shop's answer, or None when it could not be reached (or may not be)."""
    assert handoff.webhook_url is not None
    try:
        return post_json(
            handoff.webhook_url,
            handoff.payload,
            handoff.headers,
            policy,
            timeout=WEBHOOK_TIMEOUT_SECONDS,
        )
    except UnsafeDestination as exc:  # DNS changed since the URL was saved
        log.warning("checkout webhook %s refused: %s", handoff.webhook_url, exc)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        log.warning("checkout webhook %s failed: %s", handoff.webhook_url, exc)
    return None


def checkout(brand: Brand) -> CheckoutOut:
    """Hand the bag to the brand's shop: webhook first (if any), then the cart URL."""
    policy = UrlPolicy.from_mapping(current_app.config)
    handoff = bags.prepare_checkout(db(), current_actor(), brand, policy)
    # End the read transaction first: no transaction (SQLite's write lock) stays open
    # across a call to the shop, which may take the whole timeout.
    db().commit()
    status_code = _post_webhook(handoff, policy) if handoff.webhook_url else None
    delivered = status_code is not None and 200 <= status_code < 300
    if handoff.webhook_url and not delivered and handoff.redirect_url is None:
        raise bags.CheckoutUnavailable(
            "The shop did not take the bag just now; your bag is kept, please try again."
        )
    record = bags.do_complete_checkout(db(), handoff, brand, status_code=status_code)
    return CheckoutOut(
        method=record.method, redirect_url=handoff.redirect_url, status_code=status_code
    )


@api_route(
    bp,
    "/bag/checkout",
    "POST",
    body=CheckoutIn,
    response=CheckoutOut,
    tag="bag",
    summary="Hand the bag to the brand's shop (cart URL and/or signed webhook)",
    auth="shopper",
)
def checkout_bag(body: CheckoutIn) -> CheckoutOut:
    return checkout(get_or_404(db(), Brand, body.brand_id, N_("brand")))


@checkout_bp.post("/checkout/<slug>")
def checkout_redirect(slug: str) -> Response:
    """The bag page's form posts here; the shopper lands in the brand's own cart."""
    from sqlmodel import select

    brand = db().exec(select(Brand).where(Brand.slug == slug)).first()
    if brand is None:
        raise NotFound("No such brand.")
    result = checkout(brand)
    target = result.redirect_url or f"/b/{brand.slug}/bag?checked_out=1"
    log.info("checkout hand-off %s", json.dumps({"brand": slug, "method": result.method}))
    return redirect(target, code=303)
