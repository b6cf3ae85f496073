"""Service-desk resources for the roles x endpoints matrix and the GET walk."""

from __future__ import annotations

from sqlmodel import Session, select

from sessions.clock import utcnow
from sessions.models import AssociateProfile, SavedReply, Shopper, Thread, ThreadStatus


def waiting_thread(db: Session, brand_id: int, shopper_id: int, offered_to: int | None) -> int:
    # A booking already made the shopper's thread (its note): that one waits then.
    thread = db.exec(
        select(Thread).where(Thread.brand_id == brand_id, Thread.shopper_id == shopper_id)
    ).first() or Thread(brand_id=brand_id, shopper_id=shopper_id)
    thread.status = ThreadStatus.WAITING
    thread.offered_to = offered_to
    thread.offered_at = utcnow() if offered_to else None
    thread.waiting_since = utcnow()
    db.add(thread)
    db.commit()
    assert thread.id is not None
    return thread.id


def saved_reply(db: Session, brand_id: int) -> int:
    """One of the brand's saved replies (its admin edits or deletes it)."""
    reply = SavedReply(
        brand_id=brand_id, title="Welcome", body="Hello {shopper}, I am {associate}."
    )
    db.add(reply)
    db.commit()
    assert reply.id is not None
    return reply.id


def service_ids(
    db: Session, brand_id: int, associate: AssociateProfile, colleague_id: int | None
) -> dict[str, int | None]:
    """A thread waiting, offered to the associate (they accept or decline it; the brand's
    admin transfers or closes it), and a colleague present to hand it to."""
    shopper = Shopper(token=f"matrix-thread-{utcnow().timestamp()}")
    db.add(shopper)
    db.commit()
    assert shopper.id is not None and associate.id is not None
    colleague = db.get(AssociateProfile, colleague_id) if colleague_id else None
    if colleague is not None:
        colleague.console_seen_at = utcnow()  # present: a thread may be handed to them
        db.add(colleague)
        db.commit()
    return {
        "thread_id": waiting_thread(db, brand_id, shopper.id, associate.id),
        "reply_id": saved_reply(db, brand_id),
    }
