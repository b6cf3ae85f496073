"""Orders confirmed by the brand's shop, and what they are credited to.

The shop tells Vitrine about an order through a webhook signed like the checkout
hand-off (``X-Vitrine-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">``
with the brand's webhook secret, see ``sessions.bags.sign_payload``), so revenue
is the shop's figure, not the bag's.

- ``order.created`` carries the bag id or the hand-off id, lines, total and
  currency; the shop's order id makes it idempotent (a second delivery changes
  nothing and says so).
- ``order.refunded`` carries the total refunded so far; a repeat, or an older
  delivery arriving late, never refunds twice.

Attribution: an order is **attributed** to the session its bag's lines were added
in (the hand-off carries it); failing that, **influenced** by the last session the
shopper watched or talked in within the brand's window (``attribution_window_days``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from sessions.analytics.events import JOIN, LIVE, REPLAY
from sessions.analytics.live import publish_live_figures
from sessions.bags import bag_session_id
from sessions.clock import utcnow
from sessions.errors import N_, Conflict, DomainError, InvalidInput, NotFound
from sessions.models import (
    AnalyticsEvent,
    Bag,
    BagLine,
    Brand,
    ChatMessage,
    CheckoutHandoff,
    LiveSession,
    Order,
)

SIGNATURE_HEADER = "X-Vitrine-Signature"
# A signature older (or newer) than this is refused: a captured request cannot be replayed later.
SIGNATURE_TOLERANCE_SECONDS = 300
ATTRIBUTED = "attributed"
INFLUENCED = "influenced"
NONE = "none"


class BadSignature(DomainError):
    status = 401
    code = "bad_signature"


class WebhookNotConfigured(DomainError):
    status = 403
    code = "webhook_not_configured"


def check_signature(
    brand: Brand, header: str | None, body: bytes, now: float | None = None
) -> None:
    """Raise unless `header` signs `body` with the brand's secret, within the tolerance."""
    if not brand.webhook_secret:
        raise WebhookNotConfigured("This brand has no webhook secret; set one in the settings.")
    parts = dict(p.split("=", 1) for p in (header or "").split(",") if "=" in p)
    stamp, given = parts.get("t", ""), parts.get("v1", "")
    if not stamp.isdigit() or not given:
        raise BadSignature(
            N_("Sign the body: %(header)s: t=<unix time>,v1=<hex HMAC>."),
            params={"header": SIGNATURE_HEADER},
        )
    if abs((now if now is not None else time.time()) - int(stamp)) > SIGNATURE_TOLERANCE_SECONDS:
        raise BadSignature("The signature's time is more than five minutes off; sign it anew.")
    mac = hmac.new(brand.webhook_secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    if not hmac.compare_digest(mac.hexdigest(), given):
        raise BadSignature("The signature does not match this body and the brand's secret.")


# --- order.created ------------------------------------------------------------------


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: int
    unit_price_minor: int


@dataclass(frozen=True)
class NewOrder:
    external_id: str
    total_minor: int
    currency: str
    lines: list[OrderLine]
    bag_id: int | None = None
    handoff_id: int | None = None


@dataclass
class Received:
    order: Order
    duplicate: bool


def _bag_of(db: Session, brand: Brand, new: NewOrder) -> tuple[Bag, CheckoutHandoff | None]:
    handoff = None
    bag_id = new.bag_id
    if new.handoff_id is not None:
        handoff = db.get(CheckoutHandoff, new.handoff_id)
        if handoff is None or handoff.brand_id != brand.id:
            raise NotFound(
                N_("No checkout hand-off %(id)s at this brand."), params={"id": new.handoff_id}
            )
        if bag_id is not None and bag_id != handoff.bag_id:
            raise InvalidInput("bag_id and handoff_id name different bags.", field="bag_id")
        bag_id = handoff.bag_id
    if bag_id is None:
        raise InvalidInput("Give the bag_id or handoff_id of the hand-off.", field="bag_id")
    bag = db.get(Bag, bag_id)
    if bag is None or bag.brand_id != brand.id:
        raise NotFound(N_("No bag %(id)s at this brand."), params={"id": bag_id})
    if handoff is None:
        handoff = db.exec(
            select(CheckoutHandoff)
            .where(CheckoutHandoff.bag_id == bag.id)
            .order_by(col(CheckoutHandoff.id).desc())
        ).first()
    return bag, handoff


def _attributed_mode(db: Session, bag: Bag, live: LiveSession) -> str:
    """Live if any of the session's lines in the bag was added before the session ended."""
    first_added = db.exec(
        select(func.min(BagLine.created_at)).where(
            BagLine.bag_id == bag.id, BagLine.live_session_id == live.id
        )
    ).one()
    if live.ended_at is not None and first_added is not None and first_added >= live.ended_at:
        return REPLAY
    return LIVE


def _influencing_session(db: Session, brand: Brand, shopper_id: int) -> tuple[int, str] | None:
    """The last session the shopper watched (a join) or wrote in within the brand's window."""
    since = utcnow() - timedelta(days=brand.attribution_window_days)
    joined = db.exec(
        select(AnalyticsEvent.live_session_id, AnalyticsEvent.mode, AnalyticsEvent.created_at)
        .where(
            AnalyticsEvent.brand_id == brand.id,
            AnalyticsEvent.kind == JOIN,
            AnalyticsEvent.shopper_id == shopper_id,
            AnalyticsEvent.created_at >= since,
        )
        .order_by(col(AnalyticsEvent.created_at).desc(), col(AnalyticsEvent.id).desc())
    ).first()
    wrote = db.exec(
        select(ChatMessage.live_session_id, ChatMessage.created_at)
        .join(LiveSession, col(LiveSession.id) == col(ChatMessage.live_session_id))
        .where(
            LiveSession.brand_id == brand.id,
            or_(ChatMessage.shopper_id == shopper_id, LiveSession.shopper_id == shopper_id),
            ChatMessage.created_at >= since,
        )
        .order_by(col(ChatMessage.created_at).desc())
    ).first()
    candidates = []
    if joined is not None and joined[0] is not None:
        candidates.append((joined[2], joined[0], joined[1] or LIVE))
    if wrote is not None:
        candidates.append((wrote[1], wrote[0], LIVE))
    if not candidates:
        return None
    _, live_session_id, mode = max(candidates, key=lambda c: c[0])
    return live_session_id, mode


def _credit(db: Session, brand: Brand, bag: Bag) -> tuple[int | None, str, str]:
    source = bag_session_id(db, bag)
    if source is not None:
        live = db.get(LiveSession, source)
        assert live is not None
        return source, ATTRIBUTED, _attributed_mode(db, bag, live)
    influenced = _influencing_session(db, brand, bag.shopper_id)
    if influenced is not None:
        return influenced[0], INFLUENCED, influenced[1]
    return None, NONE, ""


def _check_new(new: NewOrder, brand: Brand) -> None:
    # The total is the shop's (shipping, tax and discounts included): not checked against lines.
    if new.currency.upper() != brand.currency.upper():
        raise InvalidInput(
            N_("This brand sells in %(currency)s; the order is in %(order_currency)s."),
            params={"currency": brand.currency, "order_currency": new.currency},
            field="currency",
        )


def do_receive_order(db: Session, brand: Brand, new: NewOrder) -> Received:
    """Store the shop's order once, credited to a session; a repeat returns the first."""
    assert brand.id is not None
    existing = _existing(db, brand, new.external_id)
    if existing is not None:
        return Received(existing, duplicate=True)
    _check_new(new, brand)
    bag, handoff = _bag_of(db, brand, new)
    live_session_id, attribution, mode = _credit(db, brand, bag)
    order = Order(
        brand_id=brand.id,
        external_id=new.external_id,
        bag_id=bag.id,  # type: ignore[arg-type]
        handoff_id=handoff.id if handoff else None,
        shopper_id=bag.shopper_id,
        live_session_id=live_session_id,
        attribution=attribution,
        mode=mode,
        total_minor=new.total_minor,
        currency=brand.currency,
        lines=json.dumps([line.__dict__ for line in new.lines], separators=(",", ":")),
    )
    try:
        with db.begin_nested():
            db.add(order)
        db.commit()
    except IntegrityError:  # the same order delivered twice at once: the other one won
        db.rollback()
        existing = _existing(db, brand, new.external_id)
        assert existing is not None
        return Received(existing, duplicate=True)
    _tell_hosts(db, order)
    return Received(order, duplicate=False)


def _tell_hosts(db: Session, order: Order) -> None:
    if order.live_session_id is not None:
        publish_live_figures(db, db.get(LiveSession, order.live_session_id))


def _existing(db: Session, brand: Brand, external_id: str) -> Order | None:
    return db.exec(
        select(Order).where(Order.brand_id == brand.id, Order.external_id == external_id)
    ).first()


# --- order.refunded -------------------------------------------------------------------


def do_refund_order(
    db: Session, brand: Brand, external_id: str, refunded_total_minor: int
) -> Order:
    """Set the order's refunded total; it only grows, so repeats and late deliveries are safe."""
    order = _existing(db, brand, external_id)
    if order is None:
        raise NotFound(
            N_("No order '%(id)s' at this brand; send order.created first."),
            params={"id": external_id},
        )
    if not 0 <= refunded_total_minor <= order.total_minor:
        raise Conflict(
            N_("The refunded total must be between 0 and the order's %(total_minor)s."),
            params={"total_minor": order.total_minor},
            code="refund_exceeds_total",
        )
    db.exec(
        update(Order)
        .where(col(Order.id) == order.id, col(Order.refunded_minor) < refunded_total_minor)
        .values(refunded_minor=refunded_total_minor, refunded_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.commit()
    db.refresh(order)
    _tell_hosts(db, order)
    return order


MAX_WINDOW_DAYS = 90


def do_set_attribution_window(db: Session, brand: Brand, days: object) -> Brand:
    """How many days after watching or talking an order still counts as influenced."""
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_WINDOW_DAYS:
        raise InvalidInput(
            N_("Give the window as a whole number of days from 1 to %(n)s."),
            params={"n": MAX_WINDOW_DAYS},
            field="attribution_window_days",
        )
    brand.attribution_window_days = days
    db.add(brand)
    db.commit()
    return brand
