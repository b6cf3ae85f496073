"""A try-on snapshot as a chat message. No Flask here: it belongs beside
`do_push_product` in `sessions/live.py` once that module's owner takes it."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from sessions import live as live_actions
from sessions.access import Actor, access_host
from sessions.errors import Conflict
from sessions.events import publish
from sessions.models import ChatMessage, LiveSession, MessageKind, SessionStatus


def do_send_snapshot(
    db: Session, actor: Actor, live: LiveSession, attachment_path: str, caption: str = ""
) -> dict[str, Any]:
    access_host(actor, live)
    if live.status is SessionStatus.ENDED:
        raise Conflict("This session has ended.", code="ended")
    assert live.id is not None
    msg = ChatMessage(
        live_session_id=live.id,
        kind=MessageKind.SNAPSHOT,
        user_id=actor.user_id,
        author_name=actor.name[:120],
        body=caption.strip()[:500] or "A picture for you",
        attachment_path=attachment_path,
    )
    db.add(msg)
    db.commit()
    out = live_actions.message_out(msg, "host")
    publish("message", live.room, message=out)
    return out
