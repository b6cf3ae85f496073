"""Relay settings, read from the command line and the environment."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEV_SECRET = "dev-media-secret"


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class RelayConfig:
    grant_secret: str
    host: str = "127.0.0.1"
    port: int = 8001
    media_dir: Path = Path("var/media")
    # No public STUN by default: host candidates only, nothing leaves the machine.
    ice_servers: list[dict[str, Any]] = field(default_factory=list)
    allowed_origins: tuple[str, ...] = ("*",)
    max_viewers: int = 150
    dev: bool = False
    # Bearer token of the internal routes (/metrics, full /rooms/<room>/status),
    # shared with the web nodes. Empty: those routes refuse everyone.
    internal_token: str = ""
    # Spent grant nonces are kept here when set, so every relay refuses a replay.
    redis_url: str | None = None

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        host: str | None = None,
        port: int | None = None,
        dev: bool = False,
    ) -> RelayConfig:
        env = os.environ if env is None else env
        secret = env.get("MEDIA_GRANT_SECRET", "")
        if not secret:
            if not dev:
                raise ConfigError("MEDIA_GRANT_SECRET is required (or run with --dev)")
            secret = DEV_SECRET
        try:
            ice_servers = json.loads(env.get("RELAY_ICE_SERVERS", "[]") or "[]")
        except json.JSONDecodeError as exc:
            raise ConfigError(f"RELAY_ICE_SERVERS is not JSON: {exc}") from None
        if not isinstance(ice_servers, list):
            raise ConfigError("RELAY_ICE_SERVERS must be a JSON list")
        origins_text = env.get("RELAY_ALLOWED_ORIGINS", "*" if dev else "")
        origins = tuple(o.strip() for o in origins_text.split(",") if o.strip())
        return cls(
            grant_secret=secret,
            host=host or env.get("RELAY_HOST", "127.0.0.1"),
            port=port or int(env.get("RELAY_PORT", "8001")),
            media_dir=Path(env.get("RELAY_MEDIA_DIR", "var/media")),
            ice_servers=ice_servers,
            allowed_origins=origins,
            max_viewers=int(env.get("RELAY_MAX_VIEWERS", "150")),
            dev=dev,
            internal_token=env.get("RELAY_INTERNAL_TOKEN", ""),
            redis_url=env.get("RELAY_REDIS_URL") or env.get("REDIS_URL") or None,
        )
