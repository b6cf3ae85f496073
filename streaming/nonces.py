"""Nonces of grants already spent: a grant opens one connection, on any relay.

In memory for one relay process; in Redis (``SET key 1 NX EXAT exp``) when the
relays share one, so a grant spent on relay A is refused on relay B. Either way a
nonce is kept only until its grant would have expired anyway.
"""

from __future__ import annotations

import logging
import math
from typing import Protocol

from sessions.grants import Grant

logger = logging.getLogger(__name__)

REDIS_PREFIX = "vitrine:relay:nonce:"


class GrantReplayed(Exception):
    pass


class NonceStoreDown(Exception):
    pass


class NonceLedger(Protocol):
    async def spend(self, grant: Grant, now: float) -> None:
        """Record the grant's nonce; raise GrantReplayed if it was spent before."""

    async def close(self) -> None: ...


class MemoryNonceLedger:
    def __init__(self) -> None:
        self._spent: dict[str, float] = {}

    async def spend(self, grant: Grant, now: float) -> None:
        for nonce, exp in list(self._spent.items()):
            if exp <= now:
                del self._spent[nonce]
        if grant.nonce in self._spent:
            raise GrantReplayed
        self._spent[grant.nonce] = grant.exp

    async def close(self) -> None:
        return None


class RedisNonceLedger:
    def __init__(self, url: str, prefix: str = REDIS_PREFIX) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)
        self._prefix = prefix

    async def spend(self, grant: Grant, now: float) -> None:
        from redis.exceptions import RedisError

        try:
            fresh = await self._redis.set(
                self._prefix + grant.nonce, b"1", nx=True, exat=math.ceil(grant.exp) + 1
            )
        except RedisError as exc:
            # Refuse rather than accept a grant we cannot prove unspent.
            logger.warning("nonce store unreachable: %s", exc)
            raise NonceStoreDown from None
        if not fresh:
            raise GrantReplayed

    async def close(self) -> None:
        await self._redis.aclose()


def make_ledger(redis_url: str | None) -> NonceLedger:
    return RedisNonceLedger(redis_url) if redis_url else MemoryNonceLedger()
