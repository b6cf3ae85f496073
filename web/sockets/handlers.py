"""Socket.IO handlers of the live rooms: parse, check access, call an action, ack.

Acks are ``{"ok": true, ...}`` or ``{"ok": false, "error": code, "message": text}``.
Every handler goes through the access layer (inside the ``do_*`` actions or
``check_can_enter``); a socket must have joined a session to act in it.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from flask import g, request
from flask_babel import gettext
from flask_socketio import disconnect

from sessions import bags
from sessions import live as live_actions
from sessions.access import Actor, ActorKind, can_host, can_receive, can_see_room_bag
from sessions.analytics import events as analytics
from sessions.db import writable
from sessions.errors import N_, DomainError, Forbidden, InvalidInput, NotAuthenticated
from sessions.events import Address, Audience
from sessions.models import LiveSession, SanctionKind, SessionStatus
from sessions.ratelimit import RateLimiter
from sessions.shows import invitees
from sessions.shows.cohost import cohost_in_room, show_cohost_state
from sessions.shows.questions import room_interaction, viewer_interaction
from web import identity
from web.db import db
from web.errors import error_text, transient_database_error
from web.extensions import socketio
from web.identity import current_actor, signed_in_user
from web.sockets import heartbeats, state
from web.sockets.delivery import hosts_room, shopper_room, socket_room
from web.sockets.snapshots import shared_part, shared_room_state

log = logging.getLogger(__name__)
Ack = dict[str, Any]
# Per person, not per socket: a shopper with two tabs or two nodes has one budget.
heart_limiter = RateLimiter(
    "hearts", "30 per 3 seconds", N_("Too many hearts at once; wait %(wait)s s.")
)


COHOST = "cohost"


@dataclass
class Joined:
    room: str
    role: str


@dataclass
class Client:
    """What this node knows of one socket: who it is and which sessions it joined."""

    actor: Actor
    joined: dict[int, Joined] = field(default_factory=dict)
    # A guest key not yet turned into a shopper: the first action does (see _acting).
    guest_key: str | None = None
    # The browser's pseudonym in analytics (the same in every tab, before and after acting).
    viewer_key: str | None = None
    # Connected with an embed token: the brand it is for (its rooms only).
    embed_brand_id: int | None = None
    # The personal links of private shows this browser took a pass with {show: invitee}.
    invitees: dict[int, int] = field(default_factory=dict)


_clients: dict[str, Client] = {}
# Registered on each new Socket.IO server (an app factory may build several, tests do).
_EVENTS: list[tuple[str, Callable[..., Any]]] = []
_lock = threading.Lock()


def _sid() -> str:
    return str(request.sid)  # type: ignore[attr-defined]


def _client() -> Client:
    client = _clients.get(_sid())
    if client is None:  # an event raced the connect handler's bookkeeping
        client = _clients.setdefault(_sid(), Client(actor=current_actor()))
    return client


def _int(data: dict[str, Any], name: str, *, required: bool = True) -> int | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**31:
        raise InvalidInput(
            N_("%(name)s must be a positive whole number."), params={"name": name}, field=name
        )
    return value


def _live(data: dict[str, Any], *, must_have_joined: bool = True) -> LiveSession:
    session_id = _int(data, "session_id")
    assert session_id is not None
    if must_have_joined and session_id not in _client().joined:
        raise Forbidden("Join the session first.", code="not_joined")
    return live_actions.live_or_404(db(), session_id)


def event(
    name: str, *, reads_only: bool = False
) -> Callable[[Callable[[dict[str, Any]], Ack | None]], Callable[..., Ack]]:
    """Register a handler that receives a dict and returns an ack; errors become acks.

    ``reads_only``: the handler reads in autocommit as a ``@reads_only`` view does
    (web/db.py) and writes only through ``sessions.db.writable``: a thousand joins when a
    show starts then take no transaction, nor SQLite's write lock, for their reads."""

    def decorator(fn: Callable[[dict[str, Any]], Ack | None]) -> Callable[..., Ack]:
        @functools.wraps(fn)
        def handler(data: Any = None, *_: Any) -> Ack:
            if not reads_only:
                return handle(data)
            had_session = "db_session" in g
            g.vitrine_reads_only = True
            try:
                return handle(data)
            finally:
                # An event has an app context (g, session) of its own, except under a test
                # that holds one around it: then the reads-only session must not outlive it.
                g.pop("vitrine_reads_only", None)
                if not had_session and "db_session" in g:
                    g.pop("db_session").close()

        def handle(data: Any) -> Ack:
            try:
                _check_still_signed_in()
                if not isinstance(data, dict):
                    raise InvalidInput("Send the event's data as an object.")
                return fn(data) or {"ok": True}
            except DomainError as exc:
                db().rollback()
                return {"ok": False, **exc.to_dict(), "message": error_text(exc)}
            except Exception as exc:
                db().rollback()
                transient = transient_database_error(exc)
                if transient is not None:  # overloaded or restarting: try again, not a bug
                    log.warning("socket event %s: database %s: %s", name, transient[0], exc)
                    return _busy_ack(*transient)
                log.exception("socket event %s failed", name)
                return {"ok": False, "error": "internal", "message": "Something went wrong."}

        _EVENTS.append((name, handler))
        return handler

    return decorator


