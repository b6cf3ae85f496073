"""Erase a shopper (GDPR art. 17, PIPL art. 47): their personal data goes, the brand's
records stay.

One transaction: rows that exist only for the shopper are deleted (sign-in links,
reminders, waitlist entries, show reminders); every other row of theirs stays with its
personal columns replaced (``tables.RULES``): chat and thread messages read "[erased]",
name, e-mail and notes are emptied, so orders, bookings, bags, message counts and revenue
are unchanged. The pictures of their consultations are deleted from disk here; the relay's
recordings of those rooms are deleted by the web node (``web/privacy.py``), and retried by
the retention job until the relay confirms (``LiveSession.media_purged_at``). Their sockets
are closed (``shopper_erased``) and the browser's cookie names nobody any more.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, SQLModel

from sessions.access import Actor, access_shopper_data
from sessions.clock import utcnow
from sessions.errors import N_, NotFound
from sessions.events import publish
from sessions.models import Shopper
from sessions.privacy import audit
from sessions.privacy.tables import NEW_TOKEN, NEW_VIEWER_KEY, RULES, Delete, Found, find_rows

log = logging.getLogger(__name__)


@dataclass
class Erasure:
    shopper_id: int
    brand_id: int | None
    deleted: dict[str, int] = field(default_factory=dict)
    anonymised: dict[str, int] = field(default_factory=dict)
    files_removed: int = 0
    # Consultation rooms whose recordings the relay must delete (live session id, room).
    rooms: list[tuple[int, str]] = field(default_factory=list)


def snapshot_files(found: Found) -> list[str]:
    """The pictures of the shopper's rows kept under UPLOAD_DIR/snapshots (relative paths)."""
    paths = {
        row["attachment_path"]
        for row in found.rows.get("chat_messages", {}).values()
        if (row.get("attachment_path") or "").startswith("snapshots/")
    }
    return sorted(paths)


def consultation_rooms(found: Found) -> list[tuple[int, str]]:
    return sorted(
        (row["id"], row["room"])
        for row in found.rows.get("live_sessions", {}).values()
        if str(getattr(row["kind"], "value", row["kind"])) == "consultation"
    )


def remove_files(upload_dir: Path, paths: list[str]) -> int:
    """Delete these files under ``upload_dir`` (a path leaving it is refused)."""
    root = upload_dir.resolve()
    removed = 0
    for relative in paths:
        path = (root / relative).resolve()
        if not path.is_relative_to(root):
            continue
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed


def do_erase_shopper(
    db: Session,
    shopper_id: int,
    *,
    upload_dir: Path,
    brand_id: int | None = None,
    by: Actor | None = None,
    reason: str = "request",
    now: datetime | None = None,
    scrub_shopper: bool | None = None,
) -> Erasure:
    """Erase the shopper everywhere (``brand_id`` None) or at one brand. Idempotent.

    The ``shoppers`` row itself (name, e-mail, the cookie's token) is shared by every brand
    the shopper visits: an erasure at one brand leaves it, unless ``scrub_shopper`` (the
    retention job erasing a guest whose token has long expired)."""
    now = now or utcnow()
    whole = brand_id is None if scrub_shopper is None else scrub_shopper
    found = find_rows(db, shopper_id, brand_id=brand_id)
    if not found.rows:
        raise NotFound(N_("No shopper with id %(id)s."), params={"id": shopper_id})
    result = Erasure(shopper_id, brand_id, rooms=consultation_rooms(found))
    files = snapshot_files(found)
    fresh = {NEW_TOKEN: f"erased-{secrets.token_hex(16)}", NEW_VIEWER_KEY: secrets.token_hex(16)}
    meta = SQLModel.metadata.tables
    # Children first, so a delete never trips over a foreign key (either database).
    for table in reversed(SQLModel.metadata.sorted_tables):
        ids = found.ids(table.name)
        if not ids or (table.name == "shoppers" and not whole):
            continue
        rule = RULES.get(table.name)
        if rule is None:  # a table the walk reached that nobody ruled on: keep it untouched
            log.error("privacy: no erasure rule for table %s", table.name)
            continue
        if isinstance(rule, Delete):
            db.execute(delete(meta[table.name]).where(meta[table.name].c.id.in_(ids)))
            result.deleted[table.name] = len(ids)
            continue
        values = {k: fresh.get(v, v) if _hashable(v) else v for k, v in rule.scrub.items()}
        if values:
            db.execute(update(table).where(table.c.id.in_(ids)).values(**values))
        if rule.own:
            own = [i for i in ids if _written_by(found.rows[table.name][i], shopper_id)]
            if own:
                db.execute(update(table).where(table.c.id.in_(own)).values(**dict(rule.own)))
        if values or rule.own:
            result.anonymised[table.name] = len(ids)
    if whole:
        shopper = db.get(Shopper, shopper_id)
        assert shopper is not None
        shopper.erased_at = now if brand_id is None else shopper.erased_at
        shopper.email_verified_at = None
        db.add(shopper)
    audit.record(
        db,
        by,
        "shopper.erase",
        f"shopper:{shopper_id}",
        {"reason": reason, "brand_id": brand_id, "deleted": result.deleted},
        brand_id=brand_id if brand_id is not None else (by.brand_id if by else None),
    )
    db.commit()
    result.files_removed = remove_files(upload_dir, files)
    if whole:  # their open sockets close now, on every node
        publish("shopper_erased", None, f"shopper:{shopper_id}", shopper_id=shopper_id)
    return result


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _written_by(row: dict[str, Any], shopper_id: int) -> bool:
    """The shopper wrote this row themself (their message, their question)."""
    if row.get("shopper_id") == shopper_id:
        return True
    side = row.get("side")
    return str(getattr(side, "value", side)) == "shopper"


def erase_for(
    db: Session, actor: Actor, shopper_id: int, brand_id: int | None, *, upload_dir: Path
) -> Erasure:
    """Erase as this person may: the shopper themself, everywhere; a brand's admin, at
    their brand; a platform admin, everywhere or at the brand named."""
    shopper = db.get(Shopper, shopper_id)
    db.commit()
    if shopper is None:
        raise NotFound(N_("No shopper with id %(id)s."), params={"id": shopper_id})
    scope = access_shopper_data(actor, shopper_id, brand_id)
    if scope is not None and len(find_rows(db, shopper_id, brand_id=scope).rows) <= 1:
        raise NotFound(N_("No shopper with id %(id)s at this brand."), params={"id": shopper_id})
    return do_erase_shopper(
        db, shopper_id, upload_dir=upload_dir, brand_id=scope, by=actor if actor.is_staff else None
    )


def do_mark_media_purged(
    db: Session, live_session_ids: list[int], now: datetime | None = None
) -> None:
    """The relay confirmed these rooms' recordings are gone."""
    if not live_session_ids:
        return
    from sessions.models import LiveSession

    table = LiveSession.__table__  # type: ignore[attr-defined]
    db.execute(
        update(table)
        .where(table.c.id.in_(live_session_ids))
        .values(media_purged_at=now or utcnow())
    )
    db.commit()
