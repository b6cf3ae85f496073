"""The associate's tools in a conversation, besides saved replies (``replies``): the
product card a thread shows, whom a thread may be handed to, and the shopper's history
at the brand. All reads: sending a card, transferring are ``threads``' actions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from sessions import bags, live
from sessions.access import (
    Actor,
    access_thread_answer,
    access_thread_staff,
    can_see_product,
    can_see_thread_bag,
)
from sessions.analytics import events as analytics_events
from sessions.clock import utcnow
from sessions.errors import N_, NotFound
from sessions.models import (
    AnalyticsEvent,
    Appointment,
    AssociateProfile,
    AssociateStore,
    Brand,
    LiveSession,
    Order,
    Product,
    SessionKind,
    Shopper,
    Show,
    Store,
    Thread,
    ThreadMessage,
    ThreadSide,
)
from sessions.service import routing
from sessions.service.replies import shopper_name, thread_product

LOW_STOCK = 3  # "only 3 left" below this, on the card
RECENT = 10  # how many of each kind the history lists
BAG_LINE_FIELDS = ("product_id", "name", "size", "colour", "quantity", "unit_price_minor")


# --- product cards ---------------------------------------------------------------------------


def stock_state(stock: int) -> str:
    return "out" if stock <= 0 else "low" if stock <= LOW_STOCK else "in"


def product_card(db: Session, actor: Actor, product_id: int) -> dict[str, Any]:
    """What a product card in a thread shows: photo, name, price, stock, its page. The
    same card as a show's (``sessions.live.product_card``); an inactive product is
    shown only to its brand's staff."""
    product = db.get(Product, product_id)
    if product is None or not can_see_product(actor, product):
        raise NotFound(N_("No product with id %(id)s."), params={"id": product_id})
    brand = db.get(Brand, product.brand_id)
    assert brand is not None
    card = live.product_card(db, product, brand)
    return card | {"stock_state": stock_state(card["stock"])}


# --- transfer -----------------------------------------------------------------------------------


def _store_of(db: Session, associate_id: int) -> str | None:
    return db.exec(
        select(Store.name)
        .join(AssociateStore, col(AssociateStore.store_id) == col(Store.id))
        .where(AssociateStore.associate_id == associate_id)
        .order_by(col(Store.id))
    ).first()


def colleague_card(db: Session, colleague: routing.Colleague) -> dict[str, Any]:
    """A colleague one may hand a conversation to (a thread or a consultation), as shown."""
    profile = colleague.profile
    assert profile.id is not None
    return {
        "id": profile.id,
        "name": profile.display_name,
        "store": _store_of(db, profile.id),
        "languages": [c.strip() for c in profile.languages.split(",") if c.strip()],
        "load": colleague.load,
        "cap": colleague.cap,
        "has_room": colleague.has_room,
    }


def transfer_options(
    db: Session, actor: Actor, thread: Thread, *, now: datetime | None = None
) -> dict[str, Any]:
    """Whom the thread may go to: the colleagues present now (with their load and cap;
    one with no free place is listed, marked full) and the brand's stores."""
    now = now or utcnow()
    access_thread_answer(actor, thread)
    present = routing.colleagues(db, thread.brand_id, now, exclude=thread.associate_id)
    colleagues = [colleague_card(db, c) for c in present]
    stores = db.exec(
        select(Store).where(Store.brand_id == thread.brand_id).order_by(col(Store.name))
    ).all()
    return {
        "colleagues": colleagues,
        "stores": [
            {"id": s.id, "name": s.name, "city": s.city, "current": s.id == thread.store_id}
            for s in stores
        ],
    }


# --- the shopper's history --------------------------------------------------------------------


def _name(db: Session, associate_id: int | None) -> str | None:
    profile = db.get(AssociateProfile, associate_id) if associate_id else None
    return profile.display_name if profile else None


def _thread_summary(db: Session, thread: Thread) -> dict[str, Any]:
    counts = dict(
        db.exec(
            select(ThreadMessage.side, func.count())
            .where(ThreadMessage.thread_id == thread.id)
            .group_by(col(ThreadMessage.side))
        ).all()
    )
    first = db.exec(
        select(func.min(ThreadMessage.created_at)).where(ThreadMessage.thread_id == thread.id)
    ).one()
    answered_by = db.exec(
        select(ThreadMessage.author_name)
        .where(ThreadMessage.thread_id == thread.id, ThreadMessage.side == ThreadSide.STAFF)
        .distinct()
    ).all()
    return {
        "since": (first or thread.created_at).isoformat(),
        "questions": int(counts.get(ThreadSide.SHOPPER, 0)),
        "answers": int(counts.get(ThreadSide.STAFF, 0)),
        "answered_by": sorted(answered_by),
    }


