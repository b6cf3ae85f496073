"""Turns domain events into Socket.IO emits, batching what a busy room sends often.

Chat messages, stock changes, hearts and presence are collected per room and
flushed ``CHAT_BATCH_MS`` (default 100 ms) after the first of them, as one emit
each: a room with 100 messages/s and 1,000 viewers sends 10 packets per viewer per
second, not 100, and each packet is encoded once for the whole room. A room's viewer
count (and its hosts' participant list) goes out at most once per ``PRESENCE_PUSH_MS``
(default 1,000 ms): a thousand shoppers arriving in ten seconds changed it a hundred
times a second, and each push went to every socket of the room, so arrivals cost the
node in proportion to the audience already there (docs/performance.md); nobody reads
a counter ten times a second. A host's own change to the list (a mute) is not held.
Every joiner gets the count at once, in the join's answer. The timer is
armed by the first pending item, so an idle node does not wake up ten times a
second, and a batch's first item waits one window, never less. Rarer events
(pins, offers, deletions, bag) go out at once. Emits only queue packets per
client, so a slow client never holds up the others.

Every kind declared in ``sessions/event_kinds.py`` has one entry in
``DELIVERIES`` (a test walks one against the other). An event goes to the
Socket.IO room of its audience: the room itself, ``<room>:hosts``,
``shopper:<id>``, ``associate:<id>`` or ``brand:<id>:staff``; sockets join the
personal and staff rooms on connect when ``sessions.access.can_receive`` allows.
The sink only delivers: timed work (offers ending, reservations expiring, queue
offers passing on, reminders) is the app's scheduler's (``web/scheduler.py``).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlmodel import Session

from sessions import live as live_actions
from sessions.db import session_scope
from sessions.events import Address, Audience, Event
from sessions.models import LiveSession
from web.db import get_engine
from web.extensions import socketio
from web.sockets.managers import disconnect_room
from web.sockets.presence import Presence, is_viewer
from web.sockets.snapshots import RoomSnapshots

log = logging.getLogger(__name__)


def hosts_room(room: str) -> str:
    return f"{room}:hosts"


def shopper_room(shopper_id: int) -> str:
    return f"shopper:{shopper_id}"


def staff_room(user_id: int) -> str:
    """Every socket of one staff member, on this node (the manager reaches the others)."""
    return f"user:{user_id}"


def associate_room(associate_id: int) -> str:
    return f"associate:{associate_id}"


def brand_staff_room(brand_id: int) -> str:
    return f"brand:{brand_id}:staff"


def socket_room(address: Address, room: str | None) -> str | None:
    """The Socket.IO room that holds an audience (None: a room audience without a room)."""
    if address.audience is Audience.ROOM:
        return room
    if address.audience is Audience.HOSTS:
        return hosts_room(room) if room else None
    assert address.id is not None
    if address.audience is Audience.SHOPPER:
        return shopper_room(address.id)
    if address.audience is Audience.ASSOCIATE:
        return associate_room(address.id)
    if address.audience is Audience.USER:
        return staff_room(address.id)
    return brand_staff_room(address.id)


@dataclass
class _Pending:
    messages: list[dict[str, Any]] = field(default_factory=list)
    stock: dict[Any, dict[str, Any]] = field(default_factory=dict)
    hearts: int = 0
    presence: bool = False
    presence_now: bool = False  # a host's change (a mute): not held back by the pacing
    live_session_id: int | None = None


class Delivery:
    """The events sink of one web node, with its per-room batches."""

    def __init__(
        self, app: Flask, presence: Presence, window: float, presence_every: float = 1.0
    ) -> None:
        self.app = app
        self.presence = presence
        self.window = window
        self.presence_every = presence_every  # seconds between a room's presence pushes
        self._presence_sent: dict[str, float] = {}  # room -> when its presence last went
        self.clock: Callable[[], float] = time.monotonic  # tests move their own
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()
        self._armed = False  # a flush is due: the timer runs
        self._stopped = False
        self._peaks: dict[int, int] = {}

    # --- the sink ---------------------------------------------------------------

    def __call__(self, event: Event) -> None:
        if event.room is not None:
            # This node's copy of the room's state goes now, not when a batched push
            # (stock, hearts) leaves: a request after the action here sees the change.
            snapshots: RoomSnapshots | None = self.app.extensions.get("vitrine.room_snapshots")
            if snapshots is not None:
                snapshots.told(event.kind, event.room)
        handler = DELIVERIES.get(event.kind)
        if handler is None:  # tests/rooms/test_event_contract.py keeps this from happening
            log.error("no delivery for event kind %s", event.kind)
            return
        handler(self, event)

    def _emit(self, name: str, data: Any, to: str | list[str]) -> None:
        # A 1-tuple sends exactly one argument, even when it is null ("offer": null).
        # A list of rooms reaches a socket that is in several of them once.
        socketio.emit(name, (data,), to=to)

    def _to_audience(self, name: str, data: Any, event: Event) -> None:
        to = socket_room(event.address, event.room)
        if to is not None:
            self._emit(name, data, to)

    # --- batching ---------------------------------------------------------------

    def _pending_for(self, room: str) -> _Pending:
        """The room's batch (call with the lock held); its first item arms the timer."""
        if not self._armed and not self._stopped:
            self._armed = True
            socketio.start_background_task(self._flush_after_window)
        return self._pending.setdefault(room, _Pending())

    def add_message(self, room: str, message: dict[str, Any]) -> None:
        with self._lock:
            self._pending_for(room).messages.append(message)

    def add_stock(self, room: str, stock: dict[str, Any]) -> None:
        with self._lock:  # the latest count per variant is all a viewer needs
            self._pending_for(room).stock[stock["variant_id"]] = stock

    def add_hearts(self, room: str, live_session_id: int, count: int = 1) -> None:
        with self._lock:
            pending = self._pending_for(room)
            pending.hearts += count
            pending.live_session_id = live_session_id

    def presence_changed(
        self, room: str, live_session_id: int | None = None, *, now: bool = False
    ) -> None:
        """Someone joined or left (paced), or a host changed the list (``now``)."""
        with self._lock:
            pending = self._pending_for(room)
            pending.presence = True
            pending.presence_now = pending.presence_now or now
            pending.live_session_id = live_session_id or pending.live_session_id

    def stop(self) -> None:
        """End the batching loop (an app shutting down, a test ending)."""
        self._stopped = True

    def _flush_after_window(self) -> None:
        socketio.sleep(self.window)
        if self._stopped:
            return
        try:
            self._flush(timer_expired=True)
        except Exception:  # a bad batch must not stop every later one
            log.exception("room flush failed")

    def flush(self) -> None:
        """Send every pending batch now, presence included, ahead of the timer and the
        pacing (tests that skip the wait)."""
        self._flush(timer_expired=False, paced=False)

    def _flush(self, *, timer_expired: bool, paced: bool = True) -> None:
        with self._lock:
            batches, self._pending = self._pending, {}
            if timer_expired:
                self._armed = False  # the next item arms a new timer
            if paced:
                self._hold_presence(batches)
        for room, pending in batches.items():
            self._flush_room(room, pending)

    def _hold_presence(self, batches: dict[str, _Pending]) -> None:
        """Keep back (call with the lock held) a room's presence pushed less than
        ``presence_every`` ago: it goes in a later batch, which re-arms the timer."""
        clock = self.clock()
        for room, pending in batches.items():
            if not pending.presence:
                continue
            last = self._presence_sent.get(room, -math.inf)
            if pending.presence_now or clock - last >= self.presence_every:
                self._presence_sent[room] = clock
                continue
            later = self._pending_for(room)
            later.presence = True
            later.live_session_id = later.live_session_id or pending.live_session_id
            pending.presence = False

    def _flush_room(self, room: str, pending: _Pending) -> None:
        if pending.messages:
            pending.messages.sort(key=lambda m: m["id"])
            self._emit("messages", pending.messages, room)
        for stock in pending.stock.values():
            self._emit("stock", stock, room)
        if pending.hearts or pending.presence:
            with self.app.app_context(), session_scope(get_engine(self.app)) as db:
                if pending.hearts and pending.live_session_id is not None:
                    total = live_actions.do_add_hearts(db, pending.live_session_id, pending.hearts)
                    self._emit("hearts", {"total": total}, room)
                if pending.presence:
                    self._flush_presence(db, room, pending.live_session_id)

    def _flush_presence(self, db: Session, room: str, live_session_id: int | None) -> None:
        # Hosts' consoles and the co-host's page are in the room; only viewers count.
        entries = [entry for entry in self.presence.entries(room) if is_viewer(entry)]
        viewers = len(entries)
        self._emit("presence", {"viewers": viewers}, room)
        if not entries:
            with self._lock:  # an empty room's next push is not held (and its clock goes)
                self._presence_sent.pop(room, None)
        if live_session_id is None:
            return
        live = db.get(LiveSession, live_session_id)
        if live is None:
            return
        muted = live_actions.muted_shoppers(db, live)
        people: dict[int, dict[str, Any]] = {}
        for entry in entries:
            shopper_id = entry.get("shopper_id")
            if shopper_id is not None and len(people) < 500:
                people[shopper_id] = {
                    "shopper_id": shopper_id,
                    "name": entry.get("name") or "Guest",
                    "muted": shopper_id in muted,
                }
        self._emit("participants", list(people.values()), hosts_room(room))
        if viewers > self._peaks.get(live_session_id, 0):
            self._peaks[live_session_id] = viewers
            live_actions.do_record_viewers(db, live_session_id, viewers)


