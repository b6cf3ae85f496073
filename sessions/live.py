"""What happens in a live room: chat, moderation, pins and flash offers.

Only the ``do_*`` actions here change those rows; each commits and then
publishes domain events (``sessions.events``) with ready-to-send payloads, so
the web layer's sink only delivers. Payload shapes follow the Socket.IO
contract in docs/rooms.md (Message, ProductCard, Offer).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from sessions.access import Actor, access_host, access_join
from sessions.analytics import events as analytics_events
from sessions.brand_texts import names_by_language_of
from sessions.catalogue import get_or_404
from sessions.clock import as_utc, utcnow
from sessions.errors import Conflict, Forbidden, InvalidInput, NotFound
from sessions.events import publish
from sessions.i18n import N_
from sessions.models import (
    Brand,
    ChatMessage,
    FlashOffer,
    LiveSession,
    MessageKind,
    PinnedProduct,
    Product,
    RoomSanction,
    SanctionKind,
    SessionStatus,
    Shopper,
    Show,
    Variant,
)
from sessions.privacy import audit
from sessions.ratelimit import RateLimiter

MAX_MESSAGE_LENGTH = 500
HISTORY_LIMIT = 50
# Per shopper and room: at most RATE_COUNT messages in RATE_WINDOW seconds.
RATE_COUNT = 5
RATE_WINDOW = 10
# Pinned at once (the phone player shows them as cards over the video); a 4th is a 409.
MAX_PINS = 3
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --- reading ---------------------------------------------------------------


def live_or_404(db: Session, live_session_id: int) -> LiveSession:
    return get_or_404(db, LiveSession, live_session_id, N_("live session"))


def product_card(db: Session, product: Product, brand: Brand) -> dict[str, Any]:
    """ProductCard: what a viewer's carousel shows, with live stock per variant."""
    return product_cards(db, [product], brand)[0]


def product_cards(db: Session, products: Sequence[Product], brand: Brand) -> list[dict[str, Any]]:
    """The cards of several products in two reads (their variants, their names), not two
    per product: a show page lists all of the show's pieces."""
    ids = [p.id for p in products if p.id is not None]
    if not ids:
        return []
    variants: dict[int, list[Variant]] = {i: [] for i in ids}
    for v in db.exec(
        select(Variant).where(col(Variant.product_id).in_(ids)).order_by(col(Variant.id))
    ).all():
        variants[v.product_id].append(v)
    names = names_by_language_of(db, "product", ids, "name")
    return [_card(product, brand, variants.get(product.id or 0, []), names) for product in products]


def _card(
    product: Product, brand: Brand, variants: list[Variant], names: dict[int, dict[str, str]]
) -> dict[str, Any]:
    return {
        "id": product.id,
        "name": product.name,
        "names": names.get(product.id or 0, {}),
        "price_minor": product.price_minor,
        "currency": product.currency,
        "image_url": f"/uploads/{product.image_path}" if product.image_path else None,
        "url": f"/b/{brand.slug}/products/{product.id}",
        "stock": sum(v.stock for v in variants),
        "variants": [
            {
                "id": v.id,
                "size": v.size,
                "colour": v.colour,
                "colour_hex": v.colour_hex,
                "stock": v.stock,
                "price_minor": v.price_minor if v.price_minor is not None else product.price_minor,
            }
            for v in variants
        ],
    }


def message_out(
    msg: ChatMessage, author_role: str, product: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "id": msg.id,
        "kind": msg.kind.value,
        "author": msg.author_name,
        "author_role": author_role,
        "body": msg.body,
        "product": product,
        # Served behind an access gate (web/media.py), never from /uploads/.
        "attachment_url": (
            f"/snapshots/{msg.live_session_id}/{msg.attachment_path.rsplit('/', 1)[-1]}"
            if msg.attachment_path
            else None
        ),
        "colour": msg.colour_report,  # a corrected snapshot's figures, else None
        "created_at": msg.created_at.isoformat(),
    }


def _role_of(msg: ChatMessage) -> str:
    if msg.kind is MessageKind.SYSTEM:
        return "system"
    return "host" if msg.user_id is not None else "shopper"


