"""Bags: add to bag with an atomic stock reservation, expiry, checkout hand-off.

Overselling is impossible by construction: stock is taken with one conditional
``UPDATE variants SET stock = stock - q WHERE id = ? AND stock >= q`` whose
row count says whether it worked. On SQLite every transaction starts with
BEGIN IMMEDIATE (sessions/db.py), on PostgreSQL the row lock of the UPDATE
serialises the takers; the CHECK (stock >= 0) is the last line of defence.
A reservation returns its stock when it expires: a sweeper calls
``do_release_expired`` and reads release lazily too.

One client may hold at most ``Brand.max_per_client`` of a variant, counting every
line and every request and what they checked out in the last CHECKED_OUT_WINDOW.
The count is read after the stock UPDATE, in the same transaction: that UPDATE
locks the variant's row (PostgreSQL) or the database (SQLite), so two adds of the
same client cannot both pass the cap.

An add writes its bag, line and reservation first and takes the stock last, just
before its commit: every taker of one piece queues for that row's lock, so each holds
it as briefly as it can (docs/performance.md); a plain read of the stock beforehand
refuses what is plainly short without writing or queueing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import string
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import bindparam, func, inspect, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col, select

from sessions import groupcommit, stockflags
from sessions.access import Actor, access_add_outside_live, access_bag, access_join, can_host
from sessions.analytics import events as analytics_events
from sessions.analytics.live import live_figures
from sessions.brand_texts import names_by_language
from sessions.brands import CART_URL_PLACEHOLDERS
from sessions.catalogue import get_or_404
from sessions.clock import as_utc, utcnow
from sessions.db import is_reads_only, writable
from sessions.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, SoldOut
from sessions.events import publish
from sessions.i18n import N_, Phrase
from sessions.live import claim_offer, current_offer, offer_out
from sessions.models import (
    AnalyticsEvent,
    Bag,
    BagLine,
    BagStatus,
    Brand,
    CheckoutHandoff,
    FlashOffer,
    LiveSession,
    Product,
    SessionKind,
    SessionStatus,
    StockReservation,
    Thread,
    Variant,
)
from sessions.outbound import UrlPolicy, check_redirect_url
from sessions.shows.replay import replay_price

log = logging.getLogger(__name__)
MAX_QUANTITY = 10
# Checked-out units count against the per-client cap for this long, so checking out and
# adding again does not reset it. A day covers a show, its replay and the drop's rush,
# yet a client coming back another day for a second piece is not refused forever.
CHECKED_OUT_WINDOW = timedelta(hours=24)


class OverLimit(Conflict):
    code = "limit_per_client"


class CheckoutUnavailable(DomainError):
    """The brand's shop did not take the bag (down, slow, an error): worth a retry."""

    status = 503
    code = "checkout_unavailable"


class CheckoutNotSetUp(Conflict):
    """The brand has no usable checkout: a state of the brand, not a failure of ours."""

    code = "checkout_not_set_up"


# --- reading -----------------------------------------------------------------


# Built once with parameters: sessions/db.py, "statements built once".
_OPEN_BAG = (
    select(Bag)
    .where(
        Bag.brand_id == bindparam("brand"),
        Bag.shopper_id == bindparam("shopper"),
        Bag.status == BagStatus.OPEN,
    )
    .order_by(col(Bag.id))
)
_OPEN_BAG_LOCKED = _OPEN_BAG.with_for_update().execution_options(populate_existing=True)


def open_bag(db: Session, brand_id: int, shopper_id: int, *, lock: bool = False) -> Bag | None:
    """The shopper's open bag at the brand. ``lock``: its row locked to the commit
    (PostgreSQL; SQLite has one writer anyway), and read afresh."""
    query = _OPEN_BAG_LOCKED if lock else _OPEN_BAG
    return db.exec(query, params={"brand": brand_id, "shopper": shopper_id}).first()


def bag_out(db: Session, bag: Bag | None, brand: Brand) -> dict[str, Any]:
    """Bag: lines with names, sizes and when their reservation runs out."""
    if bag is None:
        return {"id": None, "count": 0, "total_minor": 0, "currency": brand.currency, "lines": []}
    lines = db.exec(select(BagLine).where(BagLine.bag_id == bag.id).order_by(col(BagLine.id))).all()
    out: list[dict[str, Any]] = []
    for line in lines:
        variant = db.get(Variant, line.variant_id)
        product = db.get(Product, variant.product_id) if variant else None
        if variant is None or product is None:
            continue
        expires = db.exec(
            select(func.min(StockReservation.expires_at)).where(
                StockReservation.bag_line_id == line.id,
                col(StockReservation.released_at).is_(None),
                col(StockReservation.converted_at).is_(None),
            )
        ).one()
        out.append(
            {
                "id": line.id,
                "product_id": product.id,
                "variant_id": variant.id,
                "name": product.name,
                "names": names_by_language(db, "product", product.id, "name"),
                "size": variant.size,
                "colour": variant.colour,
                "quantity": line.quantity,
                "unit_price_minor": line.unit_price_minor,
                "image_url": f"/uploads/{product.image_path}" if product.image_path else None,
                "expires_at": expires.isoformat() if isinstance(expires, datetime) else expires,
            }
        )
    return {
        "id": bag.id,
        "count": sum(line["quantity"] for line in out),
        "total_minor": sum(line["quantity"] * line["unit_price_minor"] for line in out),
        "currency": brand.currency,
        "lines": out,
    }


def stock_out(db: Session, variant: Variant) -> dict[str, Any]:
    product_stock = db.exec(
        select(func.sum(Variant.stock)).where(Variant.product_id == variant.product_id)
    ).one()
    return {
        "product_id": variant.product_id,
        "variant_id": variant.id,
        "stock": variant.stock,
        "product_stock": int(product_stock or 0),
    }


