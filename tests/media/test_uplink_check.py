"""The relay's uplink check (``POST /rooms/<room>/uplink-check``): the pre-show check's burst,
timed by the relay as it receives it; only with the room's publish grant (not spent: the
host may run the check again), too small or too large refused in words, nothing kept."""

from __future__ import annotations

import os

import aiohttp
import pytest

from streaming.config import RelayConfig
from streaming.server import MAX_UPLINK_BYTES

from .conftest import GrantFactory, serve_relay

pytestmark = [pytest.mark.media, pytest.mark.anyio]


async def post(url: str, body: bytes, token: str | None) -> tuple[int, dict]:  # type: ignore[type-arg]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        return r.status, await r.json()


async def test_the_burst_is_timed_for_the_rooms_publisher_only(
    relay_config: RelayConfig, grant: GrantFactory
) -> None:
    burst = os.urandom(1536 * 1024)
    async with serve_relay(relay_config) as relay:
        url = f"{relay.url}/rooms/show-check/uplink-check"
        status, body = await post(url, burst, None)
        assert status == 401 and body["error"] == "grant_refused"
        status, body = await post(url, burst, grant("show-check", "view"))
        assert status == 403 and body["error"] == "role_not_allowed"
        status, body = await post(url, burst, grant("show-other", "publish"))
        assert status == 403
        token = grant("show-check", "publish")
        for _ in range(2):  # the same grant twice: a check spends nothing
            status, body = await post(url, burst, token)
            assert status == 200, body
            assert body["bytes"] == len(burst) and body["seconds"] > 0 and body["kbps"] > 0
        status, body = await post(url, b"x" * 1000, token)
        assert status == 400 and "128 kB" in body["message"]
        status, body = await post(url, b"x" * (MAX_UPLINK_BYTES + 1), token)
        assert status == 413 and body["error"] == "too_large"
        assert not (relay_config.media_dir / "rooms").exists() or not any(
            p.name.startswith("show-check") for p in (relay_config.media_dir).rglob("*")
        )