Handler = Callable[[Delivery, Event], None]


def _message(d: Delivery, e: Event) -> None:
    assert e.room is not None
    d.add_message(e.room, e.data["message"])


def _stock(d: Delivery, e: Event) -> None:
    if e.address.audience is Audience.ROOM:
        assert e.room is not None
        d.add_stock(e.room, e.data)  # batched: the latest count per variant
    else:  # changed in the admin: the brand's consoles
        d._to_audience("stock", e.data, e)


def _sanction(d: Delivery, e: Event) -> None:
    data = {"kind": e.data["sanction"], "until": e.data["until"]}
    d._to_audience("sanction", data, e)
    if e.data["sanction"] == "ban" and e.room:
        # Ban: this node's sockets of that shopper leave the room now; join refuses them later.
        from web.sockets.handlers import kick

        kick(e.room, e.data["shopper_id"])


def _sessions_ended(d: Delivery, e: Event) -> None:
    # Every node: the manager sends the request through the message queue when there is one.
    disconnect_room(socketio.server, staff_room(e.data["user_id"]))


def _shopper_erased(d: Delivery, e: Event) -> None:
    # The cookie names nobody any more: its open sockets end now, on every node.
    disconnect_room(socketio.server, shopper_room(e.data["shopper_id"]))


def _and_associate(name: str, key: str) -> Handler:
    """To the declared audience, and to the console of the associate named in `key`."""

    def handler(d: Delivery, e: Event) -> None:
        rooms = [socket_room(e.address, e.room)]
        if e.data.get(key) is not None:
            rooms.append(associate_room(e.data[key]))
        d._emit(name, e.data, [r for r in rooms if r is not None])

    return handler