def _single_line_bag(
    done: _Reserved,
    variant: Variant,
    product: Product,
    brand: Brand,
    names: dict[str, str],
) -> dict[str, Any]:
    """bag_out of a bag that holds exactly the line just reserved (made in its transaction)."""
    return {
        "id": done.bag_id,
        "count": done.line_quantity,
        "total_minor": done.line_quantity * done.line_price,
        "currency": brand.currency,
        "lines": [
            {
                "id": done.line_id,
                "product_id": product.id,
                "variant_id": variant.id,
                "name": product.name,
                "names": names,
                "size": variant.size,
                "colour": variant.colour,
                "quantity": done.line_quantity,
                "unit_price_minor": done.line_price,
                "image_url": f"/uploads/{product.image_path}" if product.image_path else None,
                "expires_at": done.expires.isoformat(),
            }
        ],
    }


def _publish_bag(
    db: Session, bag: Bag, brand: Brand, live: LiveSession | None, body: dict | None = None
) -> dict:
    body = body if body is not None else bag_out(db, bag, brand)
    room = live.room if live is not None else None
    publish("bag", room, audience=f"shopper:{bag.shopper_id}", bag=body)
    if live is not None and live.kind is SessionKind.CONSULTATION:
        publish("bag", room, audience="hosts", bag=body)
    return body


# --- adding ------------------------------------------------------------------


@dataclass
class Added:
    bag: dict[str, Any]
    stock: dict[str, Any]


def _bag_shopper(actor: Actor, live: LiveSession | None) -> int:
    """Whose bag: one's own, or in a consultation the host adds to the shopper's."""
    if live is not None and live.kind is SessionKind.CONSULTATION and can_host(actor, live):
        assert live.shopper_id is not None
        return live.shopper_id
    if actor.shopper_id is None:
        raise Forbidden(N_("Reload the page to use your bag."), code="not_identified")
    return actor.shopper_id


# Built once with parameters: sessions/db.py, "statements built once".
_TAKE_STOCK = (
    update(Variant)
    .where(col(Variant.id) == bindparam("variant"), col(Variant.stock) >= bindparam("quantity"))
    .values(stock=col(Variant.stock) - bindparam("quantity"))
    .returning(col(Variant.stock))
    .execution_options(synchronize_session=False)
)
_STOCK_OF = select(Variant.stock).where(Variant.id == bindparam("variant"))
_HELD_BY = (
    select(func.coalesce(func.sum(StockReservation.quantity), 0))
    .join(BagLine, col(BagLine.id) == col(StockReservation.bag_line_id))
    .join(Bag, col(Bag.id) == col(BagLine.bag_id))
    .where(
        Bag.shopper_id == bindparam("shopper"),
        StockReservation.variant_id == bindparam("variant"),
        (
            col(StockReservation.released_at).is_(None)
            & col(StockReservation.converted_at).is_(None)
            & (col(StockReservation.expires_at) > bindparam("now"))
        )
        | (col(StockReservation.converted_at) >= bindparam("since")),
    )
)


def _take_stock(db: Session, variant_id: int, quantity: int) -> int | None:
    """The stock left after taking `quantity`, or None when there was not enough.

    One statement: the conditional UPDATE returns the new stock (RETURNING, on SQLite
    and PostgreSQL alike), so no read follows it."""
    left = db.execute(_TAKE_STOCK, {"variant": variant_id, "quantity": quantity}).scalar()
    return None if left is None else int(left)


def _stock_of(db: Session, variant_id: int) -> int:
    return int(db.exec(_STOCK_OF, params={"variant": variant_id}).one())


def held_by(db: Session, shopper_id: int, variant_id: int) -> int:
    """Units of a variant the shopper holds now or checked out within the window."""
    now = utcnow()
    params = {
        "shopper": shopper_id,
        "variant": variant_id,
        "now": now,
        "since": now - CHECKED_OUT_WINDOW,
    }
    return int(db.exec(_HELD_BY, params=params).one())


def _check_cap(
    db: Session,
    brand: Brand,
    shopper_id: int,
    variant_id: int,
    quantity: int,
    *,
    included: bool = False,
) -> None:
    """Refuse what would take the client past the brand's cap; call with the variant locked.
    ``included``: the reservation of `quantity` is already written in this transaction."""
    held = held_by(db, shopper_id, variant_id) - (quantity if included else 0)
    if held + quantity <= brand.max_per_client:
        return
    cap = brand.max_per_client
    raise OverLimit(
        N_("At most %(n)s of this piece per client."),
        params={"n": cap},
        variant_id=variant_id,
        max_per_client=cap,
        held=held,
    )


def _open_or_new_bag(db: Session, brand_id: int, shopper_id: int) -> tuple[Bag, bool]:
    """The shopper's open bag, and whether this call made it; a unique partial index
    settles two first adds racing.

    An open bag comes locked: one shopper's adds then run one after another, so the
    second reads the line the first wrote or grew (``line.quantity += q`` would lose a
    unit otherwise: two taps reading the same quantity, each writing it plus one). The
    variant's row lock, taken last, no longer orders them (see _reserve_in)."""
    bag = open_bag(db, brand_id, shopper_id, lock=True)
    if bag is not None:
        return bag, False
    try:
        with db.begin_nested():
            bag = Bag(brand_id=brand_id, shopper_id=shopper_id)
            db.add(bag)
    except IntegrityError:  # another request opened it a moment ago: use that one
        bag = open_bag(db, brand_id, shopper_id, lock=True)
        assert bag is not None
        return bag, False
    return bag, True


# Built once with parameters: sessions/db.py, "statements built once".
_LINE_FOR = select(BagLine).where(
    BagLine.bag_id == bindparam("bag"),
    BagLine.variant_id == bindparam("variant"),
    BagLine.unit_price_minor == bindparam("price"),
)


