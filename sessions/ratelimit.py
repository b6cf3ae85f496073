"""Rate limits that hold across web nodes: chat, hearts, guest creation, mails.

Built on `limits` (the library under Flask-Limiter) rather than our own counters: a
moving window per key, kept in Redis when ``REDIS_URL`` is set — so a shopper whose
sockets land on two nodes still gets one budget — and in process memory otherwise
(one node). The web app calls :func:`configure` once at start; the domain only
declares limiters and hits them, without knowing where the counts live.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from sessions.errors import TooManyRequests


class _SweepingMemoryStorage(MemoryStorage):
    """limits' memory storage, sweeping expired entries at most once a second, inline.

    The library's own schedules a 10 ms ``threading.Timer`` on nearly every hit (whenever
    the last one has run), and each timer walks every key: a thread (a greenlet under
    gevent) and a sweep of the whole table per chat message, the largest cost of a
    thread message's POST in bench/service_inbox.py's profile
    (bench/profile_inbox_post.py). The moving window does not need the sweep to be
    right (each hit compares the entries' times); it only keeps memory bounded."""

    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, **options: str) -> None:
        self._next_sweep = 0.0
        super().__init__(uri, **options)  # type: ignore[arg-type]

    def _MemoryStorage__schedule_expiry(self) -> None:  # the library's private hook
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.SWEEP_SECONDS
        self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


def _storage_errors() -> tuple[type[Exception], ...]:
    from limits.errors import StorageError

    errors: tuple[type[Exception], ...] = (StorageError, ConnectionError, TimeoutError)
    try:
        import redis

        errors += (redis.RedisError,)
    except ImportError:  # no Redis client: only the in-process storage is in use
        pass
    return errors


_STORAGE_ERRORS = _storage_errors()
log = logging.getLogger(__name__)


class _Backend:
    """The one storage every limiter in this process shares."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.where: tuple[str | None, str] = (None, DEFAULT_PREFIX)
        self.storage: Storage = _SweepingMemoryStorage()
        self.strategy = MovingWindowRateLimiter(self.storage)
        # While a shared storage (Redis) is out of reach: this process's own counts.
        self.fallback = MovingWindowRateLimiter(_SweepingMemoryStorage())
        self.down = False

    def run(self, method: str, *args: Any) -> Any:
        """The strategy's `method`; on a storage error, the same on this process's counts
        (limits still hold per node, the node keeps serving)."""
        try:
            result = getattr(self.strategy, method)(*args)
        except _STORAGE_ERRORS as exc:
            if not self.down:
                log.warning("rate-limit storage unreachable, counting in this process: %s", exc)
            self.down = True
            return getattr(self.fallback, method)(*args)
        if self.down:
            log.warning("rate-limit storage reachable again")
        self.down = False
        return result

    def use(self, url: str | None, key_prefix: str) -> None:
        with self._lock:
            if (url, key_prefix) == self.where:
                return
            storage = (
                storage_from_string(url, key_prefix=key_prefix) if url else _SweepingMemoryStorage()
            )
            assert isinstance(storage, Storage)  # the synchronous flavour, not limits.aio
            self.storage = storage
            self.strategy = MovingWindowRateLimiter(self.storage)
            self.where = (url, key_prefix)


DEFAULT_PREFIX = "vitrine-limits"
_backend = _Backend()


def configure(redis_url: str | None, key_prefix: str = DEFAULT_PREFIX) -> None:
    """Keep counts in Redis (shared by every node) or, with no URL, in this process.

    Nodes of one deployment share a ``key_prefix``; two deployments (or two test
    runs) on one Redis keep apart by choosing different ones.
    """
    _backend.use(redis_url, key_prefix)


def reset() -> None:
    """Forget every count (tests; an operator lifting limits after an incident)."""
    _backend.storage.reset()


class RateLimiter:
    """At most ``limit`` hits (e.g. ``"5 per 10 seconds"``) per key in a moving window."""

    def __init__(self, namespace: str, limit: str, message: str) -> None:
        self.namespace = namespace
        self.item: RateLimitItem = parse(limit)
        # ``%(wait)s`` in the message (an N_() msgid) becomes the seconds until the next
        # hit is allowed.
        self.message = message

    def set_limit(self, limit: str) -> None:
        """Change the limit (the app applies its configuration at start)."""
        self.item = parse(limit)

    def allow(self, key: str) -> bool:
        """Count one hit; False when the key is over its limit (the hit is not counted)."""
        return bool(_backend.run("hit", self.item, self.namespace, key))

    def hit(self, key: str) -> None:
        """Count one hit, or raise TooManyRequests saying how long to wait."""
        if not self.allow(key):
            raise self._refusal(key)

    def check(self, key: str) -> None:
        """Raise TooManyRequests if a hit now would be over the limit; count nothing.

        For costs known only later: check before the work, ``allow`` once it is done
        (a booking that loses its slot to another shopper sends no mail, so it must
        not spend the mail budget).
        """
        if not _backend.run("test", self.item, self.namespace, key):
            raise self._refusal(key)

    def _refusal(self, key: str) -> TooManyRequests:
        stats = _backend.run("get_window_stats", self.item, self.namespace, key)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        return TooManyRequests(self.message, params={"wait": wait})
