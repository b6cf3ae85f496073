"""Fixtures for media tests: a real relay on an ephemeral loopback port, grants,
and helpers that read the synthetic camera's stamp back from decoded frames."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from sessions.grants import Role, issue_grant
from streaming.config import RelayConfig
from streaming.relay import Relay
from streaming.server import RELAY_KEY, create_app

SECRET = "test-media-secret"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class RunningRelay:
    url: str
    relay: Relay
    config: RelayConfig


@pytest.fixture
def relay_config(tmp_path: Path) -> RelayConfig:
    return RelayConfig(grant_secret=SECRET, media_dir=tmp_path / "media", max_viewers=150)


@pytest.fixture
async def relay(relay_config: RelayConfig) -> AsyncIterator[RunningRelay]:
    app = create_app(relay_config)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield RunningRelay(f"http://127.0.0.1:{port}", app[RELAY_KEY], relay_config)
    await runner.cleanup()


GrantFactory = Callable[..., str]


@pytest.fixture
def grant() -> GrantFactory:
    """``grant("room", "view")`` -> a fresh signed grant (new nonce each call)."""

    def make(room: str, role: Role, *, ttl: float = 60, now: float | None = None) -> str:
        return issue_grant(
            SECRET, room=room, role=role, identity=f"{role}-tester", ttl=ttl, now=now
        )

    return make


def expired_grant(room: str, role: Role) -> str:
    return issue_grant(SECRET, room=room, role=role, identity="late", ttl=10, now=time.time() - 60)
