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
from typing import Any

from sqlmodel import Session, select

from sessions.i18n import N_, Moment, Phrase, english
from sessions.models import (
    Appointment,
    AssociateProfile,
    Store,
    ThreadMessage,
    ThreadMessageKind,
)
from sessions.service.threads import do_note_in_thread, do_post_system, thread_of


def _when(db: Session, appointment: Appointment) -> Moment:
    store = db.get(Store, appointment.store_id)
    zone = store.timezone if store is not None else "UTC"
    return Moment(appointment.starts_at, zone)


def _associate(db: Session, associate_id: int | None) -> str:
    profile = db.get(AssociateProfile, associate_id) if associate_id is not None else None
    return profile.display_name if profile is not None else Phrase(N_("an associate"))


def _note_if_thread(
    db: Session,
    brand_id: int,
    shopper_id: int,
    msgid: str,
    params: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> bool:
    thread = thread_of(db, brand_id, shopper_id)
    if thread is None:
        return False
    do_post_system(db, thread, msgid, params, now=now)
    return True


# --- consultations: talk now and booked -----------------------------------------------------


def note_talk_now_started(
    db: Session, brand_id: int, shopper_id: int, *, mode: str, associate_name: str
) -> None:
    if mode == "video":
        msgid = N_("Video started with %(name)s")
    else:
        msgid = N_("Talk-now chat started with %(name)s")
    do_note_in_thread(db, brand_id, shopper_id, msgid, {"name": associate_name})


def note_consultation_ended(
    db: Session, brand_id: int, shopper_id: int, *, now: datetime | None = None
) -> None:
    do_note_in_thread(db, brand_id, shopper_id, N_("Video ended"), now=now)


def note_booked(db: Session, appointment: Appointment) -> None:
    params = {"name": _associate(db, appointment.associate_id), "when": _when(db, appointment)}
    msgid = N_("Booked a video consultation with %(name)s for %(when)s")
    do_note_in_thread(db, appointment.brand_id, appointment.shopper_id, msgid, params)


def note_moved(db: Session, appointment: Appointment) -> None:
    msgid = N_("Moved the video consultation to %(when)s")
    params = {"when": _when(db, appointment)}
    do_note_in_thread(db, appointment.brand_id, appointment.shopper_id, msgid, params)


def note_cancelled(db: Session, appointment: Appointment, *, by: str) -> None:
    params: dict[str, Any] = {"when": _when(db, appointment)}
    if by == "associate":
        params["name"] = _associate(db, appointment.associate_id)
        msgid = N_("%(name)s cancelled the video consultation of %(when)s")
    else:
        msgid = N_("Cancelled the video consultation of %(when)s")
    do_note_in_thread(db, appointment.brand_id, appointment.shopper_id, msgid, params)


# --- the light moments: only into a thread that exists ---------------------------------------


def note_show_watched(db: Session, brand_id: int, shopper_id: int, *, show_title: str) -> bool:
    """Once per show and thread ("Watched the show “Silk, live”")."""
    msgid, params = N_("Watched the show “%(title)s”"), {"title": show_title}
    thread = thread_of(db, brand_id, shopper_id)
    if thread is None:
        return False
    seen = db.exec(
        select(ThreadMessage.id).where(
            ThreadMessage.thread_id == thread.id,
            ThreadMessage.kind == ThreadMessageKind.SYSTEM,
            ThreadMessage.body == english(msgid, params),
        )
    ).first()
    if seen is not None:
        return False
    do_post_system(db, thread, msgid, params)
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
    if by_staff:
        msgid, params = N_("%(name)s added %(what)s to the bag"), {"name": by_staff, "what": what}
    else:
        msgid, params = N_("Added %(what)s to the bag"), {"what": what}
    return _note_if_thread(db, brand_id, shopper_id, msgid, params)


def note_signed_in(
    db: Session, brand_id: int, shopper_id: int, *, now: datetime | None = None
) -> bool:
    msgid = N_("Signed in on another device (e-mail link)")
    return _note_if_thread(db, brand_id, shopper_id, msgid, now=now)