def _recent_questions(db: Session, thread: Thread) -> list[dict[str, Any]]:
    rows = db.exec(
        select(ThreadMessage, Product)
        .join(Product, col(Product.id) == col(ThreadMessage.product_id), isouter=True)
        .where(ThreadMessage.thread_id == thread.id, ThreadMessage.side == ThreadSide.SHOPPER)
        .order_by(col(ThreadMessage.id).desc())
        .limit(RECENT)
    ).all()
    return [
        {
            "id": m.id,
            "at": m.created_at.isoformat(),
            "body": m.body[:200],
            "product_id": p.id if p else None,
            "product": p.name if p else None,
        }
        for m, p in rows
    ]


def _appointments(db: Session, thread: Thread) -> list[dict[str, Any]]:
    rows = db.exec(
        select(Appointment, Store)
        .join(Store, col(Store.id) == col(Appointment.store_id))
        .where(
            Appointment.brand_id == thread.brand_id,
            Appointment.shopper_id == thread.shopper_id,
        )
        .order_by(col(Appointment.starts_at).desc())
        .limit(RECENT)
    ).all()
    return [
        {
            "id": a.id,
            "starts_at": a.starts_at.isoformat(),
            "status": a.status.value,
            "associate": _name(db, a.associate_id),
            "store": s.name,
            "notes": a.notes[:500],
        }
        for a, s in rows
    ]


def _video_calls(db: Session, thread: Thread) -> list[dict[str, Any]]:
    """Consultations held (booked or talk-now), the latest first."""
    rows = db.exec(
        select(LiveSession)
        .where(
            LiveSession.brand_id == thread.brand_id,
            LiveSession.shopper_id == thread.shopper_id,
            LiveSession.kind == SessionKind.CONSULTATION,
            col(LiveSession.started_at).is_not(None),
        )
        .order_by(col(LiveSession.started_at).desc())
        .limit(RECENT)
    ).all()
    return [
        {
            "id": c.id,
            "started_at": c.started_at.isoformat() if c.started_at else None,
            "ended_at": c.ended_at.isoformat() if c.ended_at else None,
            "associate": _name(db, c.associate_id),
            "booked": c.appointment_id is not None,
        }
        for c in rows
    ]


def _orders(db: Session, thread: Thread) -> list[dict[str, Any]]:
    rows = db.exec(
        select(Order)
        .where(Order.brand_id == thread.brand_id, Order.shopper_id == thread.shopper_id)
        .order_by(col(Order.created_at).desc())
        .limit(RECENT)
    ).all()
    return [
        {
            "id": o.id,
            "at": o.created_at.isoformat(),
            "total_minor": o.total_minor,
            "refunded_minor": o.refunded_minor,
            "currency": o.currency,
        }
        for o in rows
    ]


def _bag(db: Session, thread: Thread, brand: Brand) -> dict[str, Any]:
    bag = bags.bag_out(db, bags.open_bag(db, thread.brand_id, thread.shopper_id), brand)
    return {
        "count": bag["count"],
        "total_minor": bag["total_minor"],
        "currency": bag["currency"],
        "lines": [{k: line[k] for k in BAG_LINE_FIELDS} for line in bag["lines"]],
    }


def _shows_watched(db: Session, thread: Thread) -> list[dict[str, Any]]:
    rows = db.exec(
        select(Show.id, Show.title, func.max(AnalyticsEvent.created_at))
        .join(LiveSession, col(LiveSession.id) == col(AnalyticsEvent.live_session_id))
        .join(Show, col(Show.id) == col(LiveSession.show_id))
        .where(
            AnalyticsEvent.brand_id == thread.brand_id,
            AnalyticsEvent.shopper_id == thread.shopper_id,
            AnalyticsEvent.kind == analytics_events.JOIN,
        )
        .group_by(col(Show.id), col(Show.title))
        .order_by(func.max(AnalyticsEvent.created_at).desc())
        .limit(RECENT)
    ).all()
    return [
        {"id": show_id, "title": title, "at": at.isoformat() if at else None}
        for show_id, title, at in rows
    ]


def shopper_history(db: Session, actor: Actor, thread: Thread) -> dict[str, Any]:
    """Everything the shopper did at this brand, read-only, for the brand's staff: the
    thread so far and their latest questions, appointments, video calls, the open bag and
    orders (None to a colleague who only reads the thread: ``can_see_thread_bag``), shows
    watched. Nothing from another brand."""
    access_thread_staff(actor, thread)
    brand = db.get(Brand, thread.brand_id)
    assert brand is not None
    shopper = db.get(Shopper, thread.shopper_id)
    product = thread_product(db, thread)
    sees_bag = can_see_thread_bag(actor, thread)
    return {
        "thread_id": thread.id,
        "shopper": {
            "name": shopper_name(db, thread),
            "since": (shopper.created_at if shopper else thread.created_at).isoformat(),
        },
        "product": {"id": product.id, "name": product.name} if product else None,
        "thread": _thread_summary(db, thread),
        "recent_questions": _recent_questions(db, thread),
        "appointments": _appointments(db, thread),
        "video_calls": _video_calls(db, thread),
        "bag": _bag(db, thread, brand) if sees_bag else None,
        "orders": _orders(db, thread) if sees_bag else None,
        "shows_watched": _shows_watched(db, thread),
    }
