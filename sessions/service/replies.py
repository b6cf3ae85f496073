"""Saved replies: the brand's (made by its admin, for all its staff) and each associate's
own, inserted into a conversation with their placeholders filled from the thread.

Placeholders: ``{shopper}`` (the shopper's name, when they gave one), ``{associate}``
(whoever inserts the reply), ``{product}`` (the product the shopper asked from, or the
last product card of the thread, whichever came last), ``{size}`` (the size of that
product in the shopper's bag, or its only size), ``{store}`` (the thread's store, else
the associate's), ``{brand}``. A reply is filled whole or not at all: a placeholder with
nothing to put in it is refused with a message naming it and why, so that "{size}"
never reaches a shopper. Only ``{shopper}`` without a name is left out instead ("Hello
{shopper}," becomes "Hello,"): a guest is not called "Guest".

A template may use only these placeholders (checked when it is saved). Filling is a
read: nothing is stored, the associate sends the text like any other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, func, select

from sessions.access import (
    Actor,
    access_brand_replies,
    access_brand_staff,
    access_manage_reply,
    access_own_replies,
    access_thread_staff,
    access_use_reply,
    can_use_reply,
)
from sessions.clock import utcnow
from sessions.errors import N_, Conflict, InvalidInput, NotFound
from sessions.models import (
    Appointment,
    AppointmentStatus,
    AssociateProfile,
    AssociateStore,
    Bag,
    BagLine,
    BagStatus,
    Brand,
    Product,
    SavedReply,
    Shopper,
    Store,
    Thread,
    ThreadMessage,
    Variant,
)

PLACEHOLDERS = ("shopper", "associate", "product", "size", "store", "brand")
MAX_TITLE = 80
MAX_BODY = 2000  # a message's (sessions/service/threads.py MAX_BODY)
MAX_REPLIES = 200  # per brand, and per associate
SCOPES = ("brand", "mine")
TOKEN = re.compile(r"\{([^{}\s]{1,40})\}")


class PlaceholderMissing(InvalidInput):
    """A reply needs a value this conversation does not have."""

    code = "placeholder_missing"


# --- templates ----------------------------------------------------------------------------


def placeholders_in(text: str) -> list[str]:
    """The placeholders a text uses, in order, each once."""
    seen: list[str] = []
    for name in TOKEN.findall(text):
        if name not in seen:
            seen.append(name)
    return seen


def check_template(body: object) -> str:
    if not isinstance(body, str) or not body.strip():
        raise InvalidInput("Write the reply.", field="body")
    text = body.strip()
    if len(text) > MAX_BODY:
        raise InvalidInput(
            N_("Keep a reply under %(n)s characters."), params={"n": MAX_BODY}, field="body"
        )
    unknown = [name for name in placeholders_in(text) if name not in PLACEHOLDERS]
    if unknown:
        known = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
        raise InvalidInput(
            N_("{%(unknown)s} is not a placeholder. Use %(known)s."),
            params={"unknown": unknown[0], "known": known},
            field="body",
            unknown=unknown,
        )
    return text


def check_title(title: object) -> str:
    if not isinstance(title, str) or not title.strip():
        raise InvalidInput("Give the reply a short title.", field="title")
    text = " ".join(title.split())
    if len(text) > MAX_TITLE:
        raise InvalidInput(
            N_("Keep the title under %(n)s characters."), params={"n": MAX_TITLE}, field="title"
        )
    return text


def scope_of(reply: SavedReply) -> str:
    return "brand" if reply.associate_id is None else "mine"


def reply_out(reply: SavedReply) -> dict[str, Any]:
    return {
        "id": reply.id,
        "brand_id": reply.brand_id,
        "scope": scope_of(reply),
        "associate_id": reply.associate_id,
        "title": reply.title,
        "body": reply.body,
        "placeholders": placeholders_in(reply.body),
        "updated_at": reply.updated_at.isoformat(),
    }


# --- reading --------------------------------------------------------------------------------


def reply_or_404(db: Session, reply_id: int) -> SavedReply:
    reply = db.get(SavedReply, reply_id)
    if reply is None:
        raise NotFound(N_("No saved reply with id %(id)s."), params={"id": reply_id})
    return reply


def brand_replies(db: Session, brand_id: int) -> list[SavedReply]:
    """The brand's own replies (the admin screen lists these)."""
    return list(
        db.exec(
            select(SavedReply)
            .where(SavedReply.brand_id == brand_id, col(SavedReply.associate_id).is_(None))
            .order_by(col(SavedReply.title), col(SavedReply.id))
        ).all()
    )