def _simple(name: str, build: Callable[[Event], Any] = lambda e: e.data) -> Handler:
    def handler(d: Delivery, e: Event) -> None:
        d._to_audience(name, build(e), e)

    return handler


# One delivery per kind declared in sessions/event_kinds.py.
DELIVERIES: dict[str, Handler] = {
    # live rooms
    "message": _message,
    "message_deleted": _simple("message_deleted", lambda e: {"id": e.data["id"]}),
    "pins": _simple("pins", lambda e: {"pinned": e.data["pinned"]}),
    "offer": _simple("offer", lambda e: e.data["offer"]),
    "stock": _stock,
    "sanction": _sanction,
    "live_figures": _simple("live_figures"),
    "participants_changed": lambda d, e: d.presence_changed(e.room, now=True) if e.room else None,
    "session_state": _simple("session_state", lambda e: {"status": e.data["status"]}),
    "show_state": _simple("show_state"),
    "relay_moved": _simple("relay_moved"),
    # bags
    "bag": _simple("bag", lambda e: e.data["bag"]),
    "bag_event": _simple("bag_event"),
    # consultations
    "queue_offer": _simple("queue_offer"),
    "queue_offer_withdrawn": _simple("queue_offer_withdrawn"),
    "queue_accepted": _simple("queue_accepted"),
    "consultation_transferred": _and_associate("consultation_transferred", "to_associate_id"),
    "message_left": _simple("message_left"),
    "appointment_booked": _simple("appointment_booked"),
    "appointment_cancelled": _simple("appointment_cancelled"),
    "shopper_waiting": _and_associate("shopper_waiting", "associate_id"),
    "rated": _simple("rated"),
    # accounts
    "sessions_ended": _sessions_ended,
    # privacy
    "consent": _simple("consent"),
    "shopper_erased": _shopper_erased,
    # threads (the shopper's conversation with the brand)
    "thread_message": _simple("thread_message"),
    "thread_changed": _simple("thread_changed"),
    "thread_typing": _simple("thread_typing"),
    "thread_read": _simple("thread_read"),
    "thread_offer": _simple("thread_offer"),
    "thread_offer_withdrawn": _simple("thread_offer_withdrawn"),
    # video from a thread ("Show me on camera", "Try it on for you on camera")
    "video_request": _simple("video_request"),
    # a show's polls and questions (sessions/shows/polls.py, questions.py)
    "poll": _simple("poll", lambda e: e.data["poll"]),
    "question": _simple("question", lambda e: e.data["question"]),
    "question_pinned": _simple("question_pinned", lambda e: e.data["question"]),
    # live means pushed: the waiting screens and the console's counts
    "queue_position": _simple("queue_position"),
    "queue_waiting": _simple("queue_waiting"),
    # the shared bag of a 1:1, both sides
    "shared_bag": _simple("shared_bag"),
    # a show's co-host (sessions/shows/cohost.py)
    "cohost": _simple("cohost"),
    "cohost_invitation": _simple("cohost_invitation"),
    "cohost_invitation_withdrawn": _simple("cohost_invitation_withdrawn"),
}
