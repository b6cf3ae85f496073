"""Time-limited TURN credentials: coturn's "TURN REST API" scheme (`use-auth-secret`).

The web app and the relay share `TURN_SECRET` with coturn (its `static-auth-secret`). For
each peer connection they mint a user name `"<expiry unix time>:<identity>"` and its
password `base64(HMAC-SHA1(secret, user name))`; coturn recomputes the HMAC and refuses the
name once its expiry has passed. No user database, and a credential a browser leaked stops
working by itself. Plain standard library: the relay imports this too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Sequence
from typing import Any

# coturn splits the user name at the first ":"; the identity must not start another field.
_IDENTITY = re.compile(r"[^A-Za-z0-9._@-]")


def turn_credentials(
    secret: str, identity: str, ttl_seconds: int, *, now: float | None = None
) -> tuple[str, str]:
    """(user name, password) valid for `ttl_seconds` from `now`."""
    expiry = int(now if now is not None else time.time()) + int(ttl_seconds)
    username = f"{expiry}:{_IDENTITY.sub('-', identity)[:64] or 'anonymous'}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(
    static: Sequence[dict[str, Any]],
    *,
    turn_urls: Sequence[str],
    turn_secret: str,
    ttl_seconds: int,
    identity: str,
    now: float | None = None,
) -> list[dict[str, Any]]:
    """The static ICE servers, then the TURN URLs with fresh credentials (when a secret is set)."""
    servers = [dict(server) for server in static]
    if turn_secret and turn_urls:
        username, credential = turn_credentials(turn_secret, identity, ttl_seconds, now=now)
        servers.append({"urls": list(turn_urls), "username": username, "credential": credential})
    return servers


def parse_urls(text: str) -> list[str]:
    """`TURN_URLS`: comma- or space-separated turn:/turns: URLs."""
    urls = [u for u in re.split(r"[,\s]+", text) if u]
    for url in urls:
        if not url.startswith(("turn:", "turns:")):
            raise ValueError(f"TURN_URLS: {url!r} is not a turn: or turns: URL")
    return urls