_RECENT_MESSAGES = (  # built once with a parameter: sessions/db.py, "statements built once"
    select(ChatMessage)
    .where(ChatMessage.live_session_id == bindparam("live"), col(ChatMessage.deleted_at).is_(None))
    .order_by(col(ChatMessage.id).desc())
    .limit(HISTORY_LIMIT)
)


def history(
    db: Session, live: LiveSession, *, last_id: int | None = None, limit: int = HISTORY_LIMIT
) -> list[dict[str, Any]]:
    """Recent messages, or exactly those after ``last_id`` (a resuming client)."""
    query = select(ChatMessage).where(
        ChatMessage.live_session_id == live.id, col(ChatMessage.deleted_at).is_(None)
    )
    if last_id is not None:
        rows = list(
            db.exec(query.where(col(ChatMessage.id) > last_id).order_by(col(ChatMessage.id))).all()
        )
    elif limit == HISTORY_LIMIT:  # every join: the statement built once
        rows = list(db.exec(_RECENT_MESSAGES, params={"live": live.id}).all())
        rows.reverse()
    else:
        rows = list(db.exec(query.order_by(col(ChatMessage.id).desc()).limit(limit)).all())
        rows.reverse()
    brand = db.get(Brand, live.brand_id)
    assert brand is not None
    cards: dict[int, dict[str, Any]] = {}
    out = []
    for msg in rows:
        card = None
        if msg.product_id is not None:
            if msg.product_id not in cards:
                product = db.get(Product, msg.product_id)
                if product is not None:
                    cards[msg.product_id] = product_card(db, product, brand)
            card = cards.get(msg.product_id)
        out.append(message_out(msg, _role_of(msg), card))
    return out


def pinned_cards(db: Session, live: LiveSession) -> list[dict[str, Any]]:
    """Pinned products: the one "showing now" first, then the most recent first. Each
    card says ``showing`` (the host marked it) and ``pinned_at``."""
    pins = db.exec(
        select(PinnedProduct)
        .where(PinnedProduct.live_session_id == live.id, col(PinnedProduct.unpinned_at).is_(None))
        .order_by(
            col(PinnedProduct.showing).desc(),
            col(PinnedProduct.pinned_at).desc(),
            col(PinnedProduct.id).desc(),
        )
    ).all()
    brand = db.get(Brand, live.brand_id)
    assert brand is not None
    products = {
        p.id: p
        for p in db.exec(
            select(Product).where(col(Product.id).in_([pin.product_id for pin in pins]))
        ).all()
    }
    shown = [(pin, products[pin.product_id]) for pin in pins if pin.product_id in products]
    shown = [(pin, product) for pin, product in shown if product.is_active]
    cards = product_cards(db, [product for _pin, product in shown], brand)
    for (pin, _product), card in zip(shown, cards, strict=True):
        card["showing"] = bool(pin.showing)
        card["pinned_at"] = as_utc(pin.pinned_at).isoformat()
    return cards


def offer_out(offer: FlashOffer | None, now: datetime | None = None) -> dict[str, Any] | None:
    if offer is None or offer.cancelled_at is not None:
        return None
    if offer.ends_at <= (now or utcnow()):
        return None
    return {
        "id": offer.id,
        "product_id": offer.product_id,
        "price_minor": offer.price_minor,
        "quantity": offer.quantity,
        "remaining": max(0, offer.quantity - offer.claimed),
        "ends_at": offer.ends_at.isoformat(),
    }


# Built once with parameters: sessions/db.py, "statements built once".
_CURRENT_OFFER = (
    select(FlashOffer)
    .where(
        FlashOffer.live_session_id == bindparam("live"),
        col(FlashOffer.cancelled_at).is_(None),
        FlashOffer.ends_at > bindparam("now"),
    )
    .order_by(col(FlashOffer.id).desc())
)


def current_offer(db: Session, live: LiveSession) -> FlashOffer | None:
    return db.exec(_CURRENT_OFFER, params={"live": live.id, "now": utcnow()}).first()


# Built once with a parameter: sessions/db.py, "statements built once".
_SANCTIONS = select(RoomSanction).where(
    RoomSanction.live_session_id == bindparam("live"),
    RoomSanction.shopper_id == bindparam("shopper"),
    col(RoomSanction.lifted_at).is_(None),
)