def _busy_ack(code: str, retry_after: int) -> Ack:
    message = (
        gettext("We are very busy. Please try again.")
        if code == "busy"
        else gettext("We cannot reach our database right now. Try again soon.")
    )
    return {"ok": False, "error": code, "message": message, "retry_after": retry_after}


def _check_still_signed_in() -> None:
    """The backstop of ending sessions: a staff socket whose sessions were ended (sign-out,
    password change, deactivation) is closed at once by the event; should it act before
    that reaches this node, it is refused and closed here."""
    client = _clients.get(_sid())
    if client is None or client.actor.user_id is None:
        return
    if signed_in_user() is None:  # reads this socket's copy of the cookie
        disconnect()
        raise NotAuthenticated("Your session has ended. Sign in again.", code="session_ended")


# --- connection --------------------------------------------------------------


def register() -> None:
    for name, handler in _EVENTS:
        socketio.on(name)(handler)


def _connecting_client(auth: Any) -> Client:
    """The cookie's actor; inside a cross-site embed (no cookie) the embed's signed token.

    A guest who has not acted yet is anonymous here, with the key their first
    action turns into a shopper: connecting creates no row."""
    actor = current_actor()
    if actor.shopper_id is not None:
        identity.touch_shopper(actor.shopper_id, g.get("shopper_expires_at"))
    if actor.kind is not ActorKind.ANONYMOUS:
        return Client(actor=actor)
    if isinstance(auth, dict) and auth.get("embed_token"):
        try:
            from web.shop.embed import guest_from_embed_token
        except ImportError:  # the shop pages are not installed
            return Client(actor=actor)
        guest = guest_from_embed_token(auth["embed_token"])
        if guest is None:
            return Client(actor=actor)
        return Client(
            actor=guest.actor or actor,
            guest_key=None if guest.actor else guest.key,
            viewer_key=analytics.viewer_key_of(guest.key),
            embed_brand_id=guest.brand_id,
        )
    return Client(actor=actor, guest_key=identity.guest_key())


def on_connect(auth: Any = None) -> bool:
    client = _connecting_client(auth)
    client.invitees = identity.standing_invitee_passes()
    if client.viewer_key is None:  # the cookie's key: its shopper's token, or one not used yet
        client.viewer_key = analytics.viewer_key_of(identity.guest_key())
    with _lock:
        _clients[_sid()] = client
    for address in _personal_addresses(client.actor):
        if can_receive(client.actor, address):
            socketio.server.enter_room(_sid(), str(socket_room(address, None)), namespace="/")
    heartbeats.start(state.delivery().app)
    return True


