"""Sold-out flags: answer "sold out" without touching the database when stock is known zero.

The database stays the source of truth: a flag only lets an add-to-bag on a variant
that *was* seen at zero be refused before any write (and before a guest becomes a
shopper row). It is kept honest by three rules:

- **Set only under the conditional UPDATE's verdict.** A flag is set by the request
  whose ``UPDATE variants SET stock = stock - q WHERE stock >= q`` found nothing and
  which then read ``stock = 0`` — and only if no stock rose since that request began:
  every clear bumps a generation, and the set is refused when the generation moved
  (``mark`` compares and sets atomically: a lock here, a Lua script in Redis).
- **Cleared after every commit that gives stock back**: a reservation expiring or
  removed (``sessions.bags._release`` callers), an admin setting stock
  (``sessions.catalogue.do_set_stock``), a catalogue import.
- **Never trusted past its horizon**: the earliest expiry of the variant's live
  reservations (when one of them may give a unit back), and at most
  ``MAX_TRUST_SECONDS`` in any case, which bounds what a writer that cannot clear
  (a process without the same Redis, a crash between commit and clear) can cost.
  Past the horizon the next request takes the normal path and, if still zero, sets
  the flag again.

Where flags live: in Redis when ``REDIS_URL`` is set (every node sees one node's
clear), in this process's memory otherwise (one node). Keys are per deployment
(``SOCKETIO_CHANNEL``) and per database.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any, Protocol

log = logging.getLogger(__name__)
MAX_TRUST_SECONDS = 2.0


class _Store(Protocol):
    def generation(self) -> int: ...
    def mark(self, variant_id: int, brand_id: int, until: float, seen: int) -> bool: ...
    def get(self, variant_id: int) -> int | None: ...
    def clear(self, variant_ids: list[int]) -> None: ...


class _Memory:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation = 0
        self._flags: dict[int, tuple[int, float]] = {}

    def generation(self) -> int:
        return self._generation

    def mark(self, variant_id: int, brand_id: int, until: float, seen: int) -> bool:
        with self._lock:
            if self._generation != seen:
                return False
            self._flags[variant_id] = (brand_id, until)
            return True

    def get(self, variant_id: int) -> int | None:
        flag = self._flags.get(variant_id)
        if flag is None:
            return None
        if flag[1] <= time.time():
            self._flags.pop(variant_id, None)
            return None
        return flag[0]

    def clear(self, variant_ids: list[int]) -> None:
        with self._lock:
            self._generation += 1
            for variant_id in variant_ids:
                self._flags.pop(variant_id, None)


_MARK = """
local gen = redis.call('GET', KEYS[1]) or '0'
if gen ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 1
"""


class _Redis:
    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self._redis: Any = redis.Redis.from_url(url)
        self._prefix = prefix
        self._gen_key = f"{prefix}:gen"
        self._mark = self._redis.register_script(_MARK)

    def _key(self, variant_id: int) -> str:
        return f"{self._prefix}:{variant_id}"

    def generation(self) -> int:
        return int(self._redis.get(self._gen_key) or 0)

    def mark(self, variant_id: int, brand_id: int, until: float, seen: int) -> bool:
        ttl_ms = int((until - time.time()) * 1000)
        if ttl_ms <= 0:
            return False
        keys = [self._gen_key, self._key(variant_id)]
        # The horizon travels in the value too: Redis's TTL only collects the key.
        return bool(self._mark(keys=keys, args=[seen, f"{brand_id}:{until}", ttl_ms]))

    def get(self, variant_id: int) -> int | None:
        value = self._redis.get(self._key(variant_id))
        if value is None:
            return None
        brand_id, until = value.decode().split(":")
        return int(brand_id) if float(until) > time.time() else None

    def clear(self, variant_ids: list[int]) -> None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.incr(self._gen_key)  # before the delete: a mark between them is refused
        if variant_ids:
            pipe.delete(*(self._key(v) for v in variant_ids))
        pipe.execute()


_store: _Store = _Memory()


def configure(redis_url: str | None, channel: str, database_url: str) -> None:
    """Flags in Redis (shared by the deployment's nodes) or in this process; a new app
    starts with none."""
    global _store
    if redis_url:
        db = hashlib.sha256(database_url.encode()).hexdigest()[:12]
        _store = _Redis(redis_url, f"{channel}:soldout:{db}")
    else:
        _store = _Memory()


def generation() -> int:
    """Read before trying to take stock; hand it back to :func:`mark`."""
    try:
        return _store.generation()
    except Exception:  # Redis away: no flag will be set, every request takes the long way
        return -1


def mark_sold_out(variant_id: int, brand_id: int, horizon: float, seen: int) -> bool:
    """Remember the variant at zero until ``horizon`` (epoch seconds), capped at
    MAX_TRUST_SECONDS; refused when stock rose since ``seen`` was read."""
    if seen < 0:
        return False
    until = min(horizon, time.time() + MAX_TRUST_SECONDS)
    try:
        return _store.mark(variant_id, brand_id, until, seen)
    except Exception:
        return False


def known_sold_out(variant_id: int) -> int | None:
    """The brand of a variant known to be at zero now, or None (unknown: ask the database)."""
    try:
        return _store.get(variant_id)
    except Exception:
        return None


def stock_rose(variant_ids: list[int] | set[int]) -> None:
    """Call after committing anything that gives stock back to these variants."""
    try:
        _store.clear(sorted(variant_ids))
    except Exception:  # the flags expire within MAX_TRUST_SECONDS anyway
        log.warning("sold-out flags not cleared for %s", sorted(variant_ids), exc_info=True)
