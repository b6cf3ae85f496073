"""Configuration from the environment. Every variable is listed in the README."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from sessions.db import DEFAULT_DATABASE_URL


class ConfigError(RuntimeError):
    pass


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def is_production() -> bool:
    """Production rules (https-only settings, HSTS) unless VITRINE_ENV says otherwise."""
    from flask import current_app

    return bool(current_app.config.get("VITRINE_ENV", "production") == "production")


def _persistent_dev_secret(var_dir: Path, name: str) -> str:
    """A random secret kept under var/ so dev restarts keep sessions. Never in production."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    env = os.environ.get("VITRINE_ENV", "production")
    var_dir = Path(os.environ.get("VITRINE_VAR_DIR", "var")).resolve()
    production = env == "production"

    secret_key = os.environ.get("SECRET_KEY")
    grant_secret = os.environ.get("MEDIA_GRANT_SECRET")
    relay_token = os.environ.get("RELAY_INTERNAL_TOKEN", "")
    if not production:
        secret_key = secret_key or _persistent_dev_secret(var_dir, "secret_key")
        grant_secret = grant_secret or _persistent_dev_secret(var_dir, "media_grant_secret")
        relay_token = relay_token or _persistent_dev_secret(var_dir, "relay_internal_token")

    config: dict[str, Any] = {
        "VITRINE_ENV": env,
        "VAR_DIR": str(var_dir),
        "SECRET_KEY": secret_key,
        "MEDIA_GRANT_SECRET": grant_secret,
        "DATABASE_URL": os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL),
        # PostgreSQL connections per node: pool and overflow (nodes × both must stay under
        # the server's max_connections); SQLite's pool is its own (sessions/db.py).
        "DATABASE_POOL_SIZE": int(os.environ.get("DATABASE_POOL_SIZE", "10")),
        "DATABASE_MAX_OVERFLOW": int(os.environ.get("DATABASE_MAX_OVERFLOW", "20")),
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        # Explicit: with eventlet installed too, auto-detection would pick eventlet first.
        "SOCKETIO_ASYNC_MODE": os.environ.get("SOCKETIO_ASYNC_MODE") or "gevent",
        # Redis pub/sub channel of the Socket.IO message queue (one per deployment or test).
        "SOCKETIO_CHANNEL": os.environ.get("SOCKETIO_CHANNEL", "flask-socketio"),
        # Live rooms: chat/hearts/presence batching window; expired-reservation sweep period.
        "CHAT_BATCH_MS": int(os.environ.get("CHAT_BATCH_MS", "100")),
        "PRESENCE_PUSH_MS": int(os.environ.get("PRESENCE_PUSH_MS", "1000")),
        # How long a node reuses a room's shared state between pushes (web/sockets/snapshots.py).
        "ROOM_STATE_CACHE_SECONDS": float(os.environ.get("ROOM_STATE_CACHE_SECONDS", "1")),
        "RESERVATION_SWEEP_SECONDS": int(os.environ.get("RESERVATION_SWEEP_SECONDS", "30")),
        # The app's scheduler (web/scheduler.py): on in every node; how often offers end.
        "SCHEDULER": _bool("SCHEDULER", True),
        "OFFER_TICK_SECONDS": float(os.environ.get("OFFER_TICK_SECONDS", "0.5")),
        # How often the scheduler closes shows' polls whose time is up (sessions/shows/polls.py).
        "POLL_TICK_SECONDS": float(os.environ.get("POLL_TICK_SECONDS", "1")),
        # How often the scheduler sends due show reminders (remind me: sessions/shows/).
        "SHOW_REMINDER_INTERVAL_SECONDS": float(
            os.environ.get("SHOW_REMINDER_INTERVAL_SECONDS", "30")
        ),
        # How often slots held for the waitlist past their time pass to the next in line.
        "WAITLIST_TICK_SECONDS": float(os.environ.get("WAITLIST_TICK_SECONDS", "30")),
        # Each brand's retention (sessions/privacy/retention.py): a brand is purged at most hourly.
        "PRIVACY_PURGE_SECONDS": float(os.environ.get("PRIVACY_PURGE_SECONDS", "3600")),
        # Remind-me requests one client address may make ("limits" notation).
        "SHOW_REMINDER_RATE_LIMIT": os.environ.get("SHOW_REMINDER_RATE_LIMIT", "20 per hour"),
        "ANALYTICS_HEARTBEAT_SECONDS": int(os.environ.get("ANALYTICS_HEARTBEAT_SECONDS", "60")),
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
        # The relay as the browser reaches it, and as the web node reaches it.
        "RELAY_URL": os.environ.get("RELAY_URL", "http://127.0.0.1:8001").rstrip("/"),
        "RELAY_INTERNAL_URL": (
            os.environ.get("RELAY_INTERNAL_URL")
            or os.environ.get("RELAY_URL")
            or "http://127.0.0.1:8001"
        ).rstrip("/"),
        # Several relays: "redis", each registers itself in REDIS_URL with its load; or a
        # fixed RELAY_URLS list (no Redis), asked for its load. Neither: RELAY_URL alone.
        "RELAY_REGISTRY": os.environ.get("RELAY_REGISTRY", ""),
        "RELAY_REGISTRY_PREFIX": os.environ.get("RELAY_REGISTRY_PREFIX", "vitrine-relays"),
        "RELAY_URLS": os.environ.get("RELAY_URLS", ""),
        # A show's viewers past this many peers on its relay are served by another relay
        # pulling the show from it (an edge); 0: never.
        "RELAY_EDGE_AT_PEERS": int(os.environ.get("RELAY_EDGE_AT_PEERS", "150")),
        # How often relays renew their registration (three missed: dead, rooms moved).
        "RELAY_HEARTBEAT_SECONDS": float(os.environ.get("RELAY_HEARTBEAT_SECONDS", "2")),
        # Opens the relay's internal routes (full status, metrics); the relay has the same.
        "RELAY_INTERNAL_TOKEN": relay_token,
        "ICE_SERVERS": json.loads(os.environ.get("ICE_SERVERS", "[]")),
        # coturn's static-auth-secret: each media grant carries TURN credentials of its own
        # for TURN_URLS, valid TURN_TTL_SECONDS (sessions/turn.py). Unset: no TURN handed out.
        "TURN_SECRET": os.environ.get("TURN_SECRET", ""),
        "TURN_URLS": os.environ.get("TURN_URLS", ""),
        "TURN_TTL_SECONDS": int(os.environ.get("TURN_TTL_SECONDS", "43200")),
        # "relay": browsers use TURN only (their address never reaches the relay).
        "ICE_TRANSPORT_POLICY": os.environ.get("ICE_TRANSPORT_POLICY", "all"),
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR", str(var_dir / "uploads")),
        "SMTP_HOST": os.environ.get("SMTP_HOST", ""),
        "SMTP_PORT": int(os.environ.get("SMTP_PORT", "25")),
        "SMTP_USER": os.environ.get("SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _bool("SMTP_STARTTLS", False),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Vitrine <no-reply@vitrine.local>"),
        # Abuse limits (`limits` notation, e.g. "20 per hour"), counted across nodes in Redis.
        # Guests a client address may create: raise it for events behind one shared NAT.
        "GUEST_RATE_LIMIT": os.environ.get("GUEST_RATE_LIMIT", "20 per hour"),
        "GUEST_LIFETIME_DAYS": int(os.environ.get("GUEST_LIFETIME_DAYS", "30")),
        # How long an embed page's signed token (its guest, for its brand) works.
        "EMBED_TOKEN_SECONDS": int(os.environ.get("EMBED_TOKEN_SECONDS", "14400")),
        "CHAT_RATE_LIMIT": os.environ.get("CHAT_RATE_LIMIT", "5 per 10 seconds"),
        "HEART_RATE_LIMIT": os.environ.get("HEART_RATE_LIMIT", "30 per 3 seconds"),
        # Keys in Redis start with this: one per deployment sharing a Redis.
        "RATE_LIMIT_PREFIX": os.environ.get("RATE_LIMIT_PREFIX", "vitrine-limits"),
        # Tests only: let brand URLs (checkout webhook, cart) point at loopback/private
        # hosts, for a receiver on 127.0.0.1. Refused in production, below.
        "ALLOW_PRIVATE_WEBHOOK_HOSTS": _bool("ALLOW_PRIVATE_WEBHOOK_HOSTS", False),
        "LOGIN_MAX_FAILURES": int(os.environ.get("LOGIN_MAX_FAILURES", "5")),
        "LOGIN_WINDOW_SECONDS": int(os.environ.get("LOGIN_WINDOW_SECONDS", "900")),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": int(
            os.environ.get("LOGIN_MAX_FAILURES_PER_ADDRESS", "50")
        ),
        # How many proxies in front of the web node set X-Forwarded-For/-Proto (the shipped
        # nginx: 1). 0 trusts nothing: a client could forge its address otherwise.
        "TRUSTED_PROXY_COUNT": int(os.environ.get("TRUSTED_PROXY_COUNT", "0")),
        # ...and only from these peers (addresses or networks): web/proxy.py.
        "TRUSTED_PROXIES": os.environ.get("TRUSTED_PROXIES", "127.0.0.0/8, ::1"),
        # Opens the web node's /metrics (Prometheus); unset, /metrics refuses everyone.
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN", ""),
        # One line per record: JSON (production) or text, each with its request id.
        "LOG_FORMAT": os.environ.get("LOG_FORMAT") or ("json" if production else "text"),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO").upper(),
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "vitrine_session",
        "PERMANENT_SESSION_LIFETIME": 60 * 60 * 24 * 30,
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_UPLOAD_BYTES", str(8 * 1024 * 1024))),
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_ENABLED": True,
    }
    if overrides:
        config.update(overrides)
    if not config["SECRET_KEY"]:
        raise ConfigError("SECRET_KEY must be set in production (VITRINE_ENV=production).")
    if not config["MEDIA_GRANT_SECRET"]:
        raise ConfigError("MEDIA_GRANT_SECRET must be set in production.")
    _check_limits(config)
    _check_observability(config)
    _check_turn(config)
    _check_relays(config)
    if config["ALLOW_PRIVATE_WEBHOOK_HOSTS"] and config["VITRINE_ENV"] == "production":
        raise ConfigError("ALLOW_PRIVATE_WEBHOOK_HOSTS is for tests; never in production.")
    return config


