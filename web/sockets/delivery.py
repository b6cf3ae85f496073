"""Turns domain events into Socket.IO emits, batching what a busy room sends often.

Chat messages, stock changes, hearts and presence are collected per room and
flushed every ``CHAT_BATCH_MS`` (default 100 ms) as one emit each: a room with
100 messages/s and 1,000 viewers sends 10 packets per viewer per second, not
100, and each packet is encoded once for the whole room. Rarer events (pins,
offers, deletions, bag) go out at once. Emits only queue packets per client,
so a slow client never holds up the others.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlmodel import Session

from sessions import bags
from sessions import live as live_actions
from sessions.db import session_scope
from sessions.events import Event
from sessions.models import LiveSession
from web.db import get_engine
from web.extensions import socketio
from web.sockets.presence import Presence

log = logging.getLogger(__name__)


def hosts_room(room: str) -> str:
    return f"{room}:hosts"


def shopper_room(shopper_id: int) -> str:
    return f"shopper:{shopper_id}"


@dataclass
class _Pending:
    messages: list[dict[str, Any]] = field(default_factory=list)
    stock: dict[Any, dict[str, Any]] = field(default_factory=dict)
    hearts: int = 0
    presence: bool = False
    live_session_id: int | None = None


class Delivery:
    """The events sink of one web node, with its per-room batches."""

    def __init__(
        self, app: Flask, presence: Presence, window: float, sweep_seconds: float = 30.0
    ) -> None:
        self.app = app
        self.presence = presence
        self.window = window
        self.sweep_seconds = sweep_seconds
        self._sweeping = False
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()
        self._started = False
        self._stopped = False
        self._peaks: dict[int, int] = {}

    # --- the sink ---------------------------------------------------------------

    def __call__(self, event: Event) -> None:
        handler = _HANDLERS.get(event.kind)
        if handler is None:
            return
        if event.room is None and not event.audience.startswith("shopper:"):
            return  # e.g. a stock change made in the admin: no room to tell
        handler(self, event)

    def _emit(self, name: str, data: Any, to: str) -> None:
        # A 1-tuple sends exactly one argument, even when it is null ("offer": null).
        socketio.emit(name, (data,), to=to)

    def _to_audience(self, name: str, data: Any, event: Event) -> None:
        if event.audience == "room" and event.room:
            self._emit(name, data, event.room)
        elif event.audience == "hosts" and event.room:
            self._emit(name, data, hosts_room(event.room))
        elif event.audience.startswith("shopper:"):
            self._emit(name, data, event.audience)

    # --- batching ---------------------------------------------------------------

    def _pending_for(self, room: str) -> _Pending:
        self.start()
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

    def presence_changed(self, room: str, live_session_id: int | None = None) -> None:
        with self._lock:
            pending = self._pending_for(room)
            pending.presence = True
            pending.live_session_id = live_session_id or pending.live_session_id

    def start(self) -> None:
        if not self._started:
            self._started = True
            socketio.start_background_task(self._run)

    def stop(self) -> None:
        """End the batching and sweeping loops (an app shutting down, a test ending)."""
        self._stopped = True

    def _run(self) -> None:
        while not self._stopped:
            socketio.sleep(self.window)
            try:
                self.flush()
            except Exception:  # a bad batch must not stop every later one
                log.exception("room flush failed")

    def flush(self) -> None:
        with self._lock:
            batches, self._pending = self._pending, {}
        for room, pending in batches.items():
            self._flush_room(room, pending)

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
        entries = self.presence.entries(room)
        viewers = len(entries)
        self._emit("presence", {"viewers": viewers}, room)
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

    # --- timers -----------------------------------------------------------------

    def start_sweeper(self) -> None:
        """Expired reservations return their stock even if nobody reads the bag."""
        if self._sweeping or self.sweep_seconds <= 0:
            return
        self._sweeping = True

        def run() -> None:
            while True:
                socketio.sleep(self.sweep_seconds)
                if self._stopped:
                    return
                try:
                    with session_scope(get_engine(self.app)) as db:
                        bags.do_release_expired(db)
                except Exception:
                    log.exception("reservation sweep failed")

        socketio.start_background_task(run)

    # --- offers -----------------------------------------------------------------

    def end_offer_later(self, offer_id: int, ends_at: str) -> None:
        from datetime import datetime

        from sessions.clock import utcnow

        delay = (datetime.fromisoformat(ends_at) - utcnow()).total_seconds()

        def run() -> None:
            socketio.sleep(max(0.0, delay) + 0.05)
            with self.app.app_context(), session_scope(get_engine(self.app)) as db:
                live_actions.do_end_offer_if_due(db, offer_id)

        socketio.start_background_task(run)


def _message(d: Delivery, e: Event) -> None:
    assert e.room is not None
    d.add_message(e.room, e.data["message"])


def _stock(d: Delivery, e: Event) -> None:
    assert e.room is not None
    d.add_stock(e.room, e.data)


def _offer(d: Delivery, e: Event) -> None:
    assert e.room is not None
    d._emit("offer", e.data["offer"], e.room)
    if e.data.get("ends_at") and e.data.get("offer_id"):
        d.end_offer_later(e.data["offer_id"], e.data["ends_at"])


def _sanction(d: Delivery, e: Event) -> None:
    data = {"kind": e.data["sanction"], "until": e.data["until"]}
    d._emit("sanction", data, e.audience)
    if e.data["sanction"] == "ban" and e.room:
        # Ban: this node's sockets of that shopper leave the room now; join refuses them later.
        from web.sockets.handlers import kick

        kick(e.room, e.data["shopper_id"])


def _simple(name: str, build: Callable[[Event], Any]) -> Callable[[Delivery, Event], None]:
    def handler(d: Delivery, e: Event) -> None:
        d._to_audience(name, build(e), e)

    return handler


_HANDLERS: dict[str, Callable[[Delivery, Event], None]] = {
    "message": _message,
    "stock": _stock,
    "offer": _offer,
    "sanction": _sanction,
    "message_deleted": _simple("message_deleted", lambda e: {"id": e.data["id"]}),
    "pins": _simple("pins", lambda e: {"pinned": e.data["pinned"]}),
    "bag": _simple("bag", lambda e: e.data["bag"]),
    "bag_event": _simple("bag_event", lambda e: e.data),
    "live_figures": _simple("live_figures", lambda e: e.data),
    "session_state": _simple("session_state", lambda e: {"status": e.data["status"]}),
    "participants_changed": lambda d, e: d.presence_changed(e.room) if e.room else None,
}