def _personal_addresses(actor: Actor) -> list[Address]:
    """The event rooms this actor names: the shopper's, the associate's, the brand staff's,
    and the staff member's own (so ending their sessions closes this socket on any node)."""
    named = [
        (Audience.SHOPPER, actor.shopper_id),
        (Audience.ASSOCIATE, actor.associate_id),
        (Audience.BRAND_STAFF, actor.brand_id),
        (Audience.USER, actor.user_id),
    ]
    return [Address(audience, id) for audience, id in named if id is not None]


def _acting() -> Actor:
    """The socket's actor for an action that needs a shopper: a guest's first action
    creates the row from its key (rate-limited per address, like over HTTP)."""
    client = _client()
    if client.actor.kind is not ActorKind.ANONYMOUS or client.guest_key is None:
        return client.actor
    client.actor = identity.shopper_for_key(client.guest_key)
    client.guest_key = None
    assert client.actor.shopper_id is not None
    sid = _sid()
    socketio.server.enter_room(sid, shopper_room(client.actor.shopper_id), namespace="/")
    entry = {"shopper_id": client.actor.shopper_id, "name": client.actor.name, "role": "viewer"}
    for live_id, joined in client.joined.items():  # hosts now see who this viewer is
        state.delivery().presence.add(joined.room, sid, {**entry, "role": joined.role})
        state.delivery().presence_changed(joined.room, live_id)
    return client.actor


_EVENTS.append(("connect", on_connect))


def on_disconnect(*_: Any) -> None:
    with _lock:
        client = _clients.pop(_sid(), None)
    from web.sockets.threads import console_gone  # the service desk's console sockets

    console_gone(_sid())
    if client is None:
        return
    for live_id, joined in client.joined.items():
        state.delivery().presence.remove(joined.room, _sid())
        state.delivery().presence_changed(joined.room, live_id)
        if joined.role != COHOST:
            analytics.do_record_leave(db(), client.actor, live_id, _sid(), client.viewer_key)


_EVENTS.append(("disconnect", on_disconnect))


@event("join", reads_only=True)
def on_join(data: dict[str, Any]) -> Ack:
    live = _live(data, must_have_joined=False)
    last_id = _int(data, "last_id", required=False)
    client = _client()
    if client.embed_brand_id is not None and client.embed_brand_id != live.brand_id:
        raise Forbidden("This embed is for another brand's shows.")
    actor = client.actor
    sanction = live_actions.check_can_enter(db(), actor, live)
    assert live.id is not None
    role = _role(actor, live)
    sid = _sid()
    # Enter the room before reading history: a message stored after the read is
    # then delivered live; one stored before is in the history (the client drops repeats).
    socketio.server.enter_room(sid, live.room, namespace="/")
    if role == "host":
        socketio.server.enter_room(sid, hosts_room(live.room), namespace="/")
    client.joined[live.id] = Joined(room=live.room, role=role)
    entry = {"shopper_id": actor.shopper_id, "name": actor.name, "role": role}
    state.delivery().presence.add(live.room, sid, entry)
    state.delivery().presence_changed(live.room, live.id)
    if role != COHOST:  # the co-host's page watches nothing: no viewing to record
        with writable(db(), forget=False) as writer:  # a row of its own: nothing to reload
            analytics.do_record_join(writer, actor, live, sid, _client().viewer_key)
    invitee_id = client.invitees.get(live.show_id or 0)
    if invitee_id is not None and live.status is SessionStatus.LIVE and role == "viewer":
        with writable(db(), forget=False) as writer:  # "watched" on the brand's list
            invitees.note_watched(writer, invitee_id)
    # Read after entering the room: a change whose push has not reached this node yet
    # comes to this socket as that push (web/sockets/snapshots.py).
    room_state = dict(shared_room_state(live))
    room_state["viewers"] = state.delivery().presence.count(live.room)
    room_state["bag"] = _bag_for(actor, live)
    if live.show_id is not None:  # a show's polls and questions (the replay shows them too)
        room_state["interaction"] = _interaction(live, actor.shopper_id)
        room_state["cohost"] = _cohost(live, live.show_id)
    return {
        "ok": True,
        "role": role,
        "state": room_state,
        "history": live_actions.history(db(), live, last_id=last_id),
        "muted": sanction is not None,
    }