def active_sanction(db: Session, live: LiveSession, shopper_id: int) -> RoomSanction | None:
    """The strongest sanction in force: a ban beats a mute."""
    now = utcnow()
    rows = db.exec(_SANCTIONS, params={"live": live.id, "shopper": shopper_id}).all()
    live_rows = [r for r in rows if r.until is None or r.until > now]
    bans = [r for r in live_rows if r.kind is SanctionKind.BAN]
    chosen = bans or live_rows
    return chosen[0] if chosen else None


def check_can_enter(db: Session, actor: Actor, live: LiveSession) -> RoomSanction | None:
    """Refuse who may not enter; return the shopper's sanction in force (a mute), if any,
    so that a join does not read it twice."""
    access_join(actor, live)
    if actor.shopper_id is None:
        return None
    sanction = active_sanction(db, live, actor.shopper_id)
    if sanction is not None and sanction.kind is SanctionKind.BAN:
        raise Forbidden(N_("You can no longer take part in this session."), code="banned")
    return sanction


# --- chat ---------------------------------------------------------------------


# Per shopper and room, across every node (see sessions/ratelimit.py).
chat_limiter = RateLimiter(
    "chat",
    f"{RATE_COUNT} per {RATE_WINDOW} seconds",
    N_("You are sending messages too fast; wait %(wait)s s."),
)


def blocked_word_in(text: str, blocked_words: str) -> str | None:
    lowered = text.casefold()
    for word in blocked_words.splitlines():
        word = word.strip().casefold()
        if word and re.search(rf"(?<!\w){re.escape(word)}(?!\w)", lowered):
            return word
    return None


def clean_body(body: object) -> str:
    if not isinstance(body, str):
        raise InvalidInput(N_("A message is text."), field="body")
    text = _CONTROL.sub("", body).strip()
    if not text:
        raise InvalidInput(N_("Write something first."), field="body")
    if len(text) > MAX_MESSAGE_LENGTH:
        raise InvalidInput(
            N_("Keep messages under %(n)s characters."),
            params={"n": MAX_MESSAGE_LENGTH},
            field="body",
        )
    return text


def _check_open(live: LiveSession) -> None:
    if live.status is SessionStatus.ENDED:
        raise Conflict(N_("This session has ended."), code="ended")


def do_send_message(
    db: Session,
    actor: Actor,
    live: LiveSession,
    body: object,
    *,
    client_id: str | None = None,
    limiter: RateLimiter | None = chat_limiter,
) -> dict[str, Any]:
    """Validate, store, then publish one chat message; returns the stored Message."""
    access_join(actor, live)
    _check_open(live)
    if actor.user_id is None and actor.shopper_id is None:
        raise Forbidden(N_("Reload the page to take part in the chat."), code="not_identified")
    text = clean_body(body)
    if client_id is not None and (not isinstance(client_id, str) or len(client_id) > 64):
        raise InvalidInput(N_("client_id must be a short string."), field="client_id")
    if client_id:
        previous = db.exec(
            select(ChatMessage).where(
                ChatMessage.live_session_id == live.id, ChatMessage.client_id == client_id
            )
        ).first()
        if previous is not None:  # a retry after a lost ack: already stored and sent
            return message_out(previous, _role_of(previous))
    is_host = actor.user_id is not None
    if not is_host:
        assert actor.shopper_id is not None
        sanction = active_sanction(db, live, actor.shopper_id)
        if sanction is not None:
            if sanction.until is None:
                raise Forbidden(N_("The host has muted you."), code=sanction.kind.value)
            raise Forbidden(
                N_("The host has muted you until %(time)s UTC."),
                params={"time": f"{sanction.until:%H:%M}"},
                code=sanction.kind.value,
            )
        brand = db.get(Brand, live.brand_id)
        if brand is not None and blocked_word_in(text, brand.blocked_words):
            raise InvalidInput(
                N_("This message contains a word the brand does not allow."), code="blocked_word"
            )
        if limiter is not None:
            # End the read first (as threads do): the limiter may wait on Redis, or start
            # its expiry timer (a green thread: it yields), and on SQLite an open
            # transaction holds the write lock, so a refused message would hold up every
            # other writer of the node. The write below opens its own transaction.
            key = f"{live.room}:{actor.identity}"
            db.commit()
            limiter.hit(key)
    assert live.id is not None
    msg = ChatMessage(
        live_session_id=live.id,
        user_id=actor.user_id,
        shopper_id=actor.shopper_id,
        author_name=actor.name[:120],
        body=text,
        client_id=client_id or None,
    )
    db.add(msg)
    db.commit()
    out = message_out(msg, "host" if is_host else "shopper")
    publish("message", live.room, message=out)
    return out


