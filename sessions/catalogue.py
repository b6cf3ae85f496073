"""Actions on the catalogue and stores. Only these change those rows.

Shows have their own package: ``sessions/shows/``."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, col, select

from sessions import stockflags
from sessions.access import Actor
from sessions.clock import utcnow
from sessions.errors import N_, Conflict, InvalidInput, NotFound
from sessions.events import publish
from sessions.i18n import Phrase
from sessions.models import (
    LiveSession,
    PinnedProduct,
    Product,
    SessionStatus,
    ShowProduct,
    Store,
    Variant,
)
from sessions.money import MAX_STOCK, check_price_minor
from sessions.privacy import audit

T = TypeVar("T")
_SLUG_STRIP = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    return _SLUG_STRIP.sub("-", text.lower()).strip("-")[:100] or "item"


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            N_("'%(name)s' is not a known time zone."), params={"name": name}, field="timezone"
        ) from None
    return name


@dataclass
class VariantSpec:
    sku: str
    size: str = ""
    colour: str = ""
    stock: int = 0
    price_minor: int | None = None
    colour_hex: str | None = None


@dataclass
class ProductSpec:
    name: str
    price_minor: int
    currency: str = "EUR"
    description: str = ""
    category: str = ""
    slug: str | None = None
    image_path: str | None = None
    variants: list[VariantSpec] = field(default_factory=list)


def get_or_404(db: Session, model: type[T], ident: int, what: str) -> T:
    row = db.get(model, ident)
    if row is None:
        # ``what`` is an N_() phrase of the caller's ("bag line"): translated where shown.
        raise NotFound(
            N_("No %(what)s with id %(id)s."), params={"what": Phrase(what), "id": ident}
        )
    return row


def do_create_store(
    db: Session, *, brand_id: int, name: str, timezone: str, city: str = "", address: str = ""
) -> Store:
    store = Store(
        brand_id=brand_id,
        name=name.strip(),
        timezone=check_timezone(timezone),
        city=city,
        address=address,
    )
    db.add(store)
    db.commit()
    return store


def _check_skus_free(db: Session, brand_id: int, skus: list[str], exclude: int | None) -> None:
    if len(set(skus)) != len(skus):
        raise InvalidInput("Each variant needs its own SKU.", field="variants")
    query = select(Variant).where(Variant.brand_id == brand_id, col(Variant.sku).in_(skus))
    for variant in db.exec(query).all():
        if variant.product_id != exclude:
            raise Conflict(
                N_("SKU '%(sku)s' is already used."), params={"sku": variant.sku}, field="variants"
            )


def _check_amounts(price_minor: int | None, variants: list[VariantSpec]) -> None:
    """Prices and stock within what the columns hold, whichever entry point sent them."""
    check_price_minor(price_minor)
    for v in variants:
        check_price_minor(v.price_minor, "variants")
        _check_stock(v.stock)


def _check_stock(stock: int) -> None:
    if not 0 <= stock <= MAX_STOCK:
        raise InvalidInput(
            N_("Stock goes from 0 to %(n)s."), params={"n": MAX_STOCK}, field="stock"
        )


def add_product(db: Session, *, brand_id: int, spec: ProductSpec) -> Product:
    """Stage a product and its variants in the session without committing (for imports)."""
    _check_amounts(spec.price_minor, spec.variants)
    slug = slugify(spec.slug or spec.name)
    taken = db.exec(
        select(Product).where(Product.brand_id == brand_id, Product.slug == slug)
    ).first()
    if taken is not None:
        slug = f"{slug}-{secrets.token_hex(2)}"
    _check_skus_free(db, brand_id, [v.sku for v in spec.variants], exclude=None)
    product = Product(
        brand_id=brand_id,
        slug=slug,
        name=spec.name.strip(),
        description=spec.description,
        category=spec.category,
        price_minor=spec.price_minor,
        currency=spec.currency.upper(),
        image_path=spec.image_path,
    )
    db.add(product)
    db.flush()
    assert product.id is not None
    for v in spec.variants:
        db.add(
            Variant(
                product_id=product.id,
                brand_id=brand_id,
                sku=v.sku.strip(),
                size=v.size,
                colour=v.colour,
                colour_hex=v.colour_hex,
                stock=v.stock,
                price_minor=v.price_minor,
            )
        )
    db.flush()
    return product


def do_create_product(db: Session, *, brand_id: int, spec: ProductSpec) -> Product:
    product = add_product(db, brand_id=brand_id, spec=spec)
    db.commit()
    return product


def do_update_product(
    db: Session, product: Product, *, by: Actor | None = None, **changes: object
) -> Product:
    price = changes.get("price_minor")
    check_price_minor(price if isinstance(price, int) else None)
    before = product.model_dump()
    for name, value in changes.items():
        if value is not None:
            setattr(product, name, value)
    product.updated_at = utcnow()
    db.add(product)
    diff = audit.changes(before, {k: getattr(product, k) for k in changes if k != "updated_at"})
    if diff:  # the price on its own line: "who changed prices" is asked most
        action = "price.set" if set(diff) == {"price_minor"} else "product.update"
        audit.record(db, by, action, f"product:{product.id}", diff, brand_id=product.brand_id)
    db.commit()
    return product


def do_add_variant(db: Session, product: Product, spec: VariantSpec) -> Variant:
    _check_amounts(None, [spec])
    _check_skus_free(db, product.brand_id, [spec.sku], exclude=None)
    assert product.id is not None
    variant = Variant(
        product_id=product.id,
        brand_id=product.brand_id,
        sku=spec.sku.strip(),
        size=spec.size,
        colour=spec.colour,
        colour_hex=spec.colour_hex,
        stock=spec.stock,
        price_minor=spec.price_minor,
    )
    db.add(variant)
    db.commit()
    return variant


def do_set_variant_price(
    db: Session, variant: Variant, price_minor: int | None, *, by: Actor | None = None
) -> Variant:
    """A variant's own price (None: the product's)."""
    check_price_minor(price_minor)
    diff = audit.changes({"price_minor": variant.price_minor}, {"price_minor": price_minor})
    variant.price_minor = price_minor
    db.add(variant)
    if diff:
        audit.record(db, by, "price.set", f"variant:{variant.id}", diff, brand_id=variant.brand_id)
    db.commit()
    return variant


def do_set_stock(db: Session, variant: Variant, stock: int, *, by: Actor | None = None) -> Variant:
    if stock < 0:
        raise InvalidInput("Stock cannot be negative.", field="stock")
    _check_stock(stock)
    diff = audit.changes({"stock": variant.stock}, {"stock": stock})
    variant.stock = stock
    db.add(variant)
    if diff:
        audit.record(db, by, "stock.set", f"variant:{variant.id}", diff, brand_id=variant.brand_id)
    db.commit()
    assert variant.id is not None
    stockflags.stock_rose([variant.id])  # a restock ends a sold-out flag at once
    publish(
        "stock",
        None,
        f"brand:{variant.brand_id}",
        product_id=variant.product_id,
        variant_id=variant.id,
        stock=stock,
    )
    _tell_live_rooms(db, variant)
    return variant


def live_rooms_showing(db: Session, brand_id: int, product_id: int) -> list[str]:
    """The rooms of the brand's live sessions that show this product to their viewers:
    pinned now, or among a live show's products."""
    live = select(LiveSession).where(
        LiveSession.brand_id == brand_id, LiveSession.status == SessionStatus.LIVE
    )
    pinned = db.exec(
        live.join(PinnedProduct, col(PinnedProduct.live_session_id) == col(LiveSession.id)).where(
            PinnedProduct.product_id == product_id, col(PinnedProduct.unpinned_at).is_(None)
        )
    ).all()
    listed = db.exec(
        live.join(ShowProduct, col(ShowProduct.show_id) == col(LiveSession.show_id)).where(
            ShowProduct.product_id == product_id
        )
    ).all()
    return sorted({s.room for s in [*pinned, *listed]})


def _tell_live_rooms(db: Session, variant: Variant) -> None:
    """A stock change made in the admin reaches the viewers of a live show at once."""
    rooms = live_rooms_showing(db, variant.brand_id, variant.product_id)
    if rooms:
        total = sum(v.stock for v in variants_of(db, variant.product_id))
        assert variant.id is not None
        for room in rooms:
            publish(
                "stock",
                room,
                product_id=variant.product_id,
                variant_id=variant.id,
                stock=variant.stock,
                product_stock=total,
            )
    db.commit()  # end the read: on SQLite it would hold the write lock


def variants_of(db: Session, product_id: int) -> list[Variant]:
    return list(
        db.exec(
            select(Variant).where(Variant.product_id == product_id).order_by(col(Variant.id))
        ).all()
    )


def new_room_name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_urlsafe(9)}"
