"""A relay registers itself, with its load, on every heartbeat.

With ``RELAY_REGISTRY=redis`` the relay writes, every ``RELAY_HEARTBEAT_SECONDS``, its
registration: where browsers and web nodes reach it (``RELAY_URL``,
``RELAY_INTERNAL_URL``) and its load (rooms, peers, the share of one core its process
used since the last beat). The registration expires after ``MISSED_BEATS`` heartbeats:
a relay that dies, even by SIGKILL, drops out of the registry by itself, and the web
nodes move its rooms (sessions/relays.py). A relay shutting down cleanly withdraws at once.

Without a registry the same load is in ``GET /readyz``, which web nodes with a fixed
``RELAY_URLS`` list ask instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import TYPE_CHECKING, Any

from sessions.relays import registry_keys

if TYPE_CHECKING:
    from .config import RelayConfig
    from .relay import Relay

log = logging.getLogger(__name__)

# A registration not renewed for this many heartbeats lapses: one lost beat (a busy
# event loop, a Redis blip) is not a death.
MISSED_BEATS = 3


class CpuMeter:
    """The process's CPU time over wall time since the last reading (1.0: one full core)."""

    def __init__(self) -> None:
        self._cpu = time.process_time()
        self._wall = time.monotonic()

    def read(self) -> float:
        cpu, wall = time.process_time(), time.monotonic()
        share = (cpu - self._cpu) / max(wall - self._wall, 1e-6)
        self._cpu, self._wall = cpu, wall
        return round(share, 3)


def load_of(relay: Relay, cpu: float) -> dict[str, Any]:
    return {"rooms": len(relay.rooms), "peers": len(relay.peers), "cpu": cpu}


class Registration:
    """The relay's entry in Redis, renewed on a timer until ``stop()``."""

    def __init__(self, relay: Relay, config: RelayConfig) -> None:
        from redis.asyncio import Redis

        assert config.redis_url is not None  # RelayConfig refuses a registry without Redis
        self._redis = Redis.from_url(config.redis_url)
        self._relay = relay
        self._config = config
        self._index, key_prefix = registry_keys(config.registry_prefix)
        self._key = key_prefix + config.relay_id
        self._cpu = CpuMeter()
        self._task: asyncio.Task[None] | None = None
        self.beats = 0

    def entry(self) -> dict[str, Any]:
        config = self._config
        return {
            "id": config.relay_id,
            "url": config.public_url,
            "internal_url": config.internal_url,
            **load_of(self._relay, self._cpu.read()),
        }

    async def beat(self) -> None:
        ttl_ms = int(self._config.heartbeat_seconds * MISSED_BEATS * 1000)
        now_ms = int(time.time() * 1000)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key, json.dumps(self.entry()), px=ttl_ms)
            pipe.zadd(self._index, {self._config.relay_id: now_ms + ttl_ms})
            # Lapsed relays' ids: whichever relay beats next sweeps them.
            pipe.zremrangebyscore(self._index, "-inf", now_ms)
            await pipe.execute()
        self.beats += 1

    async def start(self) -> None:
        from redis.exceptions import RedisError

        try:
            await self.beat()  # registered before the relay says it is ready
        except RedisError as exc:
            # Serve anyway (rooms may be handed to it by RELAY_URL); the loop keeps trying.
            log.warning("could not register the relay: %s", exc)
        self._task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        from redis.exceptions import RedisError

        while True:
            await asyncio.sleep(self._config.heartbeat_seconds)
            try:
                await self.beat()
            except RedisError as exc:
                # Keep serving the rooms it has; the next beat tries again.
                log.warning("could not renew the relay's registration: %s", exc)

    async def stop(self) -> None:
        from redis.exceptions import RedisError

        if self._task is not None:
            self._task.cancel()
        try:
            # Withdrawn at once: its rooms move now, not after three missed beats.
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(self._key)
                pipe.zrem(self._index, self._config.relay_id)
                await pipe.execute()
        except RedisError:
            log.warning("could not withdraw the relay's registration; it lapses by itself")
        await self._redis.aclose()
