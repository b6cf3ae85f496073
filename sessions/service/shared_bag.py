"""The shared bag of a 1:1: the thread's shopper's open bag at its brand, editable by both.

In the inbox's conversation and in the consultation room, the shopper and the associate
both add (from a product card or the search), change a quantity and remove; only the
shopper checks out (their own cart). The gate is ``access_shared_bag``: the thread's
shopper, or the brand's staff. Stock is reserved as for any add to bag
(``sessions/bags.py``); every change is pushed to both sides as ``shared_bag``.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from sessions import bags
from sessions.access import Actor, access_shared_bag
from sessions.errors import InvalidInput, NotFound
from sessions.events import publish
from sessions.i18n import N_
from sessions.models import Bag, BagLine, BagStatus, Brand, Product, Thread, Variant


def _brand(db: Session, thread: Thread) -> Brand:
    brand = db.get(Brand, thread.brand_id)
    assert brand is not None
    return brand


def bag_of(db: Session, thread: Thread) -> dict[str, Any]:
    brand = _brand(db, thread)
    bag = bags.open_bag(db, thread.brand_id, thread.shopper_id)
    if bag is not None:
        bags.do_release_expired(db, bag_id=bag.id)
        db.refresh(bag)
    return bags.bag_out(db, bag, brand)


def publish_bag(db: Session, thread: Thread, by: str, body: dict[str, Any] | None = None) -> dict:
    body = body if body is not None else bag_of(db, thread)
    assert thread.id is not None
    for address in (f"shopper:{thread.shopper_id}", f"brand:{thread.brand_id}"):
        publish("shared_bag", None, address, thread_id=thread.id, bag=body, by=by)
    return body


def thread_bag(db: Session, actor: Actor, thread: Thread) -> dict[str, Any]:
    access_shared_bag(actor, thread)
    return bag_of(db, thread)


def _own_line(db: Session, thread: Thread, line_id: int) -> tuple[BagLine, Bag]:
    line = db.get(BagLine, line_id)
    bag = db.get(Bag, line.bag_id) if line is not None else None
    if (
        line is None
        or bag is None
        or bag.shopper_id != thread.shopper_id
        or bag.brand_id != thread.brand_id
        or bag.status is not BagStatus.OPEN
    ):
        raise NotFound(N_("No line %(id)s in this bag."), params={"id": line_id})
    return line, bag


def do_add(
    db: Session, actor: Actor, thread: Thread, *, variant_id: object, quantity: object = 1
) -> dict[str, Any]:
    """Add a size and colour of the brand's (reserving its stock); 409 sold out or over cap."""
    access_shared_bag(actor, thread)
    if isinstance(variant_id, int) and not isinstance(variant_id, bool):
        variant = db.get(Variant, variant_id)
        product = db.get(Product, variant.product_id) if variant is not None else None
        if product is None or product.brand_id != thread.brand_id:
            raise InvalidInput(N_("This piece is not sold by this brand."), field="variant_id")
    bags.do_add_to_bag(
        db, actor, variant_id=variant_id, quantity=quantity, for_shopper=thread.shopper_id
    )
    return publish_bag(db, thread, actor.name)


def do_remove(db: Session, actor: Actor, thread: Thread, line_id: int) -> dict[str, Any]:
    access_shared_bag(actor, thread)
    line, bag = _own_line(db, thread, line_id)
    bags.remove_line(db, line, bag)
    return publish_bag(db, thread, actor.name)


def do_set_quantity(
    db: Session, actor: Actor, thread: Thread, line_id: int, *, quantity: object
) -> dict[str, Any]:
    """A line's new quantity (0 removes it): ``bags.set_line_quantity``, told to both sides."""
    access_shared_bag(actor, thread)
    quantity = bags.check_quantity(quantity)
    line, bag = _own_line(db, thread, line_id)
    if quantity == line.quantity:
        return bag_of(db, thread)
    bags.set_line_quantity(db, actor, line, bag, quantity)
    return publish_bag(db, thread, actor.name)
