"""Relay settings, read from the command line and the environment."""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sessions.turn import parse_urls

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
    # coturn's static-auth-secret and URLs: each peer connection gets TURN credentials of
    # its own (sessions/turn.py), as the browsers do from the web app.
    turn_secret: str = ""
    turn_urls: tuple[str, ...] = ()
    turn_ttl_seconds: int = 43200
    # Behind 1:1 NAT (a cloud VM): the public IPv4 address the answers announce too.
    public_ip: str = ""
    # Several relays: "redis" registers this one, with its load, in redis_url on every
    # heartbeat (streaming/registry.py); the web nodes assign rooms from there.
    registry: str = ""
    registry_prefix: str = "vitrine-relays"
    heartbeat_seconds: float = 2.0
    # This relay as browsers reach it, and as web nodes do (registered; the first is its
    # id). "{host}" and "{port}" are filled in: one environment file serves N relays.
    advertise_url: str = ""
    advertise_internal_url: str = ""

    def _fill(self, template: str) -> str:
        return template.replace("{host}", self.host).replace("{port}", str(self.port))

    @property
    def public_url(self) -> str:
        return self._fill(self.advertise_url or "http://{host}:{port}").rstrip("/")

    @property
    def internal_url(self) -> str:
        return self._fill(self.advertise_internal_url).rstrip("/") or self.public_url

    @property
    def relay_id(self) -> str:
        return self.public_url

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
        try:
            turn_urls = tuple(parse_urls(env.get("TURN_URLS", "")))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        turn_secret = env.get("TURN_SECRET", "")
        if turn_urls and not turn_secret:
            raise ConfigError("TURN_URLS needs TURN_SECRET (coturn's static-auth-secret)")
        public_ip = env.get("RELAY_PUBLIC_IP", "").strip()
        if public_ip:
            try:
                if ipaddress.ip_address(public_ip).version != 4:
                    raise ValueError
            except ValueError:
                raise ConfigError("RELAY_PUBLIC_IP must be an IPv4 address") from None
        registry = env.get("RELAY_REGISTRY", "")
        redis_url = env.get("RELAY_REDIS_URL") or env.get("REDIS_URL") or None
        if registry not in ("", "redis"):
            raise ConfigError('RELAY_REGISTRY must be "redis" or empty')
        if registry and not redis_url:
            raise ConfigError("RELAY_REGISTRY=redis needs REDIS_URL (or RELAY_REDIS_URL)")
        try:
            heartbeat = float(env.get("RELAY_HEARTBEAT_SECONDS", "2"))
        except ValueError:
            raise ConfigError("RELAY_HEARTBEAT_SECONDS must be a number") from None
        if heartbeat <= 0:
            raise ConfigError("RELAY_HEARTBEAT_SECONDS must be above 0")
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
            redis_url=redis_url,
            turn_secret=turn_secret,
            turn_urls=turn_urls,
            turn_ttl_seconds=int(env.get("TURN_TTL_SECONDS", "43200")),
            public_ip=public_ip,
            registry=registry,
            registry_prefix=env.get("RELAY_REGISTRY_PREFIX", "vitrine-relays"),
            heartbeat_seconds=heartbeat,
            advertise_url=env.get("RELAY_ADVERTISE_URL", ""),
            advertise_internal_url=env.get("RELAY_ADVERTISE_INTERNAL_URL", ""),
        )