def replies_for(db: Session, actor: Actor, brand_id: int) -> list[SavedReply]:
    """What the actor may insert at the brand: their own first, then the brand's."""
    access_brand_staff(actor, brand_id)
    own: list[SavedReply] = []
    if actor.associate_id is not None:
        own = list(
            db.exec(
                select(SavedReply)
                .where(
                    SavedReply.brand_id == brand_id,
                    SavedReply.associate_id == actor.associate_id,
                )
                .order_by(col(SavedReply.title), col(SavedReply.id))
            ).all()
        )
    return [r for r in own + brand_replies(db, brand_id) if can_use_reply(actor, r)]


# --- changing them ----------------------------------------------------------------------------


def _check_room(db: Session, brand_id: int, associate_id: int | None) -> None:
    count = db.exec(
        select(func.count())
        .select_from(SavedReply)
        .where(
            SavedReply.brand_id == brand_id,
            (
                col(SavedReply.associate_id).is_(None)
                if associate_id is None
                else SavedReply.associate_id == associate_id
            ),
        )
    ).one()
    if int(count) >= MAX_REPLIES:
        raise Conflict(
            N_("There are %(n)s saved replies already: remove one first."),
            params={"n": MAX_REPLIES},
        )


def do_create_reply(
    db: Session, actor: Actor, brand_id: int, *, title: object, body: object, scope: str
) -> SavedReply:
    """A new reply: the brand's (its admin) or one's own (an associate)."""
    if scope not in SCOPES:
        raise InvalidInput("The scope is 'brand' or 'mine'.", field="scope")
    if scope == "brand":
        access_brand_replies(actor, brand_id)
        associate_id = None
    else:
        access_own_replies(actor, brand_id)
        associate_id = actor.associate_id
    reply = SavedReply(
        brand_id=brand_id,
        associate_id=associate_id,
        title=check_title(title),
        body=check_template(body),
        created_by=actor.user_id,
    )
    _check_room(db, brand_id, associate_id)
    db.add(reply)
    db.commit()
    return reply


def do_update_reply(
    db: Session, actor: Actor, reply: SavedReply, *, title: object = None, body: object = None
) -> SavedReply:
    access_manage_reply(actor, reply)
    if title is not None:
        reply.title = check_title(title)
    if body is not None:
        reply.body = check_template(body)
    reply.updated_at = utcnow()
    db.add(reply)
    db.commit()
    return reply


def do_delete_reply(db: Session, actor: Actor, reply: SavedReply) -> None:
    access_manage_reply(actor, reply)
    db.delete(reply)
    db.commit()


# --- filling them from a thread -----------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What a thread gives each placeholder: a value, or why there is none."""

    values: dict[str, str | None]
    why: dict[str, str]


def shopper_name(db: Session, thread: Thread) -> str | None:
    """The name the shopper gave (asking, or booking at the brand), if any."""
    shopper = db.get(Shopper, thread.shopper_id)
    if shopper is not None and shopper.name and shopper.name.strip():
        return shopper.name.strip()
    booked = db.exec(
        select(Appointment.shopper_name)
        .where(
            Appointment.brand_id == thread.brand_id,
            Appointment.shopper_id == thread.shopper_id,
            Appointment.status != AppointmentStatus.CANCELLED,
        )
        .order_by(col(Appointment.created_at).desc())
    ).first()
    return booked.strip() if booked and booked.strip() else None


def _associate_name(db: Session, actor: Actor) -> str:
    profile = db.get(AssociateProfile, actor.associate_id) if actor.associate_id else None
    return profile.display_name if profile is not None else actor.name


def thread_product(db: Session, thread: Thread) -> Product | None:
    """The product the conversation is about: the last one asked from or sent as a card."""
    product_id = db.exec(
        select(ThreadMessage.product_id)
        .where(ThreadMessage.thread_id == thread.id, col(ThreadMessage.product_id).is_not(None))
        .order_by(col(ThreadMessage.id).desc())
    ).first()
    product = db.get(Product, product_id) if product_id else None
    return product if product is not None and product.brand_id == thread.brand_id else None


def _bag_sizes(db: Session, thread: Thread) -> list[tuple[int, str]]:
    """(product id, size) of the shopper's open bag at the brand, the latest line first."""
    rows = db.exec(
        select(Variant.product_id, Variant.size)
        .join(BagLine, col(BagLine.variant_id) == col(Variant.id))
        .join(Bag, col(Bag.id) == col(BagLine.bag_id))
        .where(
            Bag.brand_id == thread.brand_id,
            Bag.shopper_id == thread.shopper_id,
            Bag.status == BagStatus.OPEN,
        )
        .order_by(col(BagLine.id).desc())
    ).all()
    return [(pid, size.strip()) for pid, size in rows if size and size.strip()]


