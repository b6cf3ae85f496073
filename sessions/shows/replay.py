"""The shoppable replay: what the recording of a show is played with.

The replay page plays the recording and, in step with it, the show's chat, a product
timeline (each product at the second it was pinned), its polls (each at the second it
was opened, with its final results) and its questions (each at the second it was asked,
pinned over the video from the second a host answered it). All come from what the live
show stored (``chat_messages.created_at``, ``pinned_products.pinned_at``,
``polls.created_at``, ``show_questions.created_at`` and ``answered_at``), put on the
recording's clock: second 0 is the moment the relay opened the recording file (its name
carries it, ``<room>-YYYYmmddTHHMMSSZ.mp4``), or, for a recording named otherwise, the
moment the show went live.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from sessions.clock import as_utc
from sessions.live import history, product_card
from sessions.models import Brand, LiveSession, PinnedProduct, Poll, Product, Show, ShowQuestion
from sessions.shows.polls import poll_out
from sessions.shows.questions import question_out

_STAMP = re.compile(r"-(\d{8}T\d{6}Z)\.mp4(?:$|[?#])")
LIVE_PRICE = "live"
CURRENT_PRICE = "current"
REPLAY_PRICES = (LIVE_PRICE, CURRENT_PRICE)


def recording_zero(show: Show, live: LiveSession) -> datetime | None:
    """The wall-clock time of the recording's second 0."""
    match = _STAMP.search(show.replay_path or "")
    if match:
        return datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return as_utc(live.started_at) if live.started_at is not None else None


def _seconds(moment: datetime, zero: datetime | None) -> float:
    if zero is None:
        return 0.0
    return max(0.0, round((as_utc(moment) - zero).total_seconds(), 1))


def replay_price(db: Session, live: LiveSession, product: Product, brand: Brand) -> int | None:
    """The price a replay sells ``product`` at, when the brand sells replays at the live
    price and the product was pinned in the show; None: today's price."""
    if brand.replay_price != LIVE_PRICE:
        return None
    pin = db.exec(
        select(PinnedProduct)
        .where(
            PinnedProduct.live_session_id == live.id,
            PinnedProduct.product_id == product.id,
            col(PinnedProduct.price_minor).is_not(None),
        )
        .order_by(col(PinnedProduct.pinned_at))
    ).first()
    return pin.price_minor if pin is not None else None


def replay_script(db: Session, show: Show, live: LiveSession) -> dict[str, Any]:
    """``{"products": [{"at", "card"}...], "messages": [{"at", ...Message}...],
    "polls": [...], "questions": [...]}``, each list in the order of the recording. A
    product pinned twice appears at both moments; its card's price is what a replay viewer
    pays (the live one or today's, per the brand). Polls and questions are as the room
    sends them, with their ``at_seconds`` (and ``answered_at_seconds``) on the recording's
    clock, the one the chat and products use."""
    brand = db.get(Brand, show.brand_id)
    assert brand is not None
    zero = recording_zero(show, live)
    pins = db.exec(
        select(PinnedProduct)
        .where(PinnedProduct.live_session_id == live.id)
        .order_by(col(PinnedProduct.pinned_at), col(PinnedProduct.id))
    ).all()
    products: list[dict[str, Any]] = []
    for pin in pins:
        product = db.get(Product, pin.product_id)
        if product is None or not product.is_active:
            continue
        card = product_card(db, product, brand)
        if brand.replay_price == LIVE_PRICE and pin.price_minor is not None:
            live_price = replay_price(db, live, product, brand)
            if live_price is not None:
                for variant in card["variants"]:  # a size with a price of its own keeps it
                    if variant["price_minor"] == card["price_minor"]:
                        variant["price_minor"] = live_price
                card["price_minor"] = live_price
        products.append({"at": _seconds(pin.pinned_at, zero), "card": card})
    messages = [
        {**message, "at": _seconds(datetime.fromisoformat(message["created_at"]), zero)}
        for message in history(db, live, last_id=0)
    ]
    return {
        "products": products,
        "messages": messages,
        "polls": _polls(db, live, zero),
        "questions": _questions(db, live, zero),
    }


def _polls(db: Session, live: LiveSession, zero: datetime | None) -> list[dict[str, Any]]:
    rows = db.exec(
        select(Poll).where(Poll.live_session_id == live.id).order_by(col(Poll.created_at))
    ).all()
    return [
        {**poll_out(db, poll, live), "at_seconds": _seconds(poll.created_at, zero)} for poll in rows
    ]


def _questions(db: Session, live: LiveSession, zero: datetime | None) -> list[dict[str, Any]]:
    """The questions not hidden, in the order they were asked."""
    rows = db.exec(
        select(ShowQuestion)
        .where(ShowQuestion.live_session_id == live.id, col(ShowQuestion.hidden_at).is_(None))
        .order_by(col(ShowQuestion.created_at), col(ShowQuestion.id))
    ).all()
    return [
        {
            **question_out(question, live),
            "at_seconds": _seconds(question.created_at, zero),
            "answered_at_seconds": (
                _seconds(question.answered_at, zero) if question.answered_at else None
            ),
        }
        for question in rows
    ]