def do_push_product(db: Session, actor: Actor, live: LiveSession, product_id: int) -> dict:
    """A product card as a chat message (host only)."""
    access_host(actor, live)
    _check_open(live)
    product = _brand_product(db, live, product_id)
    assert live.id is not None
    msg = ChatMessage(
        live_session_id=live.id,
        kind=MessageKind.PRODUCT,
        user_id=actor.user_id,
        author_name=actor.name[:120],
        body=product.name,
        product_id=product.id,
    )
    db.add(msg)
    db.commit()
    brand = db.get(Brand, live.brand_id)
    assert brand is not None
    out = message_out(msg, "host", product_card(db, product, brand))
    publish("message", live.room, message=out)
    return out


def do_delete_message(db: Session, actor: Actor, live: LiveSession, message_id: int) -> None:
    access_host(actor, live)
    msg = db.get(ChatMessage, message_id)
    if msg is None or msg.live_session_id != live.id:
        raise NotFound(N_("No such message in this session."))
    if msg.deleted_at is None:
        msg.deleted_at = utcnow()
        msg.deleted_by = actor.user_id
        db.add(msg)
        db.commit()
    publish("message_deleted", live.room, id=message_id)


# --- moderation ----------------------------------------------------------------


def do_sanction(
    db: Session,
    actor: Actor,
    live: LiveSession,
    shopper_id: int,
    kind: SanctionKind,
    minutes: int | None = None,
) -> RoomSanction:
    """Mute (for some minutes, or the whole session) or ban a shopper from this room."""
    access_host(actor, live)
    assert actor.user_id is not None
    if db.get(Shopper, shopper_id) is None:
        raise NotFound(N_("No such shopper."))
    if minutes is not None and not (isinstance(minutes, int) and 1 <= minutes <= 24 * 60):
        raise InvalidInput(
            N_("Give the minutes as a whole number from 1 to 1440."), field="minutes"
        )
    until = utcnow() + timedelta(minutes=minutes) if minutes else None
    assert live.id is not None
    sanction = RoomSanction(
        live_session_id=live.id,
        shopper_id=shopper_id,
        kind=kind,
        until=until,
        by_user_id=actor.user_id,
    )
    db.add(sanction)
    detail = {"live_session_id": live.id, "minutes": minutes}
    audit.record(
        db, actor, f"sanction.{kind.value}", f"shopper:{shopper_id}", detail, brand_id=live.brand_id
    )
    db.commit()
    publish(
        "sanction",
        live.room,
        audience=f"shopper:{shopper_id}",
        sanction=kind.value,
        until=until.isoformat() if until else None,
        shopper_id=shopper_id,
    )
    publish("participants_changed", live.room, audience="hosts")
    return sanction


def do_unmute(db: Session, actor: Actor, live: LiveSession, shopper_id: int) -> None:
    access_host(actor, live)
    now = utcnow()
    db.exec(
        update(RoomSanction)
        .where(
            col(RoomSanction.live_session_id) == live.id,
            col(RoomSanction.shopper_id) == shopper_id,
            col(RoomSanction.kind) == SanctionKind.MUTE,
            col(RoomSanction.lifted_at).is_(None),
        )
        .values(lifted_at=now)
    )
    audit.record(
        db,
        actor,
        "sanction.unmute",
        f"shopper:{shopper_id}",
        {"live_session_id": live.id},
        brand_id=live.brand_id,
    )
    db.commit()
    publish(
        "sanction",
        live.room,
        audience=f"shopper:{shopper_id}",
        sanction="unmute",
        until=None,
        shopper_id=shopper_id,
    )
    publish("participants_changed", live.room, audience="hosts")


