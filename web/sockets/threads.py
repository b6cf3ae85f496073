"""Socket.IO handlers of the service desk: typing in a thread, the console's heartbeat.

Messages, read markers and the inbox's actions go through the JSON API (stored, then
published); what arrives live is delivered by the events sink to the personal and
staff rooms each socket joined on connect. Typing is an event only: never stored.

A console socket says it is one by its heartbeat (``console_heartbeat``, every 30
seconds while the associate is active, see web/static/js/console-inbox.js): that is
the sign of life auto-away counts (sessions/service/routing.py). When this node's
last console socket of an associate goes, the associate is away at once; a console
of theirs on another node brings them back with its next heartbeat.
"""

from __future__ import annotations

import threading

from sessions.catalogue import get_or_404
from sessions.errors import Forbidden
from sessions.i18n import N_
from sessions.models import AssociateProfile
from sessions.service import routing, threads
from web.db import db
from web.sockets.handlers import Ack, _client, _int, _sid, event

_consoles: dict[str, int] = {}  # sid -> associate id, for this node's console sockets
_lock = threading.Lock()


@event("thread_typing")
def on_thread_typing(data: dict[str, object]) -> Ack:
    thread_id = _int(data, "thread_id")
    assert thread_id is not None
    thread = threads.thread_or_404(db(), thread_id)
    threads.do_typing(db(), _client().actor, thread)
    db().commit()  # end the read: no transaction (SQLite's write lock) held while idle
    return {"ok": True}


@event("console_heartbeat")
def on_console_heartbeat(data: dict[str, object]) -> Ack:
    actor = _client().actor
    if actor.associate_id is None:
        raise Forbidden("Only an associate's console has a heartbeat.", code="not_associate")
    profile = get_or_404(db(), AssociateProfile, actor.associate_id, N_("associate"))
    with _lock:
        _consoles[_sid()] = actor.associate_id
    threads.do_console_heartbeat(db(), profile)
    return {"ok": True, "status": profile.status.value}


def console_gone(sid: str) -> None:
    """A socket closed: if it was this node's last console of its associate, they are away."""
    with _lock:
        associate_id = _consoles.pop(sid, None)
        still_open = associate_id in _consoles.values()
    if associate_id is not None and not still_open:
        routing.do_console_closed(db(), associate_id)
