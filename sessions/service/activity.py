"""One thread across channels: the notes of what the shopper did elsewhere.

The shopper's thread with a brand is the one history the associate reads (the inbox's
conversation and its history panel): besides chat, it notes a talk-now consultation
started and ended, a booked consultation booked, moved and cancelled, a show watched,
a piece added to the bag and a sign-in on another device. Each is a system note
(``threads.do_note_in_thread``), stored then pushed like any message.

The calls sit in the actions of those channels, after their commit. Consultations make
the thread if the shopper has none yet (they are a conversation with the brand); the
light moments (a show watched, an add to the bag, a sign-in) are noted only in a thread
that already exists, so browsing a show never makes rows for every viewer. A show is
noted once per thread.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from sessions.models import (
    Appointment,
    AssociateProfile,
    Store,
    ThreadMessage,
    ThreadMessageKind,
)
from sessions.service.threads import do_note_in_thread, do_post_system, thread_of


def _when(db: Session, appointment: Appointment) -> str:
    store = db.get(Store, appointment.store_id)
    zone = store.timezone if store is not None else "UTC"
    local = appointment.starts_at.astimezone(ZoneInfo(zone))
    city = zone.rsplit("/", 1)[-1].replace("_", " ")
    return f"{local:%a %d %b, %H:%M} ({city} time)"


def _associate(db: Session, associate_id: int | None) -> str:
    profile = db.get(AssociateProfile, associate_id) if associate_id is not None else None
    return profile.display_name if profile is not None else "an associate"


def _note_if_thread(
    db: Session, brand_id: int, shopper_id: int, text: str, now: datetime | None = None
) -> bool:
    thread = thread_of(db, brand_id, shopper_id)
    if thread is None:
        return False
    do_post_system(db, thread, text, now=now)
    return True


# --- consultations: talk now and booked -----------------------------------------------------


def note_talk_now_started(
    db: Session, brand_id: int, shopper_id: int, *, mode: str, associate_name: str
) -> None:
    channel = "Video" if mode == "video" else "Talk-now chat"
    do_note_in_thread(db, brand_id, shopper_id, f"{channel} started with {associate_name}")


def note_consultation_ended(
    db: Session, brand_id: int, shopper_id: int, *, now: datetime | None = None
) -> None:
    do_note_in_thread(db, brand_id, shopper_id, "Video ended", now=now)


def note_booked(db: Session, appointment: Appointment) -> None:
    who = _associate(db, appointment.associate_id)
    text = f"Booked a video consultation with {who} for {_when(db, appointment)}"
    do_note_in_thread(db, appointment.brand_id, appointment.shopper_id, text)


def note_moved(db: Session, appointment: Appointment) -> None:
    text = f"Moved the video consultation to {_when(db, appointment)}"
    do_note_in_thread(db, appointment.brand_id, appointment.shopper_id, text)


def note_cancelled(db: Session, appointment: Appointment, *, by: str) -> None:
    if by == "associate":
        who = _associate(db, appointment.associate_id)
        text = f"{who} cancelled the video consultation of {_when(db, appointment)}"
    else:
        text = f"Cancelled the video consultation of {_when(db, appointment)}"
    do_note_in_thread(db, appointment.brand_id, appointment.shopper_id, text)


# --- the light moments: only into a thread that exists ---------------------------------------


def note_show_watched(db: Session, brand_id: int, shopper_id: int, *, show_title: str) -> bool:
    """Once per show and thread ("Watched the show “Silk, live”")."""
    text = f"Watched the show “{show_title}”"
    thread = thread_of(db, brand_id, shopper_id)
    if thread is None:
        return False
    seen = db.exec(
        select(ThreadMessage.id).where(
            ThreadMessage.thread_id == thread.id,
            ThreadMessage.kind == ThreadMessageKind.SYSTEM,
            ThreadMessage.body == text,
        )
    ).first()
    if seen is not None:
        return False
    do_post_system(db, thread, text)
    return True


def note_added_to_bag(
    db: Session,
    brand_id: int,
    shopper_id: int,
    *,
    product_name: str,
    size: str | None,
    quantity: int,
    by_staff: str | None = None,
) -> bool:
    what = f"{quantity} × {product_name}" + (f" ({size})" if size else "")
    text = f"{by_staff} added {what} to the bag" if by_staff else f"Added {what} to the bag"
    return _note_if_thread(db, brand_id, shopper_id, text)


def note_signed_in(
    db: Session, brand_id: int, shopper_id: int, *, now: datetime | None = None
) -> bool:
    text = "Signed in on another device (e-mail link)"
    return _note_if_thread(db, brand_id, shopper_id, text, now)