def _line_for(db: Session, bag: Bag, variant_id: int, price: int) -> BagLine | None:
    params = {"bag": bag.id, "variant": variant_id, "price": price}
    return db.exec(_LINE_FOR, params=params).first()


def _check_input(variant_id: object, quantity: object) -> tuple[int, int]:
    if not isinstance(variant_id, int) or isinstance(variant_id, bool):
        raise InvalidInput(N_("Choose a size and colour."), field="variant_id")
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise InvalidInput(N_("The quantity is a whole number."), field="quantity")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(
            N_("Add between 1 and %(n)s."), params={"n": MAX_QUANTITY}, field="quantity"
        )
    return variant_id, quantity


def refuse_if_known_sold_out(
    actor: Actor, variant_id: object, quantity: object = 1, live: LiveSession | None = None
) -> None:
    """The sold-out fast path: raise SoldOut, touching no table, for a variant known at
    zero (sessions/stockflags.py); return when it is not known (ask the database).

    Callers run it before turning a guest into a shopper row, so a refused tap writes
    nothing at all. The same access rule as the long way applies first.
    """
    variant, _ = _check_input(variant_id, quantity)
    brand_id = stockflags.known_sold_out(variant)
    if brand_id is None:
        return
    _refuse_before_work(actor, live, brand_id)
    raise SoldOut(N_("Sold out."), variant_id=variant, stock=0)


# Built once with parameters: sessions/db.py, "statements built once".
_STOCK_AND_BRAND = (
    select(Variant.stock, Product.brand_id, Product.is_active)
    .join(Product, col(Product.id) == col(Variant.product_id))
    .where(Variant.id == bindparam("variant"))
)
_FIRST_LIVE_EXPIRY = (
    select(StockReservation.expires_at)
    .where(
        StockReservation.variant_id == bindparam("variant"),
        col(StockReservation.released_at).is_(None),
        col(StockReservation.converted_at).is_(None),
    )
    .order_by(col(StockReservation.expires_at))
    .limit(1)
)


def refuse_if_short(
    db: Session,
    actor: Actor,
    variant_id: object,
    quantity: object = 1,
    live: LiveSession | None = None,
) -> None:
    """The second step of the sold-out path, also before a guest becomes a shopper row:
    one plain read of the stock (a read never queues for the variant's row lock). Short,
    with no reservation of the variant past its time (those the long way gives back
    first), the tap is refused here and writes nothing; at zero it sets the flag.

    Why: in a sale the taps that arrive together all pass the flag before the last unit
    goes, and each would otherwise make its shopper row (an INSERT and a COMMIT) and read
    the variant, product and brand, only to be refused by the same read in the
    reservation. The long way keeps every check: this only refuses earlier."""
    variant_id, quantity = _check_input(variant_id, quantity)
    seen = stockflags.generation()  # before the stock: see _refuse
    row = db.exec(_STOCK_AND_BRAND, params={"variant": variant_id}).first()
    if row is None or not row[2] or row[0] >= quantity:
        return  # missing or withdrawn: the long way says so; enough: it reserves
    left, brand_id = int(row[0]), int(row[1])
    first = _first_live_expiry(db, variant_id)
    if first is not None and first <= utcnow():
        return  # a unit may come back now: the long way releases and tries
    _refuse_before_work(actor, live, brand_id)
    if left == 0:
        horizon = as_utc(first).timestamp() if first is not None else float("inf")
        stockflags.mark_sold_out(variant_id, brand_id, horizon, seen)
        raise SoldOut(N_("Sold out."), variant_id=variant_id, stock=0)
    raise SoldOut(N_("Only %(n)s left."), params={"n": left}, variant_id=variant_id, stock=left)


def _refuse_before_work(actor: Actor, live: LiveSession | None, brand_id: int) -> None:
    """The long way's access rule, for a refusal answered before it: a viewer refused
    the session, or a variant of another brand, hears that rather than "sold out"."""
    if live is not None:
        access_join(actor, live)
        if live.brand_id != brand_id:
            raise InvalidInput(N_("This product is not sold in this session."), field="variant_id")


def _first_live_expiry(db: Session, variant_id: int) -> datetime | None:
    """When the first live reservation of the variant ends (a unit may come back then
    without anyone clearing the sold-out flag)."""
    return db.exec(_FIRST_LIVE_EXPIRY, params={"variant": variant_id}).first()


def refuse_outside_live(
    db: Session, actor: Actor, variant_id: object, quantity: object, live: LiveSession | None
) -> None:
    """Run before a guest becomes a shopper row: an add from a product page (no session)
    at a brand that sells only in its shows and consultations is refused, writing nothing.
    ``do_add_to_bag`` asks the same gate again."""
    if live is not None:
        return
    variant_id, _quantity = _check_input(variant_id, quantity)
    variant = db.get(Variant, variant_id)
    product = db.get(Product, variant.product_id) if variant is not None else None
    brand = db.get(Brand, product.brand_id) if product is not None else None
    if brand is not None:
        access_add_outside_live(actor, brand)


