"""Read-side shapes the pages hand to their JS: product cards, bags, show listings.

They follow the shared Socket.IO contract (ProductCard, Bag) so a page's first
render and the live updates that follow look the same to the front end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import url_for
from sqlmodel import Session, col, select

from sessions import bags
from sessions import live as live_actions
from sessions.clock import utcnow
from sessions.models import (
    Bag,
    Brand,
    LiveSession,
    PinnedProduct,
    Product,
    Show,
    ShowProduct,
    ShowStatus,
)


def upload_url(path: str | None) -> str | None:
    return url_for("media.upload", filename=path) if path else None


def product_card(db: Session, product: Product, brand: Brand) -> dict[str, Any]:
    return live_actions.product_card(db, product, brand)


def product_cards(db: Session, products: list[Product], brand: Brand) -> list[dict[str, Any]]:
    return live_actions.product_cards(db, products, brand)


def room_cards(live: LiveSession, show: Show, brand: Brand) -> list[dict[str, Any]]:
    """The show page's and the embed's cards: the room's pins, else the show's own pieces,
    both alike for every viewer and kept per node with the room's state until the room
    is told something (web/sockets/snapshots.py); when a show starts, nothing is pinned."""
    from web.db import db
    from web.sockets.snapshots import shared_part, shared_room_state

    pinned: list[dict[str, Any]] = shared_room_state(live)["pinned"]
    return pinned or shared_part(
        live, "featured", lambda: product_cards(db(), pinned_or_featured(db(), live, show), brand)
    )


def pinned_or_featured(db: Session, live: LiveSession, show: Show) -> list[Product]:
    """What the shopper sees first: the host's pins, else the show's product list."""
    pinned = db.exec(
        select(Product)
        .join(PinnedProduct, col(PinnedProduct.product_id) == col(Product.id))
        .where(PinnedProduct.live_session_id == live.id, col(PinnedProduct.unpinned_at).is_(None))
        .order_by(col(PinnedProduct.pinned_at))
    ).all()
    if pinned:
        return list(pinned)
    return show_products(db, show)


def show_products(db: Session, show: Show) -> list[Product]:
    return list(
        db.exec(
            select(Product)
            .join(ShowProduct, col(ShowProduct.product_id) == col(Product.id))
            .where(ShowProduct.show_id == show.id, col(Product.is_active))
            .order_by(col(ShowProduct.position))
        ).all()
    )


def open_bag(db: Session, brand_id: int, shopper_id: int | None) -> Bag | None:
    return None if shopper_id is None else bags.open_bag(db, brand_id, shopper_id)


def bag_view(db: Session, bag: Bag | None, brand: Brand) -> dict[str, Any]:
    """The contract's Bag shape; an empty bag when the shopper has none yet."""
    return bags.bag_out(db, bag, brand)


@dataclass
class BrandShows:
    live: list[Show]
    upcoming: list[Show]
    replays: list[Show]


def brand_shows(db: Session, brand_id: int) -> BrandShows:
    # Private shows are never listed (their invitees have the link).
    shows = db.exec(
        select(Show)
        .where(Show.brand_id == brand_id, col(Show.access_code_hash).is_(None))
        .order_by(col(Show.starts_at))
    ).all()
    now = utcnow()
    live = [s for s in shows if s.status is ShowStatus.LIVE]
    # A show whose start time passed but whose host has not gone live yet is still "upcoming".
    upcoming = [
        s
        for s in shows
        if s.status is ShowStatus.SCHEDULED
        and s.starts_at + timedelta(minutes=s.duration_minutes) > now
    ]
    # Only the replays the brand's admin published (sessions/shows/lifecycle.py).
    replays = [
        s for s in reversed(shows) if s.status is ShowStatus.REPLAY_PUBLISHED and s.replay_path
    ]
    return BrandShows(live=live, upcoming=upcoming, replays=replays[:6])


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")
