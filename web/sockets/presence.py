"""Who is in each room: in-process, or in Redis so counts span web nodes.

Each socket (sid) in a room is one entry ``sid -> {"shopper_id", "name"}``;
the viewer count is the number of entries. With REDIS_URL the entries live
in a Redis hash per room, so every node reads the same count.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Protocol

Entry = dict[str, Any]


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
    """One hash per room under the deployment's channel name, so tests never collide."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url)
        self._prefix = prefix

    def _key(self, room: str) -> str:
        return f"vitrine:{self._prefix}:presence:{room}"

    def add(self, room: str, sid: str, entry: Entry) -> None:
        key = self._key(room)
        pipe = self._redis.pipeline()
        pipe.hset(key, sid, json.dumps(entry))
        # A room nobody touches for a day is gone, even if a node died without cleaning up.
        pipe.expire(key, 24 * 3600)
        pipe.execute()

    def remove(self, room: str, sid: str) -> None:
        self._redis.hdel(self._key(room), sid)

    def count(self, room: str) -> int:
        return int(self._redis.hlen(self._key(room)))

    def entries(self, room: str) -> list[Entry]:
        return [json.loads(v) for v in self._redis.hvals(self._key(room))]


def make_presence(redis_url: str | None, channel: str) -> Presence:
    return RedisPresence(redis_url, channel) if redis_url else LocalPresence()
