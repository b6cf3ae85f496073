"""The shared part of a room's state, kept per node between the pushes that change it.

Every show page asks ``GET /api/live-sessions/<id>`` as it opens; when a show starts a
thousand of them arrive within seconds, and each built the same pinned cards, offer
and hearts from the database (about half of the request's time, docs/performance.md).
What they share does not depend on who asks: it is built once and reused until the
room is told something, that is until this node's Socket.IO manager emits an event to
the room — the same emit that brings the change to every open page, whether the
action ran here or on another node (the Redis queue hands every emit to every node).
So a page never learns of a change later from this copy than it would from its push.

Why not longer-lived, or one version number in the database: a change made without a
push (an admin renaming a pinned product, a price edited) is still seen within
``ROOM_STATE_CACHE_SECONDS`` (default 1 s; ``0`` turns the copy off), and no write path
has to remember to bump anything. What is per viewer (access, the bag, the guest key,
the viewer count) is never kept here: the view still decides it on every request.

**One build at a time per room.** A show's start is a burst: hundreds of state GETs
arrive in the same instant, all find no copy, and each would build the same state (the
copy then bought nothing when it mattered most: bench/flash_sale.py's state GET p99 was
the same with and without it). The first to miss builds; the others that miss while it
builds wait for its result, and take it only if the room was told nothing between the
build's start and their own arrival, nor during the build (the same rule as keeping
it); otherwise, or if the build fails or takes longer than ``BUILD_WAIT_SECONDS``, each
reads the room itself.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app

from sessions import live as live_actions
from sessions.clock import as_utc, utcnow
from sessions.models import LiveSession
from web.db import db

# Emits and domain events that never change what is kept here (chat goes into history,
# not the state; presence is counted per request): frequent, so they must not throw the
# copy away. Anything else reaching the room does, even a kind added later.
UNRELATED_EVENTS = frozenset(
    {
        "message",
        "messages",
        "presence",
        "participants",
        "participants_changed",
        "live_figures",
        "thread_typing",
    }
)
MAX_MARKS = 4096  # rooms remembered as "told" at once; past it, everything starts over
MAX_ENTRIES = 1024  # copies kept; past it, the stale ones are dropped before adding one
BUILD_WAIT_SECONDS = 10.0  # a waiter then reads the room itself (a build stuck on the DB)


@dataclass(frozen=True)
class _Entry:
    made: float  # RoomSnapshots.clock(), monotonic
    state: Any


@dataclass
class _Build:
    """A build under way: who arrives while it runs, with the same marks, waits for it."""

    seen: tuple[int, int]
    # Looked up when made, not when this module is imported: a node may import it before
    # gevent patches threading, and an unpatched Event would block the whole process.
    done: threading.Event = field(default_factory=lambda: threading.Event())
    state: Any = None  # set only when kept: no tell during the build


class RoomSnapshots:
    """Per node and app: room (Socket.IO room name) → its shared state, and when it was
    last told something. Safe across greenlets and threads (one lock, held briefly)."""

    def __init__(self, ttl_seconds: float) -> None:
        self.ttl = ttl_seconds
        # Keyed by (room, part): "state" (the room's shared state), "featured" (the show
        # page's cards when nothing is pinned); a tell to the room drops every part.
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._building: dict[tuple[str, str], _Build] = {}
        self._parts: set[str] = {"state"}
        self._marks: dict[str, int] = {}  # room → the tell that last reached it
        self._epoch = 0  # bumped when the marks are forgotten all at once
        self._tells = itertools.count(1)
        self._lock = threading.Lock()
        self.clock: Callable[[], float] = time.monotonic  # tests move it
        self.on_wait: Callable[[], None] | None = None  # tests: a caller waits on a build

    def get(
        self,
        room: str,
        build: Callable[[], Any],
        before_wait: Callable[[], bool] | None = None,
        part: str = "state",
    ) -> Any:
        """The room's state, built by ``build`` when there is no fresh copy. The result
        is shared: read it, never change it. ``before_wait``: called before waiting on
        another caller's build; False: do not wait, build. The web layer ends the
        request's read transaction there: on SQLite an open transaction holds the one
        write lock the build needs, and on PostgreSQL a waiting request then holds no
        pooled connection."""
        if self.ttl <= 0:
            return build()
        now = self.clock()
        with self._lock:
            key = (room, part)
            self._parts.add(part)
            entry = self._entries.get(key)
            if entry is not None and now - entry.made < self.ttl:
                return entry.state
            seen = (self._epoch, self._marks.get(room, 0))
            running = self._building.get(key)
            if running is None or running.seen != seen:
                mine = self._building[key] = _Build(seen)
                running = None
        if running is not None:  # someone is reading the room now: wait for it
            if self.on_wait is not None:
                self.on_wait()
            if before_wait is not None and not before_wait():
                return build()
            if running.done.wait(BUILD_WAIT_SECONDS) and running.state is not None:
                return running.state
            return build()
        try:
            state = build()
        except BaseException:
            self._finish(key, mine)
            raise
        with self._lock:
            # A tell that arrived while we built may be newer than what we read: keep
            # nothing then (the next request builds again), so no stale copy outlives it.
            if (self._epoch, self._marks.get(room, 0)) == seen:
                if len(self._entries) >= MAX_ENTRIES:
                    self._drop_stale(now)
                self._entries[key] = _Entry(now, state)
                mine.state = state
        self._finish(key, mine)
        return state

    def _finish(self, key: tuple[str, str], build: _Build) -> None:
        with self._lock:
            if self._building.get(key) is build:
                del self._building[key]
        build.done.set()  # waiters take build.state, or read the room themselves

    def told(self, event: str, rooms: str | Iterable[str] | None) -> None:
        """Called by the Socket.IO manager for every emit on this node (web/sockets/
        managers.py), and by this node's events sink as an action publishes (before a
        batched push leaves): the rooms it reaches drop their copy."""
        if rooms is None or event in UNRELATED_EVENTS:
            return
        names = [rooms] if isinstance(rooms, str) else list(rooms)
        with self._lock:
            if len(self._marks) + len(names) > MAX_MARKS:
                self._marks.clear()
                self._epoch += 1
            for name in names:
                self._marks[name] = next(self._tells)
                for part in self._parts:
                    self._entries.pop((name, part), None)

    def _drop_stale(self, now: float) -> None:
        stale = [key for key, e in self._entries.items() if now - e.made >= self.ttl]
        for key in stale or list(self._entries)[: MAX_ENTRIES // 2]:
            del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._marks.clear()
            self._epoch += 1


def _end_reads() -> bool:
    """End the request's transaction before it waits for another request's build. Its
    callers (the state GET, the show page, the socket join) hold no write of their own
    at that point: only ``do_*`` actions write, and they commit. Should one ever hold an
    unflushed change, it does not wait (False) and reads the room itself."""
    session = db()
    if session.new or session.dirty or session.deleted:
        return False
    if session.in_transaction():
        session.commit()  # reads only: nothing is written; expire_on_commit is off
    return True


def shared_room_state(live: LiveSession) -> dict[str, Any]:
    """``sessions.live.room_state`` of the room, from this node's copy when it has a fresh
    one. An offer whose time ran out since the copy was made is left out, as reading the
    room would. Callers that add to it (the socket join) take a copy: ``dict(...)``."""
    snapshots: RoomSnapshots = current_app.extensions["vitrine.room_snapshots"]
    state = snapshots.get(live.room, lambda: live_actions.room_state(db(), live), _end_reads)
    offer = state.get("offer")
    if offer is not None and as_utc(datetime.fromisoformat(offer["ends_at"])) <= utcnow():
        return {**state, "offer": None}
    return state


def shared_part(live: LiveSession, part: str, build: Callable[[], Any]) -> Any:
    """Another part of the room that every viewer sees alike (the show page's featured
    cards), kept and dropped with the room's state by the same rule. Read it, never
    change it."""
    snapshots: RoomSnapshots = current_app.extensions["vitrine.room_snapshots"]
    return snapshots.get(live.room, build, _end_reads, part=part)