def _size(db: Session, thread: Thread, product: Product | None) -> tuple[str | None, str]:
    bag = _bag_sizes(db, thread)
    if product is None:
        if bag:
            return bag[0][1], ""
        return None, "no product was asked about or sent in this conversation, and the bag is empty"
    for product_id, size in bag:
        if product_id == product.id:
            return size, ""
    sizes = {
        s.strip()
        for s in db.exec(select(Variant.size).where(Variant.product_id == product.id)).all()
        if s and s.strip()
    }
    if len(sizes) == 1:
        return sizes.pop(), ""
    return None, f"the shopper has no {product.name} in their bag, so no size is known yet"


def _store(db: Session, actor: Actor, thread: Thread) -> str | None:
    store = db.get(Store, thread.store_id) if thread.store_id else None
    if store is None and actor.associate_id is not None:
        store = db.exec(
            select(Store)
            .join(AssociateStore, col(AssociateStore.store_id) == col(Store.id))
            .where(AssociateStore.associate_id == actor.associate_id)
            .order_by(col(Store.id))
        ).first()
    if store is None:
        stores = db.exec(select(Store).where(Store.brand_id == thread.brand_id).limit(2)).all()
        store = stores[0] if len(stores) == 1 else None
    return store.name if store is not None else None


def context_of(db: Session, actor: Actor, thread: Thread) -> Context:
    """Each placeholder's value in this thread, for this associate."""
    access_thread_staff(actor, thread)
    brand = db.get(Brand, thread.brand_id)
    product = thread_product(db, thread)
    size, size_why = _size(db, thread, product)
    values: dict[str, str | None] = {
        "shopper": shopper_name(db, thread),
        "associate": _associate_name(db, actor),
        "product": product.name if product is not None else None,
        "size": size,
        "store": _store(db, actor, thread),
        "brand": brand.name if brand is not None else None,
    }
    why = {
        "shopper": "the shopper has not given their name",
        "associate": "you have no name",
        "product": "no product was asked about or sent in this conversation yet",
        "size": size_why,
        "store": "the conversation has no store and you work at none",
        "brand": "the brand is gone",
    }
    return Context(values, why)


_LEFT_OUT = re.compile(r"[ \t]*\{shopper\}")


def _leave_out_shopper(text: str) -> str:
    """Leave the nameless {shopper} out: "Hello {shopper}," becomes "Hello,"."""
    first = text.lstrip().startswith("{shopper}")
    text = _LEFT_OUT.sub("", text)
    if first:
        text = text.lstrip(" ,;:!\t")
        text = text[:1].upper() + text[1:]
    return text


def fill(template: str, context: Context) -> str:
    """The template with every placeholder filled, or PlaceholderMissing naming the ones
    this conversation has no value for, and why."""
    names = [n for n in placeholders_in(template) if n in PLACEHOLDERS]  # other braces stay
    missing = [n for n in names if n != "shopper" and not context.values.get(n)]
    if missing:
        reasons = "; ".join(f"{{{n}}}: {context.why.get(n) or 'no value'}" for n in missing)
        raise PlaceholderMissing(
            N_(
                "This reply cannot be filled here (%(reasons)s). "
                "Write it yourself, or choose another reply."
            ),
            params={"reasons": reasons},
            field="body",
            missing=missing,
        )
    text = template
    if "shopper" in names and not context.values.get("shopper"):
        text = _leave_out_shopper(text)
    for name in names:
        value = context.values.get(name)
        if value:
            text = text.replace(f"{{{name}}}", value)
    if len(text) > MAX_BODY:
        raise InvalidInput(
            N_("Filled in, this reply passes %(n)s characters."),
            params={"n": MAX_BODY},
            field="body",
        )
    return text


def fill_reply(db: Session, actor: Actor, thread: Thread, reply: SavedReply) -> str:
    """One reply filled for this thread (PlaceholderMissing when it cannot be)."""
    access_use_reply(actor, reply)
    if reply.brand_id != thread.brand_id:
        raise NotFound(N_("No saved reply with id %(id)s at this brand."), params={"id": reply.id})
    return fill(reply.body, context_of(db, actor, thread))


def fill_text(db: Session, actor: Actor, thread: Thread, text: str) -> str:
    """A text typed in the composer with placeholders in it, filled the same way."""
    return fill(text, context_of(db, actor, thread))


def replies_in_thread(db: Session, actor: Actor, thread: Thread) -> list[dict[str, Any]]:
    """The picker: every reply the actor may use, filled for this thread, or the reason
    it cannot be."""
    context = context_of(db, actor, thread)
    out = []
    for reply in replies_for(db, actor, thread.brand_id):
        row = reply_out(reply) | {"text": None, "problem": None, "missing": []}
        try:
            row["text"] = fill(reply.body, context)
        except PlaceholderMissing as exc:
            row["problem"] = exc.message
            row["missing"] = exc.details.get("missing", [])
        out.append(row)
    return out