def do_add_to_bag(
    db: Session,
    actor: Actor,
    *,
    variant_id: object,
    quantity: object = 1,
    live: LiveSession | None = None,
    for_shopper: int | None = None,
) -> Added:
    """Reserve `quantity` of a variant for the shopper's bag, or raise SoldOut.

    ``for_shopper``: the bag of a 1:1 thread, whose gate (``access_shared_bag``) the
    caller passed (sessions/service/shared_bag.py)."""
    variant_id, quantity = _check_input(variant_id, quantity)
    refuse_if_known_sold_out(actor, variant_id, quantity, live)
    # Announced before the reads below, so a group commit's leader waits for this one.
    batcher = groupcommit.batcher(db.get_bind())  # type: ignore[arg-type]
    batcher.arriving()
    try:
        variant = get_or_404(db, Variant, variant_id, N_("size or colour"))
        product = db.get(Product, variant.product_id)
        if product is None or not product.is_active:
            raise NotFound(N_("This product is no longer available."))
        if live is not None:
            access_join(actor, live)
            if live.brand_id != product.brand_id:
                raise InvalidInput(
                    N_("This product is not sold in this session."), field="variant_id"
                )
        brand = db.get(Brand, product.brand_id)
        assert brand is not None and variant.id is not None
        if live is None and for_shopper is None:  # from the product page: the brand's choice
            access_add_outside_live(actor, brand)
        shopper_id = for_shopper if for_shopper is not None else _bag_shopper(actor, live)
        # The request's own transaction (its reads) ends here when the reservation runs
        # in the group commit's; on SQLite it runs alone in this very session (one writer
        # at a time: nothing to share), so the reads and the writes are one transaction.
        if not batcher.runs_in(db):
            db.commit()
    except BaseException:
        batcher.left()
        raise
    return _reserve(db, actor, brand, product, variant, quantity, shopper_id, live, batcher)


def _mark_after_commit(
    db: Session, batch: groupcommit.Batch, variant_id: int, brand_id: int | None, seen: int
) -> None:
    first = _first_live_expiry(db, variant_id)
    horizon = as_utc(first).timestamp() if first is not None else float("inf")
    assert brand_id is not None
    batch.after_commit(lambda: stockflags.mark_sold_out(variant_id, brand_id, horizon, seen))


def _refuse(db: Session, batch: groupcommit.Batch, brand: Brand, variant_id: int) -> SoldOut:
    """After a failed take: what is left, and the sold-out flag when it is zero.

    The flag's generation is read before the stock, inside the transaction of the failed
    UPDATE: a rise committed before the read shows in `left`; one committed after it
    clears after its commit, moving the generation, and the mark is refused. The mark
    itself waits for the transaction's commit (``after_commit``): inside a group commit
    the zero may be the batch's own takes, real only once the batch commits.
    """
    seen = stockflags.generation()
    left = db.exec(select(Variant.stock).where(Variant.id == variant_id)).one()
    if left == 0:
        # Trusted until the first live reservation of the variant may give a unit back.
        _mark_after_commit(db, batch, variant_id, brand.id, seen)
        return SoldOut(N_("Sold out."), variant_id=variant_id, stock=left)
    return SoldOut(N_("Only %(n)s left."), params={"n": left}, variant_id=variant_id, stock=left)


@dataclass
class _Reserved:
    """What the reservation's transaction leaves for the answer and the events."""

    left: int
    product_stock: int
    bag: Bag
    new_bag: bool
    line: BagLine
    # Read at the item's end: a later item of the same group commit refused after its
    # writes rolls its savepoint back, which expires every row it touched (this bag too,
    # when both are one shopper's) in the batch's session, closed by the time we answer.
    bag_id: int
    line_id: int
    line_quantity: int
    line_price: int
    expires: datetime
    claimed_id: int | None
    names: dict[str, str] | None  # the product's names, for a bag made just now
    figures: dict[str, Any] | None  # the host's live figures, read in the same transaction
    released: list[tuple[BagLine, int]]
    has_thread: bool


# Built once with parameters: sessions/db.py, "statements built once".
_PRODUCT_STOCK = select(func.sum(Variant.stock)).where(Variant.product_id == bindparam("product"))
_THREAD_OF = select(Thread.id).where(
    Thread.brand_id == bindparam("brand"), Thread.shopper_id == bindparam("shopper")
)