def _interaction(live: LiveSession, shopper_id: int | None) -> dict[str, Any]:
    """The polls and questions alike for every viewer, from the node's copy of the room
    (dropped by the ``poll`` and ``question`` pushes), and this viewer's own votes."""
    shared = shared_part(live, "interaction", lambda: room_interaction(db(), live))
    return {**shared, **viewer_interaction(db(), live, shopper_id)}


def _cohost(live: LiveSession, show_id: int) -> dict[str, Any] | None:
    """The co-host's part of the room (pushed as ``cohost``), from the node's copy. Who
    *is* the co-host (``_role``) is still read from the database: it decides a role."""
    return cast(
        "dict[str, Any] | None",
        shared_part(live, "cohost", lambda: show_cohost_state(db(), show_id)),
    )


def _role(actor: Actor, live: LiveSession) -> str:
    """The socket's part in the room: ``host`` (the host side: it hears the hosts' room),
    ``cohost`` (the show's co-host's page) or ``viewer``. Only viewers are counted
    (web/sockets/presence.py); the co-host's page hears the room as a viewer does."""
    if can_host(actor, live):
        return "host"
    if live.show_id is not None and cohost_in_room(db(), actor, live.show_id) is not None:
        return COHOST
    return "viewer"


def _bag_for(actor: Actor, live: LiveSession) -> dict[str, Any] | None:
    from sessions.models import Brand

    if not can_see_room_bag(actor, live):
        return None
    brand = db().get(Brand, live.brand_id)
    assert brand is not None
    return bags.shopper_bag(db(), actor, brand, live)


@event("leave")
def on_leave(data: dict[str, Any]) -> Ack:
    session_id = _int(data, "session_id")
    joined = _client().joined.pop(session_id or 0, None)
    if joined is not None:
        socketio.server.leave_room(_sid(), joined.room, namespace="/")
        socketio.server.leave_room(_sid(), hosts_room(joined.room), namespace="/")
        state.delivery().presence.remove(joined.room, _sid())
        state.delivery().presence_changed(joined.room, session_id)
    if joined is not None and joined.role != COHOST:
        analytics.do_record_leave(
            db(), _client().actor, session_id or 0, _sid(), _client().viewer_key
        )
    return {"ok": True}


def kick(room: str, shopper_id: int) -> None:
    """This node's sockets of a banned shopper leave the room at once."""
    for sid, client in list(_clients.items()):
        if client.actor.shopper_id != shopper_id:
            continue
        for live_id, joined in list(client.joined.items()):
            if joined.room == room:
                client.joined.pop(live_id, None)
                socketio.server.leave_room(sid, room, namespace="/")
                state.delivery().presence.remove(room, sid)
                state.delivery().presence_changed(room, live_id)
                analytics.do_record_leave(db(), client.actor, live_id, sid, client.viewer_key)


# --- chat ----------------------------------------------------------------------


@event("chat")
def on_chat(data: dict[str, Any]) -> Ack:
    live = _live(data)
    client_id = data.get("client_id")
    message = live_actions.do_send_message(
        db(), _acting(), live, data.get("body"), client_id=client_id
    )
    return {"ok": True, "message": message}


@event("react")
def on_react(data: dict[str, Any]) -> Ack:
    live = _live(data)
    assert live.id is not None
    actor = _acting()
    db().commit()  # end the read: no transaction (SQLite's write lock) held across Redis
    heart_limiter.hit(f"{live.room}:{actor.identity}")
    state.delivery().add_hearts(live.room, live.id)
    return {"ok": True}


