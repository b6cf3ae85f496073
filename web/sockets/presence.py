"""Who is in each room: in-process, or in Redis so counts span web nodes.

Each socket (sid) in a room is one entry ``sid -> {"shopper_id", "name"}``;
the viewer count is the number of entries. With REDIS_URL the entries live
in a Redis hash per room, so every node reads the same count.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any, Protocol

Entry = dict[str, Any]
log = logging.getLogger(__name__)


class Presence(Protocol):
    def add(self, room: str, sid: str, entry: Entry) -> None: ...
    def remove(self, room: str, sid: str) -> None: ...
    def count(self, room: str) -> int: ...
    def entries(self, room: str) -> list[Entry]: ...


class LocalPresence:
    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, Entry]] = {}
        self._lock = threading.Lock()

    def add(self, room: str, sid: str, entry: Entry) -> None:
        with self._lock:
            self._rooms.setdefault(room, {})[sid] = entry

    def remove(self, room: str, sid: str) -> None:
        with self._lock:
            members = self._rooms.get(room)
            if members is not None:
                members.pop(sid, None)
                if not members:
                    del self._rooms[room]

    def count(self, room: str) -> int:
        with self._lock:
            return len(self._rooms.get(room, {}))

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
        return f"vitrine:{self._prefix}:presence:{room}"

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
        key = self._key(room)
        try:
            pipe = self._redis.pipeline()
            pipe.hset(key, sid, json.dumps(entry))
            # A room nobody touches for a day is gone, even if a node died without cleaning up.
            pipe.expire(key, 24 * 3600)
            pipe.execute()
            self._reachable()
        except self._errors as exc:
            self._unreachable(exc)

    def remove(self, room: str, sid: str) -> None:
        self._local.remove(room, sid)
        try:
            self._redis.hdel(self._key(room), sid)
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
            values = self._redis.hvals(self._key(room))
        except self._errors as exc:
            self._unreachable(exc)
            return self._local.entries(room)
        self._reachable()
        return [json.loads(v) for v in values]


def make_presence(redis_url: str | None, channel: str) -> Presence:
    return RedisPresence(redis_url, channel) if redis_url else LocalPresence()