def _reserve_in(
    db: Session,
    batch: groupcommit.Batch,
    actor: Actor,
    brand: Brand,
    product: Product,
    variant: Variant,
    quantity: int,
    shopper_id: int,
    live: LiveSession | None,
) -> _Reserved:
    """The reservation's whole unit of work, in the (maybe shared) transaction of `db`.

    It neither commits nor rolls back: it raises to refuse, and its savepoint goes.
    `variant`, `product`, `brand` and `live` belong to the caller's session and are only
    read (loaded, not expired: the caller committed with expire_on_commit off)."""
    assert variant.id is not None and brand.id is not None and product.id is not None
    variant_id, brand_id = variant.id, brand.id
    released: list[tuple[BagLine, int]] = []
    # A plain read first: in a sale most refusals end here, before any write and without
    # queueing for the variant's row lock (a read never waits for it on PostgreSQL).
    # Expired reservations are given back only when the stock is short (and by the
    # sweeper): a sale's winners do not pay for a sweep.
    if _stock_of(db, variant_id) < quantity:
        due, released = _release_due(db, variant_id=variant_id)
        if due:
            rose = {variant_id}
            batch.after_commit(lambda: stockflags.stock_rose(rose))
        if not due or _stock_of(db, variant_id) < quantity:
            raise _refuse(db, batch, brand, variant_id)
    price = variant.price_minor if variant.price_minor is not None else product.price_minor
    if live is not None and live.status is SessionStatus.ENDED and variant.price_minor is None:
        # From a show's replay: the price it had when pinned live, if the brand says so.
        price = replay_price(db, live, product, brand) or price
    offer = current_offer(db, live) if live is not None else None
    claimed_id = None
    if offer is not None and offer.product_id == product.id and claim_offer(db, offer, quantity):
        price, claimed_id = offer.price_minor, offer.id
    bag, new_bag = _open_or_new_bag(db, brand_id, shopper_id)
    assert bag.id is not None
    now = utcnow()
    expires = now + timedelta(minutes=brand.reservation_minutes)
    line = None if new_bag else _line_for(db, bag, variant_id, price)
    new_line = line is None
    if line is None:
        line = BagLine(
            bag_id=bag.id,
            variant_id=variant_id,
            quantity=quantity,
            unit_price_minor=price,
            currency=product.currency,
            live_session_id=live.id if live else None,
            flash_offer_id=claimed_id,
            added_by_user_id=actor.user_id,
        )
    else:
        line.quantity += quantity
    db.add(line)
    db.flush()
    if not new_line:
        # Adding again keeps the whole line: its earlier reservations run as long as
        # the new one.
        db.exec(
            update(StockReservation)
            .where(
                col(StockReservation.bag_line_id) == line.id,
                col(StockReservation.released_at).is_(None),
                col(StockReservation.converted_at).is_(None),
            )
            .values(expires_at=expires)
            .execution_options(synchronize_session=False)
        )
    db.add(
        StockReservation(
            variant_id=variant_id, bag_line_id=line.id, quantity=quantity, expires_at=expires
        )
    )
    if not new_bag:  # a bag made just now has its time from its INSERT
        bag.updated_at = now
        db.add(bag)
    added = _analytics(
        brand_id, "add_to_bag", live, shopper_id, price * quantity, f"variant:{variant_id}"
    )
    added.product_id, added.mode = product.id, analytics_events.mode_of(live)
    db.add(added)
    db.flush()
    # The take comes last, after the other writes: on PostgreSQL the variant's row lock,
    # which every taker of the piece queues for, is held from here to the commit only,
    # not across the whole unit of work. Taken too late (another taker got the last
    # unit since the read above), the refusal rolls all of this back.
    seen = stockflags.generation()  # before the take: see _refuse
    left = _take_stock(db, variant_id, quantity)
    if left is None:
        raise _refuse(db, batch, brand, variant_id)
    # With the row locked: two adds of one client cannot both pass the cap.
    _check_cap(db, brand, shopper_id, variant_id, quantity, included=True)
    # Read here, in the transaction that holds the lock anyway, rather than in one more
    # transaction after the commit (on SQLite each is one more turn of the write lock).
    product_stock = db.exec(_PRODUCT_STOCK, params={"product": product.id}).one()
    has_thread = (
        db.exec(_THREAD_OF, params={"brand": brand_id, "shopper": shopper_id}).first() is not None
    )
    if left == 0:
        # The last unit went here: the taps behind it need not wait for a refusal to
        # learn it. Registered last, so a refusal above (the cap) cannot leave a flag.
        _mark_after_commit(db, batch, variant_id, brand_id, seen)
    assert line.id is not None
    return _Reserved(
        left=left,
        product_stock=int(product_stock or 0),
        bag=bag,
        new_bag=new_bag,
        line=line,
        bag_id=bag.id,
        line_id=line.id,
        line_quantity=line.quantity,
        line_price=line.unit_price_minor,
        expires=expires,
        claimed_id=claimed_id,
        names=names_by_language(db, "product", product.id, "name") if new_bag else None,
        figures=live_figures(db, live) if live is not None else None,
        released=released,
        has_thread=has_thread,
    )


def _reserve(
    db: Session,
    actor: Actor,
    brand: Brand,
    product: Product,
    variant: Variant,
    quantity: int,
    shopper_id: int,
    live: LiveSession | None,
    batcher: groupcommit.Batcher,
) -> Added:
    """Run the reservation in a group commit (announced by the caller) and answer from
    what it returned."""
    assert variant.id is not None and brand.id is not None
    try:
        done = batcher.run(
            lambda session, batch: _reserve_in(
                session, batch, actor, brand, product, variant, quantity, shopper_id, live
            ),
            key=variant.id,
            announced=True,
            own=db,
        )
    except IntegrityError:  # the CHECK constraint caught what the UPDATE should have
        raise SoldOut(N_("Sold out."), variant_id=variant.id) from None
    # The caller's session may hold its own copies of the rows the reservation changed
    # in another session (a line whose quantity grew, its bag): read them afresh. When
    # the reservation ran in the caller's own session (SQLite) they are the very rows
    # it wrote, already current: expiring them would only read them again.
    for model, row, ident in ((Bag, done.bag, done.bag_id), (BagLine, done.line, done.line_id)):
        held = db.identity_map.get(identity_key(model, ident))
        if held is not None and held is not row:
            db.expire(held)
    if done.released:
        _publish_released(db, done.released)
    # What the request holds already: the stock the UPDATE returned, and for a bag made
    # just now its one line (no reads after the commit).
    set_committed_value(variant, "stock", done.left)
    stock: dict[str, Any] = {
        "product_id": variant.product_id,
        "variant_id": variant.id,
        "stock": done.left,
        "product_stock": done.product_stock,
    }
    bag = done.bag if not inspect(done.bag).expired_attributes else db.get(Bag, done.bag_id)
    assert bag is not None
    only = (
        _single_line_bag(done, variant, product, brand, done.names or {}) if done.new_bag else None
    )
    body = _publish_bag(db, bag, brand, live, only)
    if live is not None:
        publish("stock", live.room, **stock)
        publish(
            "bag_event",
            live.room,
            audience="hosts",
            name=product.name,
            size=variant.size,
            colour=variant.colour,
            quantity=quantity,
        )
        if done.claimed_id is not None:
            claimed = db.get(FlashOffer, done.claimed_id, populate_existing=True)
            if claimed is not None:
                publish("offer", live.room, offer=offer_out(claimed), offer_id=claimed.id)
        if done.figures is not None:
            publish("live_figures", live.room, audience="hosts", **done.figures)
    if done.has_thread:
        from sessions.service import activity  # late: the thread's module reads the bag

        activity.note_added_to_bag(
            db,
            brand.id,
            shopper_id,
            product_name=product.name,
            size=variant.size,
            quantity=quantity,
            by_staff=actor.name if actor.is_staff else None,
        )
    return Added(bag=body, stock=stock)


def _analytics(
    brand_id: int,
    kind: str,
    live: LiveSession | None,
    shopper_id: int | None,
    value: int,
    detail: str = "",
) -> AnalyticsEvent:
    return AnalyticsEvent(
        brand_id=brand_id,
        kind=kind,
        live_session_id=live.id if live else None,
        associate_id=live.associate_id if live else None,
        shopper_id=shopper_id,
        value_minor=value,
        detail=detail,
    )