@event("delete_message")
def on_delete_message(data: dict[str, Any]) -> Ack:
    live = _live(data)
    message_id = _int(data, "message_id")
    assert message_id is not None
    live_actions.do_delete_message(db(), _client().actor, live, message_id)
    return {"ok": True}


def _sanction(data: dict[str, Any], kind: SanctionKind) -> Ack:
    live = _live(data)
    shopper_id = _int(data, "shopper_id")
    minutes = _int(data, "minutes", required=False) if kind is SanctionKind.MUTE else None
    assert shopper_id is not None
    live_actions.do_sanction(db(), _client().actor, live, shopper_id, kind, minutes)
    return {"ok": True}


@event("mute")
def on_mute(data: dict[str, Any]) -> Ack:
    return _sanction(data, SanctionKind.MUTE)


@event("ban")
def on_ban(data: dict[str, Any]) -> Ack:
    return _sanction(data, SanctionKind.BAN)


@event("unmute")
def on_unmute(data: dict[str, Any]) -> Ack:
    live = _live(data)
    shopper_id = _int(data, "shopper_id")
    assert shopper_id is not None
    live_actions.do_unmute(db(), _client().actor, live, shopper_id)
    return {"ok": True}


# --- products, offers, bag ---------------------------------------------------------


@event("pin")
def on_pin(data: dict[str, Any]) -> Ack:
    pinned = live_actions.do_pin(db(), _client().actor, _live(data), data.get("product_id"))  # type: ignore[arg-type]
    return {"ok": True, "pinned": pinned}


@event("unpin")
def on_unpin(data: dict[str, Any]) -> Ack:
    pinned = live_actions.do_unpin(db(), _client().actor, _live(data), data.get("product_id"))  # type: ignore[arg-type]
    return {"ok": True, "pinned": pinned}


@event("show_now")
def on_show_now(data: dict[str, Any]) -> Ack:
    """Mark a pinned product "showing now" (``product_id``; null clears the mark)."""
    pinned = live_actions.do_show_now(db(), _client().actor, _live(data), data.get("product_id"))
    return {"ok": True, "pinned": pinned}


@event("push_product")
def on_push_product(data: dict[str, Any]) -> Ack:
    message = live_actions.do_push_product(
        db(),
        _client().actor,
        _live(data),
        data.get("product_id"),  # type: ignore[arg-type]
    )
    return {"ok": True, "message": message}


@event("start_offer")
def on_start_offer(data: dict[str, Any]) -> Ack:
    offer = live_actions.do_start_offer(
        db(),
        _client().actor,
        _live(data),
        product_id=data.get("product_id"),  # type: ignore[arg-type]
        price_minor=data.get("price_minor"),
        quantity=data.get("quantity"),
        seconds=data.get("seconds"),
    )
    return {"ok": True, "offer": live_actions.offer_out(offer)}


@event("add_to_bag")
def on_add_to_bag(data: dict[str, Any]) -> Ack:
    live = _live(data)
    quantity = data.get("quantity", 1)
    bags.refuse_if_known_sold_out(_client().actor, data.get("variant_id"), quantity, live)
    bags.refuse_if_short(db(), _client().actor, data.get("variant_id"), quantity, live)
    added = bags.do_add_to_bag(
        db(),
        _acting(),
        variant_id=data.get("variant_id"),
        quantity=quantity,
        live=live,
    )
    return {"ok": True, "bag": added.bag, "stock": added.stock}


@event("product_click")
def on_product_click(data: dict[str, Any]) -> Ack:
    analytics.do_record_product_click(db(), _client().actor, _live(data), data.get("product_id"))
    return {"ok": True}


def open_viewings() -> list[analytics.Viewing]:
    """The viewings this node holds now (hosts excluded), for its heartbeats."""
    return [
        analytics.Viewing(live_id, sid, client.actor.shopper_id, client.viewer_key)
        for sid, client in list(_clients.items())
        for live_id, joined in list(client.joined.items())
        if joined.role == "viewer"
    ]
