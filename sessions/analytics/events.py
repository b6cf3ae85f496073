"""Recording analytics events: one row per fact, written once by the action that saw it.

Kinds (``AnalyticsEvent.kind``):

- ``join`` / ``heartbeat`` / ``leave``: one viewing of a session (a socket in its room),
  tied together by ``view_id``; ``mode`` is "live" until the session ends, "replay" after.
  Web nodes write a heartbeat for each of their viewings every minute, so a viewing
  whose node died without a ``leave`` still ends at its last heartbeat.
- ``product_click``: a viewer opened a product card (``product_id``).
- ``pin`` / ``unpin``: the host pinned or unpinned a product.
- ``showing``: the host marked a pinned product "showing now" (``product_id``; none: cleared).
- ``hearts``: a batch of hearts (``value_minor`` holds the count).
- ``add_to_bag``: ``value_minor`` = unit price x quantity, ``product_id``, ``mode``.
- ``checkout_handoff``: ``value_minor`` = bag total, ``live_session_id`` = the session the
  bag's lines came from.
- ``associate_status``: an associate went online, away or offline (``detail``), for
  service coverage.
- ``poll_vote``: a viewer voted in a show's poll (``detail`` = the poll's id).
- ``question``: a viewer asked the host a question (``detail`` = the question's id).
- ``question_upvote``: a viewer upvoted a question (``detail`` = the question's id).

Chat messages are not copied here: ``chat_messages`` already stores each once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from sessions.access import Actor, can_host
from sessions.errors import N_, InvalidInput, NotFound
from sessions.models import AnalyticsEvent, AssociateProfile, LiveSession, Product, SessionStatus
from sessions.ratelimit import RateLimiter

JOIN = "join"
HEARTBEAT = "heartbeat"
LEAVE = "leave"
PRODUCT_CLICK = "product_click"
PIN = "pin"
UNPIN = "unpin"
SHOWING = "showing"
HEARTS = "hearts"
ADD_TO_BAG = "add_to_bag"
HANDOFF = "checkout_handoff"
ASSOCIATE_STATUS = "associate_status"
POLL_VOTE = "poll_vote"
QUESTION = "question"
QUESTION_UPVOTE = "question_upvote"
VIEWING_KINDS = (JOIN, HEARTBEAT, LEAVE)
LIVE = "live"
REPLAY = "replay"
MAX_VIEW_ID = 64
# A viewer opening cards faster than a person could is not counted (nor stored).
click_limiter = RateLimiter(
    "product_click", "20 per 10 seconds", N_("Too many product clicks; wait %(wait)s s.")
)


def mode_of(live: LiveSession | None) -> str:
    """A session that has ended is watched as a replay; before that, live (or waiting)."""
    if live is None:
        return ""
    return REPLAY if live.status is SessionStatus.ENDED else LIVE


def event_for(
    live: LiveSession,
    kind: str,
    *,
    shopper_id: int | None = None,
    value_minor: int = 0,
    product_id: int | None = None,
    view_id: str | None = None,
    viewer_key: str | None = None,
    detail: str = "",
) -> AnalyticsEvent:
    """A row for an event in a session; the caller adds it inside its own transaction."""
    return AnalyticsEvent(
        brand_id=live.brand_id,
        kind=kind,
        live_session_id=live.id,
        associate_id=live.associate_id,
        shopper_id=shopper_id,
        value_minor=value_minor,
        product_id=product_id,
        view_id=view_id,
        viewer_key=viewer_key,
        mode=mode_of(live),
        detail=detail,
    )


def _check_view_id(view_id: object) -> str:
    if not isinstance(view_id, str) or not 0 < len(view_id) <= MAX_VIEW_ID:
        raise InvalidInput("A viewing is named by a short string.", field="view_id")
    return view_id


def _is_viewer(actor: Actor, live: LiveSession) -> bool:
    """Hosts are on stage, not in the audience: their presence is not a view."""
    return not can_host(actor, live)


def viewer_key_of(browser_key: str | None) -> str | None:
    """The pseudonym analytics keeps for a browser's guest key (the key is a credential)."""
    if not browser_key:
        return None
    return hashlib.sha256(f"vitrine-viewer:{browser_key}".encode()).hexdigest()[:32]


def do_record_join(
    db: Session, actor: Actor, live: LiveSession, view_id: str, viewer_key: str | None = None
) -> bool:
    """A viewer entered the room; returns False (nothing stored) for a host."""
    if not _is_viewer(actor, live):
        return False
    db.add(
        event_for(
            live,
            JOIN,
            shopper_id=actor.shopper_id,
            view_id=_check_view_id(view_id),
            viewer_key=viewer_key,
        )
    )
    db.commit()
    if live.show_id is not None and actor.shopper_id is not None:
        from sessions.models import Show
        from sessions.service import activity  # the shopper's thread notes the show

        show = db.get(Show, live.show_id)
        if show is not None:
            activity.note_show_watched(db, live.brand_id, actor.shopper_id, show_title=show.title)
    return True


def do_record_leave(
    db: Session,
    actor: Actor,
    live_session_id: int,
    view_id: str,
    viewer_key: str | None = None,
) -> bool:
    live = db.get(LiveSession, live_session_id)
    if live is None or not _is_viewer(actor, live):
        return False
    db.add(
        event_for(
            live,
            LEAVE,
            shopper_id=actor.shopper_id,
            view_id=_check_view_id(view_id),
            viewer_key=viewer_key,
        )
    )
    db.commit()
    return True


@dataclass(frozen=True)
class Viewing:
    live_session_id: int
    view_id: str
    shopper_id: int | None
    viewer_key: str | None = None


def do_record_heartbeats(db: Session, viewings: Iterable[Viewing]) -> int:
    """One heartbeat per viewing still open on this node, in one commit."""
    rows = []
    sessions: dict[int, LiveSession | None] = {}
    for viewing in viewings:
        if viewing.live_session_id not in sessions:
            sessions[viewing.live_session_id] = db.get(LiveSession, viewing.live_session_id)
        live = sessions[viewing.live_session_id]
        if live is not None:
            rows.append(
                event_for(
                    live,
                    HEARTBEAT,
                    shopper_id=viewing.shopper_id,
                    view_id=viewing.view_id,
                    viewer_key=viewing.viewer_key,
                )
            )
    db.add_all(rows)
    db.commit()
    return len(rows)


def do_record_product_click(
    db: Session, actor: Actor, live: LiveSession, product_id: object
) -> None:
    """A viewer opened a product card in the room."""
    if not isinstance(product_id, int) or isinstance(product_id, bool):
        raise InvalidInput("product_id must be a number.", field="product_id")
    product = db.get(Product, product_id)
    if product is None or product.brand_id != live.brand_id:
        raise NotFound("No such product in this brand's catalogue.")
    if not _is_viewer(actor, live):
        return
    # Outside any transaction (as threads do): on SQLite an open one, even a read, holds
    # the write lock, and the limiter may wait on Redis; the write opens its own.
    key = f"{live.room}:{actor.identity}"
    db.commit()
    click_limiter.hit(key)
    db.add(event_for(live, PRODUCT_CLICK, shopper_id=actor.shopper_id, product_id=product_id))
    db.commit()


def status_event(profile: AssociateProfile, at: datetime) -> AnalyticsEvent:
    """A row for an associate's change of status; the caller adds it to its own commit."""
    return AnalyticsEvent(
        brand_id=profile.brand_id,
        kind=ASSOCIATE_STATUS,
        associate_id=profile.id,
        detail=profile.status.value,
        created_at=at,
    )
