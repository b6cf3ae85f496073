"""Try it on for me": a shopper asks for one variant; a store that has it on its
shelves, open now (or the next to open), gets the request in a chat thread.

Shelf stock is held per store (``StoreStock``), apart from the online stock
(``Variant.stock``) that the bag reserves from: nothing here touches the online
stock or a reservation. The request goes through the chat routing unchanged
(``threads.do_ask`` with the chosen store): the thread is the place where the
associate answers with a live video or a snapshot, and where the shopper adds the
piece to the bag from its product card. When no store has the variant, the shopper
is told so and offered the nearest variant that is on a shelf.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sessions.access import Actor, access_store_stock, access_tryon_ask
from sessions.catalogue import get_or_404, variants_of
from sessions.clock import utcnow
from sessions.errors import N_, InvalidInput
from sessions.models import (
    AssociateProfile,
    AssociateStore,
    Brand,
    Product,
    Store,
    StoreStock,
    Variant,
)
from sessions.service import availability as av
from sessions.service import threads
from sessions.service.hours import schedule_of

# The usual ladder; sizes outside it are ordered as the catalogue lists them.
SIZE_ORDER = ("XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL")
MAX_SHELF = 100_000


@dataclass(frozen=True)
class Route:
    """Where a try-on goes: the store, and when it opens (``now`` if open now)."""

    store: Store
    quantity: int
    opens_at: datetime

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now


@dataclass(frozen=True)
class TryOn:
    """The answer to the shopper: a thread routed to a store, or none and the nearest."""

    route: Route | None
    asked: threads.Asked | None
    nearest: Variant | None = None
    open_now: bool = False


def describe(variant: Variant) -> str:
    return " / ".join(part for part in (variant.size, variant.colour) if part) or variant.sku


# --- shelf stock -----------------------------------------------------------------------------


def shelf_of(db: Session, variant_id: int) -> dict[int, int]:
    """Store id → quantity on its shelves, for one variant."""
    rows = db.exec(select(StoreStock).where(StoreStock.variant_id == variant_id)).all()
    return {r.store_id: r.quantity for r in rows}


def _check_quantity(quantity: object) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidInput(N_("The shelf stock is a whole number."))
    if not 0 <= quantity <= MAX_SHELF:
        raise InvalidInput(N_("The shelf stock is between 0 and %(n)s."), params={"n": MAX_SHELF})
    return quantity


def set_shelf(db: Session, variant: Variant, store: Store, quantity: int) -> None:
    """Write one shelf count in the caller's transaction (the CSV import commits once).

    An UPDATE of the one row, or an INSERT when there is none: the online stock and
    the reservations are other rows and stay as they are."""
    if variant.brand_id != store.brand_id:
        raise InvalidInput(N_("This store is not one of the brand's."))
    result = db.exec(
        update(StoreStock)
        .where(col(StoreStock.variant_id) == variant.id, col(StoreStock.store_id) == store.id)
        .values(quantity=quantity, updated_at=utcnow())
    )
    if result.rowcount == 0:
        assert variant.id is not None and store.id is not None
        db.add(StoreStock(variant_id=variant.id, store_id=store.id, quantity=quantity))
        db.flush()


def do_set_store_stock(
    db: Session, actor: Actor, variant_id: int, store_id: int, quantity: object
) -> int:
    """The admin sets how many of a variant one store holds. Returns the new count."""
    variant = get_or_404(db, Variant, variant_id, N_("size or colour"))
    access_store_stock(actor, variant.brand_id)
    store = get_or_404(db, Store, store_id, N_("store"))
    count = _check_quantity(quantity)
    try:
        set_shelf(db, variant, store, count)
        db.commit()
    except IntegrityError:  # two admins created the row at once: the later one updates it
        db.rollback()
        set_shelf(db, variant, store, count)
        db.commit()
    return count


# --- where it goes -----------------------------------------------------------------------------


def store_opening(db: Session, store: Store, now: datetime) -> datetime | None:
    """When the store has somebody at work: ``now`` if open now, else the next start."""
    people = db.exec(
        select(AssociateProfile)
        .join(AssociateStore, col(AssociateStore.associate_id) == col(AssociateProfile.id))
        .where(AssociateStore.store_id == store.id)
    ).all()
    openings = [av.next_opening(schedule_of(db, p, store), now) for p in people]
    found = [o for o in openings if o is not None]
    return min(found) if found else None


def route_for(db: Session, variant: Variant, now: datetime) -> Route | None:
    """The store holding the variant that is open now (most on the shelf first), else the
    next to open; None when no store holds it (or none ever opens)."""
    assert variant.id is not None
    routes = []
    for store_id, quantity in shelf_of(db, variant.id).items():
        store = db.get(Store, store_id)
        if quantity <= 0 or store is None:
            continue
        opens = store_opening(db, store, now)
        if opens is not None:
            routes.append(Route(store, quantity, opens))
    db.commit()  # end the read transaction (SQLite holds the write lock otherwise)
    if not routes:
        return None
    return min(routes, key=lambda r: (r.opens_at, -r.quantity, r.store.id or 0))


def _size_rank(size: str, sizes: list[str]) -> int:
    upper = size.upper()
    if upper in SIZE_ORDER:
        return SIZE_ORDER.index(upper)
    return len(SIZE_ORDER) + (sizes.index(size) if size in sizes else 0)


def nearest_variant(db: Session, variant: Variant) -> Variant | None:
    """The same product's variant on a shelf that is closest: the same colour in the
    nearest size, then the same size in another colour, then any."""
    others = [v for v in variants_of(db, variant.product_id) if v.id != variant.id]
    on_shelf = [v for v in others if v.id is not None and sum(shelf_of(db, v.id).values()) > 0]
    db.commit()
    if not on_shelf:
        return None
    sizes = [v.size for v in variants_of(db, variant.product_id)]
    here = _size_rank(variant.size, sizes)

    def distance(v: Variant) -> tuple[int, int, int]:
        same_colour = v.colour == variant.colour
        same_size = v.size == variant.size
        step = abs(_size_rank(v.size, sizes) - here)
        tier = 0 if same_colour else (1 if same_size else 2)
        return (tier, step, v.id or 0)

    return min(on_shelf, key=distance)


# --- the shopper asks ----------------------------------------------------------------------


def shelf_note(
    db: Session, product: Product, variant: Variant, route: Route
) -> tuple[str, dict[str, Any]]:
    """What the associate sees in the console thread: the piece, the variant, the shelf
    (a msgid and its parameters, written in the reader's language)."""
    return N_(
        "Try-on request: %(product)s, %(variant)s (SKU %(sku)s). On the shelf at %(store)s: %(n)s."
    ), {
        "product": product.name,
        "variant": describe(variant),
        "sku": variant.sku,
        "store": route.store.name,
        "n": route.quantity,
    }


def do_ask_tryon(
    db: Session,
    actor: Actor,
    brand: Brand,
    *,
    variant_id: int,
    language: str = "en",
    now: datetime | None = None,
) -> TryOn:
    """Route the request to a store holding the variant, through the chat routing."""
    now = now or utcnow()
    variant = get_or_404(db, Variant, variant_id, N_("size or colour"))
    product = get_or_404(db, Product, variant.product_id, N_("product"))
    if product.brand_id != brand.id:
        raise InvalidInput(N_("This piece is not one of the brand's."))
    access_tryon_ask(actor, product)
    route = route_for(db, variant, now)
    if route is None:
        return TryOn(route=None, asked=None, nearest=nearest_variant(db, variant))
    asked = threads.do_ask(
        db,
        actor,
        brand,
        body=_("Could someone try it on for me? %(variant)s", variant=describe(variant)),
        product_id=product.id,
        language=language,
        store_id=route.store.id,
        move_to_store=True,  # an open thread at a store without it goes to this one
        now=now,
    )
    threads.do_post_system(db, asked.thread, *shelf_note(db, product, variant, route), now=now)
    return TryOn(route=route, asked=asked, open_now=route.is_open(now))
