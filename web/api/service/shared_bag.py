"""The shared bag of a 1:1 as JSON: the thread's shopper and the brand's staff both edit it.

Views parse and call the actions of ``sessions/service/shared_bag.py`` (the gate,
``access_shared_bag``, is theirs); both sides hear each change as ``shared_bag``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from sessions.access import access_shared_bag_checkout
from sessions.catalogue import get_or_404
from sessions.i18n import N_
from sessions.models import Brand
from sessions.service import shared_bag, threads
from web.api import bp
from web.api.live import BagOut, CheckoutOut, checkout
from web.api.spec import api_route
from web.db import db
from web.identity import current_actor

DbId = Annotated[int, Field(ge=1, le=2**31 - 1)]
TAG = "shared bag"


class Strict(BaseModel):
    model_config = {"extra": "forbid"}


class SharedAddIn(Strict):
    variant_id: DbId
    quantity: Annotated[int, Field(ge=1, le=10)] = 1


class SharedQuantityIn(Strict):
    quantity: Annotated[int, Field(ge=0, le=10)] = Field(description="0 removes the line")


@api_route(
    bp,
    "/threads/<int:thread_id>/bag",
    "GET",
    response=BagOut,
    tag=TAG,
    summary="The shared bag of a thread: its shopper's open bag at the brand",
    auth="shopper",
)
def shared_bag_get(thread_id: int) -> BagOut:
    thread = threads.thread_or_404(db(), thread_id)
    return BagOut.model_validate(shared_bag.thread_bag(db(), current_actor(), thread))


@api_route(
    bp,
    "/threads/<int:thread_id>/bag/lines",
    "POST",
    body=SharedAddIn,
    response=BagOut,
    status=201,
    tag=TAG,
    summary="Add a size and colour to the shared bag (either side; 409 sold_out)",
    auth="shopper",
    example={"variant_id": 1, "quantity": 1},
)
def shared_bag_add(thread_id: int, body: SharedAddIn) -> BagOut:
    thread = threads.thread_or_404(db(), thread_id)
    out = shared_bag.do_add(
        db(), current_actor(), thread, variant_id=body.variant_id, quantity=body.quantity
    )
    return BagOut.model_validate(out)


@api_route(
    bp,
    "/threads/<int:thread_id>/bag/lines/<int:line_id>",
    "PATCH",
    body=SharedQuantityIn,
    response=BagOut,
    tag=TAG,
    summary="Change a line's quantity in the shared bag (0 removes it)",
    auth="shopper",
    example={"quantity": 2},
)
def shared_bag_quantity(thread_id: int, line_id: int, body: SharedQuantityIn) -> BagOut:
    thread = threads.thread_or_404(db(), thread_id)
    out = shared_bag.do_set_quantity(db(), current_actor(), thread, line_id, quantity=body.quantity)
    return BagOut.model_validate(out)


@api_route(
    bp,
    "/threads/<int:thread_id>/bag/lines/<int:line_id>",
    "DELETE",
    response=BagOut,
    tag=TAG,
    summary="Remove a line from the shared bag; its stock goes back",
    auth="shopper",
)
def shared_bag_remove(thread_id: int, line_id: int) -> BagOut:
    thread = threads.thread_or_404(db(), thread_id)
    return BagOut.model_validate(shared_bag.do_remove(db(), current_actor(), thread, line_id))


@api_route(
    bp,
    "/threads/<int:thread_id>/bag/checkout",
    "POST",
    response=CheckoutOut,
    tag=TAG,
    summary="The shopper sends the shared bag to the brand's shop (cart URL and/or webhook)",
    auth="shopper",
)
def shared_bag_checkout(thread_id: int) -> CheckoutOut:
    thread = threads.thread_or_404(db(), thread_id)
    actor = current_actor()
    access_shared_bag_checkout(actor, thread)
    brand = get_or_404(db(), Brand, thread.brand_id, N_("brand"))
    done = checkout(brand)
    total = shared_bag.bag_of(db(), thread)
    threads.do_post_system(db(), thread, N_("The shopper sent the bag to checkout"))
    shared_bag.publish_bag(db(), thread, actor.name, total)
    return done