def muted_shoppers(db: Session, live: LiveSession) -> set[int]:
    now = utcnow()
    rows = db.exec(
        select(RoomSanction).where(
            RoomSanction.live_session_id == live.id, col(RoomSanction.lifted_at).is_(None)
        )
    ).all()
    return {r.shopper_id for r in rows if r.until is None or r.until > now}


# --- pins and offers --------------------------------------------------------


def _brand_product(db: Session, live: LiveSession, product_id: object) -> Product:
    if not isinstance(product_id, int) or isinstance(product_id, bool):
        raise InvalidInput(N_("product_id must be a number."), field="product_id")
    product = db.get(Product, product_id)
    if product is None or product.brand_id != live.brand_id or not product.is_active:
        raise NotFound(N_("No such product in this brand's catalogue."))
    return product


def _publish_pins(db: Session, live: LiveSession) -> list[dict[str, Any]]:
    cards = pinned_cards(db, live)
    publish("pins", live.room, pinned=cards)
    return cards


def do_pin(db: Session, actor: Actor, live: LiveSession, product_id: int) -> list[dict]:
    access_host(actor, live)
    product = _brand_product(db, live, product_id)
    pin = db.exec(
        select(PinnedProduct).where(
            PinnedProduct.live_session_id == live.id,
            PinnedProduct.product_id == product.id,
            col(PinnedProduct.unpinned_at).is_(None),
        )
    ).first()
    if pin is None:
        count = len(pinned_cards(db, live))
        if count >= MAX_PINS:
            raise Conflict(
                N_("Unpin a product first: at most %(n)s at a time."), params={"n": MAX_PINS}
            )
        assert live.id is not None and product.id is not None
        pin = PinnedProduct(
            live_session_id=live.id, product_id=product.id, price_minor=product.price_minor
        )
    pin.pinned_at = utcnow()  # re-pinning brings it to the front
    db.add(pin)
    db.add(analytics_events.event_for(live, analytics_events.PIN, product_id=product.id))
    db.commit()
    return _publish_pins(db, live)


def do_unpin(db: Session, actor: Actor, live: LiveSession, product_id: int) -> list[dict]:
    access_host(actor, live)
    product = _brand_product(db, live, product_id)
    db.exec(
        update(PinnedProduct)
        .where(
            col(PinnedProduct.live_session_id) == live.id,
            col(PinnedProduct.product_id) == product.id,
            col(PinnedProduct.unpinned_at).is_(None),
        )
        .values(unpinned_at=utcnow(), showing=False)
    )
    db.add(analytics_events.event_for(live, analytics_events.UNPIN, product_id=product.id))
    db.commit()
    return _publish_pins(db, live)


def do_show_now(
    db: Session, actor: Actor, live: LiveSession, product_id: object
) -> list[dict[str, Any]]:
    """Mark one pinned product "showing now" (the others lose the mark); ``None`` clears
    it. The product must be pinned: pin it first (409 otherwise)."""
    access_host(actor, live)
    target: int | None = None
    if product_id is not None:
        product = _brand_product(db, live, product_id)
        pinned = db.exec(
            select(PinnedProduct).where(
                PinnedProduct.live_session_id == live.id,
                PinnedProduct.product_id == product.id,
                col(PinnedProduct.unpinned_at).is_(None),
            )
        ).first()
        if pinned is None:
            raise Conflict(N_("Pin this product first: only a pinned product can be showing now."))
        target = pinned.id
    db.exec(
        update(PinnedProduct)
        .where(
            col(PinnedProduct.live_session_id) == live.id,
            col(PinnedProduct.unpinned_at).is_(None),
        )
        .values(showing=col(PinnedProduct.id) == target if target is not None else False)
        .execution_options(synchronize_session=False)
    )
    chosen = product_id if isinstance(product_id, int) else None
    db.add(analytics_events.event_for(live, analytics_events.SHOWING, product_id=chosen))
    db.commit()
    db.expire_all()  # the UPDATE went past the pins this session holds
    return _publish_pins(db, live)