def bag_session_id(db: Session, bag: Bag) -> int | None:
    """The session a bag's lines came from: the one with the most value, the latest on a tie."""
    rows = db.exec(
        select(BagLine.live_session_id, BagLine.quantity * BagLine.unit_price_minor, BagLine.id)
        .where(BagLine.bag_id == bag.id, col(BagLine.live_session_id).is_not(None))
        .order_by(col(BagLine.id))
    ).all()
    value: dict[int, tuple[int, int]] = {}
    for live_session_id, amount, line_id in rows:
        if live_session_id is None or line_id is None:
            continue
        before = value.get(live_session_id, (0, 0))
        value[live_session_id] = (before[0] + amount, line_id)
    if not value:
        return None
    return max(value, key=lambda live_session_id: value[live_session_id])


# --- removing and expiring -------------------------------------------------------


def _release(db: Session, reservation: StockReservation, now: datetime) -> BagLine | None:
    """Give one reservation's stock back, exactly once even with two sweepers running."""
    result = db.exec(
        update(StockReservation)
        .where(
            col(StockReservation.id) == reservation.id,
            col(StockReservation.released_at).is_(None),
            col(StockReservation.converted_at).is_(None),
        )
        .values(released_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    db.exec(
        update(Variant)
        .where(col(Variant.id) == reservation.variant_id)
        .values(stock=col(Variant.stock) + reservation.quantity)
        .execution_options(synchronize_session=False)
    )
    line = db.get(BagLine, reservation.bag_line_id) if reservation.bag_line_id else None
    if line is None:
        return None
    remaining = line.quantity - reservation.quantity
    if remaining <= 0:
        db.exec(
            update(StockReservation)
            .where(col(StockReservation.bag_line_id) == line.id)
            .values(bag_line_id=None)
            .execution_options(synchronize_session=False)
        )
        db.delete(line)
    else:
        line.quantity = remaining
        db.add(line)
    return line


def _release_due(
    db: Session, *, variant_id: int | None = None, bag_id: int | None = None, limit: int = 500
) -> tuple[list[StockReservation], list[tuple[BagLine, int]]]:
    """Give back the stock of expired reservations, in the caller's transaction: the
    reservations released, and the lines touched (for the events after the commit)."""
    now = utcnow()
    due = list(db.exec(_due(now, variant_id, bag_id).limit(limit)).all())
    touched: list[tuple[BagLine, int]] = []
    for reservation in due:
        line = _release(db, reservation, now)
        if line is not None:
            touched.append((line, reservation.variant_id))
    return due, touched


def _due(now: datetime, variant_id: int | None, bag_id: int | None) -> Any:
    """Live reservations past their time (of a variant, of a bag's lines)."""
    query = select(StockReservation).where(
        col(StockReservation.released_at).is_(None),
        col(StockReservation.converted_at).is_(None),
        StockReservation.expires_at <= now,
    )
    if variant_id is not None:
        query = query.where(StockReservation.variant_id == variant_id)
    if bag_id is not None:
        query = query.join(BagLine, col(BagLine.id) == col(StockReservation.bag_line_id)).where(
            BagLine.bag_id == bag_id
        )
    return query


def do_release_expired(
    db: Session, *, variant_id: int | None = None, bag_id: int | None = None, limit: int = 500
) -> int:
    """Return the stock of expired reservations; tell the bags and rooms concerned.

    In a request that only reads (a bag shown with the show's state, sessions/db.py), one
    plain read says whether anything is due; only then is the release written, in a
    session of its own."""
    if is_reads_only(db):
        if db.exec(_due(utcnow(), variant_id, bag_id).limit(1)).first() is None:
            return 0
        with writable(db) as writer:
            return do_release_expired(writer, variant_id=variant_id, bag_id=bag_id, limit=limit)
    due, touched = _release_due(db, variant_id=variant_id, bag_id=bag_id, limit=limit)
    if not due:
        return 0
    db.commit()
    stockflags.stock_rose({reservation.variant_id for reservation in due})
    _publish_released(db, touched)
    return len(due)


def _publish_released(db: Session, touched: list[tuple[BagLine, int]]) -> None:
    seen_bags: set[int] = set()
    seen_stock: set[tuple[int, int | None]] = set()
    for line, variant_id in touched:
        live = db.get(LiveSession, line.live_session_id) if line.live_session_id else None
        bag = db.get(Bag, line.bag_id)
        if bag is not None and bag.id not in seen_bags:
            seen_bags.add(bag.id)  # type: ignore[arg-type]
            brand = db.get(Brand, bag.brand_id)
            assert brand is not None
            _publish_bag(db, bag, brand, live)
        if live is not None and (variant_id, live.id) not in seen_stock:
            seen_stock.add((variant_id, live.id))
            variant = db.get(Variant, variant_id)
            if variant is not None:
                db.refresh(variant)
                publish("stock", live.room, **stock_out(db, variant))


def do_remove_line(
    db: Session, actor: Actor, line_id: int, live: LiveSession | None = None
) -> dict:
    line = get_or_404(db, BagLine, line_id, N_("bag line"))
    bag = get_or_404(db, Bag, line.bag_id, N_("bag"))
    access_bag(actor, bag, live)
    return remove_line(db, line, bag, live)


def _lock_for_change(db: Session, line: BagLine, bag: Bag) -> None:
    """Lock the line's bag as an add to it does (``_open_or_new_bag``), and read the bag
    and the line afresh: an add of the same shopper racing this change then waits for it
    and sees it, and this change sees what an add committed just before (the line's new
    quantity, its new reservation) instead of releasing only what it read earlier. Gone
    meanwhile (removed by another tap): 404, as if asked a moment later."""
    db.exec(
        select(Bag)
        .where(Bag.id == bag.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    assert line.id is not None
    if db.get(BagLine, line.id, populate_existing=True) is None:
        raise NotFound(
            N_("No %(what)s with id %(id)s."),
            params={"what": Phrase(N_("bag line")), "id": line.id},
        )


def remove_line(db: Session, line: BagLine, bag: Bag, live: LiveSession | None = None) -> dict:
    """Remove a line whose bag's gate the caller passed; its stock goes back."""
    _lock_for_change(db, line, bag)
    line_id = line.id
    if bag.status is not BagStatus.OPEN:
        raise Conflict(N_("This bag has already gone to checkout."))
    now = utcnow()
    reservations = db.exec(
        select(StockReservation).where(
            StockReservation.bag_line_id == line.id,
            col(StockReservation.released_at).is_(None),
            col(StockReservation.converted_at).is_(None),
        )
    ).all()
    for reservation in reservations:
        _release(db, reservation, now)
    if db.get(BagLine, line_id) is not None:  # a line without live reservations
        db.delete(line)
    db.commit()
    stockflags.stock_rose({line.variant_id})
    brand = db.get(Brand, bag.brand_id)
    assert brand is not None
    variant = db.get(Variant, line.variant_id)
    room_live = live or (
        db.get(LiveSession, line.live_session_id) if line.live_session_id else None
    )
    if variant is not None and room_live is not None:
        db.refresh(variant)
        publish("stock", room_live.room, **stock_out(db, variant))
    return _publish_bag(db, bag, brand, room_live)


def check_quantity(quantity: object) -> int:
    """A line's new quantity: a whole number from 0 (removes the line) to MAX_QUANTITY."""
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise InvalidInput(N_("The quantity is a whole number."), field="quantity")
    if not 0 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(
            N_("Choose between 0 and %(n)s."), params={"n": MAX_QUANTITY}, field="quantity"
        )
    return quantity


def do_set_line_quantity(
    db: Session, actor: Actor, line_id: int, *, quantity: object, live: LiveSession | None = None
) -> dict:
    """A line of one's bag gets a new quantity (0 removes it); 409 when stock lacks."""
    quantity = check_quantity(quantity)
    line = get_or_404(db, BagLine, line_id, N_("bag line"))
    bag = get_or_404(db, Bag, line.bag_id, N_("bag"))
    access_bag(actor, bag, live)
    return set_line_quantity(db, actor, line, bag, quantity)


def set_line_quantity(db: Session, actor: Actor, line: BagLine, bag: Bag, quantity: int) -> dict:
    """The new quantity of a line whose bag's gate the caller passed (the shopper's own
    bag, the shared bag of a thread): more reserves the difference; fewer gives the
    line's stock back (clearing the sold-out flag) and reserves the new quantity again,
    at today's price. The line's room is told the stock, the shopper the bag."""
    _lock_for_change(db, line, bag)
    if bag.status is not BagStatus.OPEN:
        raise Conflict(N_("This bag has already gone to checkout."))
    variant_id, current = line.variant_id, line.quantity
    room_live = db.get(LiveSession, line.live_session_id) if line.live_session_id else None
    if quantity == current:
        brand = db.get(Brand, bag.brand_id)
        assert brand is not None
        return bag_out(db, bag, brand)
    if quantity > current:
        body = do_add_to_bag(
            db,
            actor,
            variant_id=variant_id,
            quantity=quantity - current,
            live=room_live if room_live and room_live.status is SessionStatus.LIVE else None,
            for_shopper=bag.shopper_id,
        ).bag
    elif quantity == 0:
        body = remove_line(db, line, bag)
    else:
        body = _give_back_part(db, line, bag, current - quantity, room_live)
    variant = db.get(Variant, variant_id)
    if variant is not None and room_live is not None:
        db.refresh(variant)
        publish("stock", room_live.room, **stock_out(db, variant))
    return body


def _give_back_part(
    db: Session, line: BagLine, bag: Bag, units: int, room_live: LiveSession | None
) -> dict:
    """Fewer of a line: ``units`` go back to stock in one transaction, newest reservation
    first; the line keeps its price, its show and its place (no new line, no second
    add-to-bag in the analytics)."""
    now = utcnow()
    reservations = db.exec(
        select(StockReservation)
        .where(
            StockReservation.bag_line_id == line.id,
            col(StockReservation.released_at).is_(None),
            col(StockReservation.converted_at).is_(None),
        )
        .order_by(col(StockReservation.id).desc())
    ).all()
    left = units
    for reservation in reservations:
        if left <= 0:
            break
        if reservation.quantity <= left:
            _release(db, reservation, now)  # back to stock (by us, or a sweeper just now)
            left -= reservation.quantity
            continue
        # Part of this reservation: conditional, so a sweeper racing us gives back nothing twice.
        taken = db.exec(
            update(StockReservation)
            .where(
                col(StockReservation.id) == reservation.id,
                col(StockReservation.released_at).is_(None),
                col(StockReservation.converted_at).is_(None),
            )
            .values(quantity=col(StockReservation.quantity) - left)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:
            db.exec(
                update(Variant)
                .where(col(Variant.id) == reservation.variant_id)
                .values(stock=col(Variant.stock) + left)
                .execution_options(synchronize_session=False)
            )
            line.quantity -= left
            db.add(line)
            left = 0
    if left > 0:
        db.rollback()
        raise Conflict(N_("This line changed meanwhile; reload the bag."))
    db.commit()
    stockflags.stock_rose({line.variant_id})
    brand = db.get(Brand, bag.brand_id)
    assert brand is not None
    return _publish_bag(db, bag, brand, room_live)


def shopper_bag(db: Session, actor: Actor, brand: Brand, live: LiveSession | None = None) -> dict:
    """The actor's bag at a brand (or, for the host of a consultation, the shopper's)."""
    assert brand.id is not None
    shopper_id = _bag_shopper(actor, live) if live is not None else actor.shopper_id
    if shopper_id is None:
        return bag_out(db, None, brand)
    bag = open_bag(db, brand.id, shopper_id)
    if bag is not None:
        access_bag(actor, bag, live)
        do_release_expired(db, bag_id=bag.id)
        db.refresh(bag)
    return bag_out(db, bag, brand)


# --- checkout hand-off ------------------------------------------------------------


@dataclass
class Handoff:
    bag_id: int
    redirect_url: str | None
    webhook_url: str | None
    payload: bytes
    headers: dict[str, str]
    total_minor: int
    currency: str


class _Strict(dict[str, str]):
    def __missing__(self, key: str) -> str:
        raise KeyError(key)


URL_PLACEHOLDERS = CART_URL_PLACEHOLDERS


def sign_payload(secret: str, payload: bytes, timestamp: int) -> str:
    """``t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">``: the shop checks both."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def _cart_url(template: str, values: dict[str, str], policy: UrlPolicy) -> str:
    """The filled-in cart URL; checked again here, since it becomes a redirect."""
    misconfigured = CheckoutNotSetUp(
        "The brand's checkout link is misconfigured; your bag is kept."
    )
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        if fields - set(URL_PLACEHOLDERS):
            raise misconfigured
        url = template.format_map(_Strict(values))
    except (ValueError, KeyError, IndexError):
        raise misconfigured from None
    if not check_redirect_url(url, policy):
        raise misconfigured
    return url


def prepare_checkout(
    db: Session, actor: Actor, brand: Brand, url_policy: UrlPolicy | None = None
) -> Handoff:
    """Build the hand-off for the actor's bag: cart URL and/or signed webhook body.

    A webhook without a signing secret (a brand saved before secrets were
    generated) is skipped rather than failing every checkout: the cart URL, if
    any, still takes the shopper to the shop.
    """
    policy = url_policy or UrlPolicy()
    assert brand.id is not None
    if actor.shopper_id is None:  # a guest who has not acted yet has no bag
        raise Conflict(N_("Your bag is empty."), code="empty_bag")
    bag = open_bag(db, brand.id, actor.shopper_id)
    if bag is None:
        raise Conflict(N_("Your bag is empty."), code="empty_bag")
    access_bag(actor, bag)
    do_release_expired(db, bag_id=bag.id)
    body = bag_out(db, bag, brand)
    if not body["lines"]:
        raise Conflict(N_("Your bag is empty: reservations may have expired."), code="empty_bag")
    webhook_url = brand.checkout_webhook_url if brand.webhook_secret else None
    if brand.checkout_webhook_url and webhook_url is None:
        log.warning("brand %s: checkout webhook has no signing secret; not called", brand.slug)
    if not brand.checkout_url_template and not webhook_url:
        raise CheckoutNotSetUp(N_("This brand has not set up checkout yet."))
    skus = []
    for line in body["lines"]:
        variant = db.get(Variant, line["variant_id"])
        assert variant is not None
        line["sku"] = variant.sku
        skus.append(f"{variant.sku}:{line['quantity']}")
    values = {
        "skus": quote(",".join(skus), safe=",:"),
        "bag_id": str(bag.id),
        "total_minor": str(body["total_minor"]),
        "currency": body["currency"],
        "brand": brand.slug,
    }
    redirect = (
        _cart_url(brand.checkout_url_template, values, policy)
        if brand.checkout_url_template
        else None
    )
    payload = json.dumps(
        {"event": "bag.checkout", "brand": brand.slug, "bag": body, "shopper_id": actor.shopper_id},
        separators=(",", ":"),
    ).encode()
    headers = {"Content-Type": "application/json"}
    if webhook_url and brand.webhook_secret:
        headers["X-Vitrine-Signature"] = sign_payload(
            brand.webhook_secret, payload, int(time.time())
        )
    assert bag.id is not None
    return Handoff(
        bag.id,
        redirect,
        webhook_url,
        payload,
        headers,
        body["total_minor"],
        body["currency"],
    )


def do_complete_checkout(
    db: Session, handoff: Handoff, brand: Brand, *, status_code: int | None = None
) -> CheckoutHandoff:
    """Record the hand-off, close the bag, and keep its stock (the shop sells it now)."""
    bag = get_or_404(db, Bag, handoff.bag_id, N_("bag"))
    if bag.status is not BagStatus.OPEN:
        raise Conflict(N_("This bag has already gone to checkout."))
    assert brand.id is not None
    now = utcnow()
    line_ids = select(BagLine.id).where(BagLine.bag_id == bag.id)
    db.exec(
        update(StockReservation)
        .where(
            col(StockReservation.bag_line_id).in_(line_ids),
            col(StockReservation.released_at).is_(None),
        )
        .values(converted_at=now)
        .execution_options(synchronize_session=False)
    )
    bag.status = BagStatus.CHECKED_OUT
    bag.updated_at = now
    db.add(bag)
    method = "webhook" if handoff.redirect_url is None else "url"
    record = CheckoutHandoff(
        brand_id=brand.id,
        bag_id=handoff.bag_id,
        method=method,
        total_minor=handoff.total_minor,
        currency=handoff.currency,
        target=(handoff.redirect_url or handoff.webhook_url or "")[:1000],
        status_code=status_code,
    )
    db.add(record)
    source_id = bag_session_id(db, bag)
    source = db.get(LiveSession, source_id) if source_id is not None else None
    db.add(
        _analytics(
            brand.id, "checkout_handoff", source, bag.shopper_id, handoff.total_minor, method
        )
    )
    db.commit()
    publish("bag", None, audience=f"shopper:{bag.shopper_id}", bag=bag_out(db, None, brand))
    return record
