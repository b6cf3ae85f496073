"""Retention: each brand keeps chat, a consultation's recordings and snapshots, and guest
shoppers for its own number of days (``Brand.chat_retention_days``,
``recording_retention_days``, ``guest_retention_days``); the scheduler's ``privacy`` job
purges what is older.

Claimed once across nodes: a node purges a brand only after winning the conditional
UPDATE of ``Brand.purged_at`` (``WHERE purged_at IS NULL OR purged_at < now - every``),
as the other jobs claim their rows. What the purge does:

- chat: the brand's chat messages (shows and consultations) and thread messages older
  than ``chat_retention_days`` are deleted, with the pictures they carried;
- recordings: a consultation ended more than ``recording_retention_days`` ago loses its
  snapshots (files and links) and its recordings at the relay (``rooms`` of the result,
  deleted by the web node, which then sets ``media_purged_at``); an erased shopper's
  consultations too, whatever their age, until the relay has confirmed;
- guests: a guest (no verified e-mail) whose token expired more than
  ``guest_retention_days`` ago is erased at the brand (``erase.do_erase_shopper``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, or_, update
from sqlmodel import Session, col, select

from sessions.clock import utcnow
from sessions.models import (
    Brand,
    ChatMessage,
    LiveSession,
    SessionKind,
    Shopper,
    Thread,
    ThreadMessage,
)
from sessions.privacy.erase import do_erase_shopper, remove_files
from sessions.privacy.tables import find_rows

# A brand is purged at most this often, whichever node runs the job.
PURGE_EVERY = timedelta(hours=1)


@dataclass
class Purge:
    brand_id: int
    chat_messages: int = 0
    thread_messages: int = 0
    snapshots: int = 0
    guests: int = 0
    # Consultation rooms whose recordings the relay must now delete (live session id, room).
    rooms: list[tuple[int, str]] = field(default_factory=list)


def claim_brand(db: Session, brand_id: int, now: datetime, every: timedelta) -> datetime | None:
    """Win this brand's purge for this round; returns the previous purge's time (or the
    epoch), None when another node already has it."""
    brand = db.get(Brand, brand_id)
    previous = brand.purged_at if brand is not None else None
    db.commit()
    result = db.exec(
        update(Brand)
        .where(
            col(Brand.id) == brand_id,
            or_(col(Brand.purged_at).is_(None), col(Brand.purged_at) <= now - every),
        )
        .values(purged_at=now)
    )
    db.commit()
    if result.rowcount != 1:
        return None
    return previous or datetime.min.replace(tzinfo=now.tzinfo)


def do_purge_due(
    db: Session, *, upload_dir: Path, now: datetime | None = None, every: timedelta = PURGE_EVERY
) -> list[Purge]:
    """Purge every brand whose turn it is; returns what each purge did (claimed ones only)."""
    now = now or utcnow()
    brand_ids = list(db.exec(select(Brand.id).order_by(col(Brand.id))).all())
    db.commit()
    done = []
    for brand_id in brand_ids:
        assert brand_id is not None
        previous = claim_brand(db, brand_id, now, every)
        if previous is not None:
            done.append(
                do_purge_brand(db, brand_id, upload_dir=upload_dir, now=now, since=previous)
            )
    return done


def do_purge_brand(
    db: Session,
    brand_id: int,
    *,
    upload_dir: Path,
    now: datetime | None = None,
    since: datetime | None = None,
) -> Purge:
    now = now or utcnow()
    brand = db.get(Brand, brand_id)
    assert brand is not None
    chat_cutoff = now - timedelta(days=brand.chat_retention_days)
    media_cutoff = now - timedelta(days=brand.recording_retention_days)
    guest_days = timedelta(days=brand.guest_retention_days)
    db.commit()
    result = Purge(brand_id)
    _purge_chat(db, result, chat_cutoff, upload_dir)
    _purge_consultation_media(db, result, media_cutoff, upload_dir)
    _purge_guests(db, result, now - guest_days, since, upload_dir, now)
    return result


def _purge_chat(db: Session, result: Purge, cutoff: datetime, upload_dir: Path) -> None:
    sessions_of_brand = select(LiveSession.id).where(LiveSession.brand_id == result.brand_id)
    old = (
        col(ChatMessage.live_session_id).in_(sessions_of_brand),
        col(ChatMessage.created_at) < cutoff,
    )
    pictures = [p for p in db.exec(select(ChatMessage.attachment_path).where(*old)).all() if p]
    gone = db.exec(delete(ChatMessage).where(*old))
    threads_of_brand = select(Thread.id).where(Thread.brand_id == result.brand_id)
    gone_thread = db.exec(
        delete(ThreadMessage).where(
            col(ThreadMessage.thread_id).in_(threads_of_brand),
            col(ThreadMessage.created_at) < cutoff,
        )
    )
    db.commit()
    result.chat_messages, result.thread_messages = gone.rowcount, gone_thread.rowcount
    result.snapshots += remove_files(
        upload_dir, [p for p in pictures if p.startswith("snapshots/")]
    )


def _purge_consultation_media(
    db: Session, result: Purge, cutoff: datetime, upload_dir: Path
) -> None:
    erased = select(Shopper.id).where(col(Shopper.erased_at).is_not(None))
    due = db.exec(
        select(LiveSession).where(
            LiveSession.brand_id == result.brand_id,
            LiveSession.kind == SessionKind.CONSULTATION,
            col(LiveSession.media_purged_at).is_(None),
            or_(
                col(LiveSession.ended_at) < cutoff,
                col(LiveSession.shopper_id).in_(erased),
            ),
        )
    ).all()
    ids = [live.id for live in due if live.id is not None]
    result.rooms = [(live.id, live.room) for live in due if live.id is not None]
    if not ids:
        db.commit()
        return
    shots = col(ChatMessage.live_session_id).in_(ids), col(ChatMessage.attachment_path).is_not(None)
    pictures = [p for p in db.exec(select(ChatMessage.attachment_path).where(*shots)).all() if p]
    db.exec(update(ChatMessage).where(*shots).values(attachment_path=None))
    for live_id in ids:  # the same pictures, kept in the shopper's thread
        db.exec(
            update(ThreadMessage)
            .where(col(ThreadMessage.attachment_url).startswith(f"/snapshots/{live_id}/"))
            .values(attachment_url=None)
        )
    db.commit()
    result.snapshots += remove_files(
        upload_dir, [p for p in pictures if p.startswith("snapshots/")]
    )


def _purge_guests(
    db: Session,
    result: Purge,
    cutoff: datetime,
    since: datetime | None,
    upload_dir: Path,
    now: datetime,
) -> None:
    """Guests whose token expired before ``cutoff`` and had not at the last purge (each
    guest is erased at a brand once; a changed period starts over: ``purged_at`` reset)."""
    window = [
        col(Shopper.email_verified_at).is_(None),
        col(Shopper.erased_at).is_(None),
        col(Shopper.expires_at) < cutoff,
    ]
    if since is not None and since > datetime.min.replace(tzinfo=now.tzinfo):
        window.append(col(Shopper.expires_at) >= since - (now - cutoff))
    candidates = list(db.exec(select(Shopper.id).where(*window).order_by(col(Shopper.id))).all())
    db.commit()
    for shopper_id in candidates:
        assert shopper_id is not None
        if len(find_rows(db, shopper_id, brand_id=result.brand_id).rows) <= 1:
            continue  # nothing of theirs at this brand
        erasure = do_erase_shopper(
            db,
            shopper_id,
            upload_dir=upload_dir,
            brand_id=result.brand_id,
            reason="retention",
            scrub_shopper=True,
            now=now,
        )
        result.guests += 1
        result.rooms.extend(r for r in erasure.rooms if r not in result.rooms)