def _check_limits(config: dict[str, Any]) -> None:
    """A typo in a limit should stop the node at start, not 500 on the first chat."""
    from limits import parse

    for name in (
        "GUEST_RATE_LIMIT",
        "CHAT_RATE_LIMIT",
        "HEART_RATE_LIMIT",
        "SHOW_REMINDER_RATE_LIMIT",
    ):
        try:
            parse(config[name])
        except ValueError:
            raise ConfigError(f'{name} must read like "20 per hour".') from None
    if config["GUEST_LIFETIME_DAYS"] < 1:
        raise ConfigError("GUEST_LIFETIME_DAYS must be at least 1.")


def _check_observability(config: dict[str, Any]) -> None:
    import logging

    from web.proxy import parse_networks

    try:
        parse_networks(config["TRUSTED_PROXIES"])
    except ValueError as exc:
        raise ConfigError(f"TRUSTED_PROXIES: {exc}.") from None
    if config["LOG_FORMAT"] not in ("json", "text"):
        raise ConfigError('LOG_FORMAT must be "json" or "text".')
    if not isinstance(logging.getLevelName(config["LOG_LEVEL"]), int):
        raise ConfigError("LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR.")


def _check_turn(config: dict[str, Any]) -> None:
    """TURN_URLS becomes a list; a policy or TTL typo stops the node at start."""
    from sessions.turn import parse_urls

    if isinstance(config["TURN_URLS"], str):
        try:
            config["TURN_URLS"] = parse_urls(config["TURN_URLS"])
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    if config["ICE_TRANSPORT_POLICY"] not in ("all", "relay"):
        raise ConfigError('ICE_TRANSPORT_POLICY must be "all" or "relay".')
    if config["TURN_TTL_SECONDS"] < 60:
        raise ConfigError("TURN_TTL_SECONDS must be at least 60.")
    if config["TURN_URLS"] and not config["TURN_SECRET"]:
        raise ConfigError("TURN_URLS needs TURN_SECRET (coturn's static-auth-secret).")


def _check_relays(config: dict[str, Any]) -> None:
    """RELAY_URLS becomes a list of (browser URL, internal URL); a registry needs Redis."""
    from web.relays import parse_relay_urls

    if isinstance(config["RELAY_URLS"], str):
        try:
            config["RELAY_URLS"] = parse_relay_urls(config["RELAY_URLS"])
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    if config["RELAY_REGISTRY"] not in ("", "redis"):
        raise ConfigError('RELAY_REGISTRY must be "redis" or empty.')
    if config["RELAY_REGISTRY"] == "redis" and not config["REDIS_URL"]:
        raise ConfigError("RELAY_REGISTRY=redis needs REDIS_URL.")
    if config["RELAY_EDGE_AT_PEERS"] < 0:
        raise ConfigError("RELAY_EDGE_AT_PEERS must be 0 (never) or more.")
    if config["RELAY_HEARTBEAT_SECONDS"] <= 0:
        raise ConfigError("RELAY_HEARTBEAT_SECONDS must be above 0.")