def do_start_offer(
    db: Session,
    actor: Actor,
    live: LiveSession,
    *,
    product_id: int,
    price_minor: object,
    quantity: object,
    seconds: object,
) -> FlashOffer:
    """A time-limited price on a product, pinned if it was not; one offer at a time."""
    access_host(actor, live)
    _check_open(live)
    product = _brand_product(db, live, product_id)
    for name, value, low, high in (
        ("price_minor", price_minor, 0, product.price_minor),
        ("quantity", quantity, 1, 10_000),
        ("seconds", seconds, 1, 3600),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise InvalidInput(
                N_("%(name)s must be a whole number from %(low)s to %(high)s."),
                params={"name": name, "low": low, "high": high},
                field=name,
            )
    assert isinstance(price_minor, int) and isinstance(quantity, int)
    assert isinstance(seconds, int) and live.id is not None and product.id is not None
    if current_offer(db, live) is not None:
        raise Conflict(N_("An offer is already running; let it end first."))
    now = utcnow()
    offer = FlashOffer(
        live_session_id=live.id,
        product_id=product.id,
        price_minor=price_minor,
        quantity=quantity,
        starts_at=now,
        ends_at=now + timedelta(seconds=seconds),
    )
    db.add(offer)
    db.commit()
    pinned = {c["id"] for c in pinned_cards(db, live)}
    if product.id not in pinned:
        do_pin(db, actor, live, product.id)
    publish(
        "offer",
        live.room,
        offer=offer_out(offer),
        ends_at=offer.ends_at.isoformat(),
        offer_id=offer.id,
    )
    return offer


def do_end_offer_if_due(db: Session, offer_id: int) -> bool:
    """Called by the node's timer when an offer's time is up: everyone's offer goes."""
    offer = db.get(FlashOffer, offer_id)
    if offer is None or offer.ends_at > utcnow():
        return False
    live = db.get(LiveSession, offer.live_session_id)
    if live is not None and current_offer(db, live) is None:
        publish("offer", live.room, offer=None, offer_id=offer_id)
    return True


def claim_offer(db: Session, offer: FlashOffer, quantity: int) -> bool:
    """Take `quantity` from the offer atomically (inside the caller's transaction)."""
    result = db.exec(
        update(FlashOffer)
        .where(
            col(FlashOffer.id) == offer.id,
            col(FlashOffer.claimed) + quantity <= col(FlashOffer.quantity),
            col(FlashOffer.ends_at) > utcnow(),
            col(FlashOffer.cancelled_at).is_(None),
        )
        .values(claimed=col(FlashOffer.claimed) + quantity)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)


# --- hearts and state ---------------------------------------------------------


def do_add_hearts(db: Session, live_session_id: int, count: int) -> int:
    """Add a batch of hearts and return the new total (called by the batcher)."""
    db.exec(
        update(LiveSession)
        .where(col(LiveSession.id) == live_session_id)
        .values(hearts=col(LiveSession.hearts) + count)
        .execution_options(synchronize_session=False)
    )
    live = db.get(LiveSession, live_session_id)
    if live is not None:
        db.add(analytics_events.event_for(live, analytics_events.HEARTS, value_minor=count))
    db.commit()
    total = db.exec(select(LiveSession.hearts).where(LiveSession.id == live_session_id)).one()
    return int(total)


def do_record_viewers(db: Session, live_session_id: int, viewers: int) -> None:
    db.exec(
        update(LiveSession)
        .where(col(LiveSession.id) == live_session_id, col(LiveSession.peak_viewers) < viewers)
        .values(peak_viewers=viewers)
        .execution_options(synchronize_session=False)
    )
    db.commit()


def room_state(db: Session, live: LiveSession) -> dict[str, Any]:
    """Everything a joining client needs but the bag and viewer count. A show's room also
    says where the show is in its lifecycle (cancelled, replay published...), so a page
    that joins after a move knows it without the push it missed."""
    show = db.get(Show, live.show_id) if live.show_id is not None else None
    return {
        "status": live.status.value,
        "show_status": show.status.value if show is not None else None,
        "hearts": live.hearts,
        "pinned": pinned_cards(db, live),
        "offer": offer_out(current_offer(db, live)),
    }
