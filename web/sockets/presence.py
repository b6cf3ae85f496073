"""Who is in each room: in-process, or in Redis so counts span web nodes.

Each socket (sid) in a room is one entry ``sid -> {"shopper_id", "name", "role"}``;
the viewer count is the number of entries whose role is ``viewer``: the hosts' consoles
and the co-host's page (roles ``host`` and ``cohost``, see ``web/sockets/handlers.py``)
are in the room but watch nobody's show. With REDIS_URL the entries live in Redis (a
hash of viewers per room, and one of the rest), so every node reads the same count.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any, Protocol

Entry = dict[str, Any]
log = logging.getLogger(__name__)
VIEWER = "viewer"


def is_viewer(entry: Entry) -> bool:
    """A socket that counts as a viewer: not a host's, not the co-host's."""
    return entry.get("role", VIEWER) == VIEWER


class Presence(Protocol):
    def add(self, room: str, sid: str, entry: Entry) -> None: ...
    def remove(self, room: str, sid: str) -> None: ...
    def count(self, room: str) -> int: ...
    def entries(self, room: str) -> list[Entry]: ...


class LocalPresence:
    """The count is kept as entries come and go: every join reads it, and counting the
    room's entries each time made a show start of a thousand joins a million steps."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, Entry]] = {}
        self._viewers: dict[str, int] = {}
        self._lock = threading.Lock()

    def add(self, room: str, sid: str, entry: Entry) -> None:
        with self._lock:
            members = self._rooms.setdefault(room, {})
            before = members.get(sid)
            members[sid] = entry
            change = is_viewer(entry) - (before is not None and is_viewer(before))
            if change:
                self._viewers[room] = self._viewers.get(room, 0) + change

    def remove(self, room: str, sid: str) -> None:
        with self._lock:
            members = self._rooms.get(room)
            if members is None:
                return
            gone = members.pop(sid, None)
            if gone is not None and is_viewer(gone):
                self._viewers[room] -= 1
            if not members:
                del self._rooms[room]
                self._viewers.pop(room, None)

    def count(self, room: str) -> int:
        """The room's viewers (hosts and co-host not counted)."""
        with self._lock:
            return self._viewers.get(room, 0)

    def entries(self, room: str) -> list[Entry]:
        with self._lock:
            return list(self._rooms.get(room, {}).values())


class RedisPresence:
    """One hash per room under the deployment's channel name, so tests never collide.

    This node's own entries are mirrored in memory: while Redis is out of reach the node
    keeps counting its own rooms (a count of this node's viewers, not the deployment's)
    instead of failing every join, and writes to Redis again once it answers."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self._prefix = prefix
        self._local = LocalPresence()
        self._down = False

    def _key(self, room: str) -> str:
        """The room's viewers: its length is the count, read on every join."""
        return f"vitrine:{self._prefix}:presence:{room}"

    def _crew_key(self, room: str) -> str:
        """The room's other sockets (hosts, co-host), kept apart so the count is HLEN."""
        return f"vitrine:{self._prefix}:presence-crew:{room}"

    def _unreachable(self, exc: Exception) -> None:
        if not self._down:
            log.warning("Redis unreachable, presence counts this node only: %s", exc)
        self._down = True

    def _reachable(self) -> None:
        if self._down:
            log.warning("Redis reachable again: presence is shared again")
        self._down = False

    def add(self, room: str, sid: str, entry: Entry) -> None:
        self._local.add(room, sid, entry)
        key, other = self._key(room), self._crew_key(room)
        if not is_viewer(entry):
            key, other = other, key
        try:
            pipe = self._redis.pipeline()
            pipe.hset(key, sid, json.dumps(entry))
            pipe.hdel(other, sid)  # one socket is in one of the two
            # A room nobody touches for a day is gone, even if a node died without cleaning up.
            pipe.expire(key, 24 * 3600)
            pipe.execute()
            self._reachable()
        except self._errors as exc:
            self._unreachable(exc)

    def remove(self, room: str, sid: str) -> None:
        self._local.remove(room, sid)
        try:
            pipe = self._redis.pipeline()
            pipe.hdel(self._key(room), sid)
            pipe.hdel(self._crew_key(room), sid)
            pipe.execute()
            self._reachable()
        except self._errors as exc:
            self._unreachable(exc)

    def count(self, room: str) -> int:
        try:
            count = int(self._redis.hlen(self._key(room)))
        except self._errors as exc:
            self._unreachable(exc)
            return self._local.count(room)
        self._reachable()
        return count

    def entries(self, room: str) -> list[Entry]:
        try:
            pipe = self._redis.pipeline()
            pipe.hvals(self._key(room))
            pipe.hvals(self._crew_key(room))
            viewers, crew = pipe.execute()
        except self._errors as exc:
            self._unreachable(exc)
            return self._local.entries(room)
        self._reachable()
        return [json.loads(v) for v in [*viewers, *crew]]


def make_presence(redis_url: str | None, channel: str) -> Presence:
    return RedisPresence(redis_url, channel) if redis_url else LocalPresence()
