"""Which relays are live, and which one a session's media goes to.

Three set-ups, from the configuration:
- one relay (``RELAY_URL``, ``RELAY_INTERNAL_URL``): every room on it, nothing stored;
- ``RELAY_REGISTRY=redis``: each relay registers itself in Redis with its load on every
  heartbeat (streaming/registry.py); a registration not renewed for three heartbeats
  lapses, and its relay counts as dead;
- ``RELAY_URLS`` (no Redis): a fixed list; the web node asks each relay's ``/readyz`` for
  its load, at most once per heartbeat, and a relay that does not answer counts as dead.

A session's relay is chosen on its first media grant (sessions/relays.py: the least
loaded, stored on the session) and kept while it lives; the ``relays`` job of the
scheduler moves the sessions of a dead relay and tells their rooms.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from flask import Flask, current_app

from sessions.models import LiveSession
from sessions.relays import RelayInfo, do_assign_relay, registry_keys

log = logging.getLogger(__name__)


class Directory(Protocol):
    def live(self) -> list[RelayInfo]:
        """The relays alive now, with their load."""

    def recent(self) -> list[RelayInfo]:
        """The relays alive at most a heartbeat ago (every response's CSP asks)."""


class RedisDirectory:
    """Relays as they registered in Redis: one ZRANGEBYSCORE and one MGET per look."""

    def __init__(self, url: str, prefix: str, heartbeat: float) -> None:
        import redis

        self._redis: Any = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._index, self._key = registry_keys(prefix)
        self._heartbeat = heartbeat
        self._lock = threading.Lock()
        self._seen: tuple[float, list[RelayInfo]] = (float("-inf"), [])

    def recent(self) -> list[RelayInfo]:
        with self._lock:
            at, relays = self._seen
            if time.monotonic() - at < self._heartbeat:
                return relays
        relays = self.live()
        with self._lock:
            self._seen = (time.monotonic(), relays)
        return relays

    def live(self) -> list[RelayInfo]:
        import redis

        now_ms = int(time.time() * 1000)
        try:
            ids = self._redis.zrangebyscore(self._index, now_ms, "+inf")
            values = self._redis.mget([self._key + i.decode() for i in ids]) if ids else []
        except redis.RedisError:
            log.warning("the relay registry in Redis cannot be read")
            return []
        # A key gone while its score stands: it lapsed between the two reads.
        return [_parse(value) for value in values if value is not None]


PROBE_SECONDS = 2.0


class StaticDirectory:
    """RELAY_URLS: each relay's /readyz says whether it is up and how loaded."""

    def __init__(self, relays: list[tuple[str, str]], heartbeat: float) -> None:
        self._relays = relays
        self._heartbeat = heartbeat
        self._lock = threading.Lock()
        self._seen: list[RelayInfo] = []
        self._at = float("-inf")

    def recent(self) -> list[RelayInfo]:
        return self.live()  # already at most a heartbeat old

    def live(self) -> list[RelayInfo]:
        with self._lock:
            if time.monotonic() - self._at >= self._heartbeat:
                self._seen = [info for info in map(self._probe, self._relays) if info]
                self._at = time.monotonic()
            return list(self._seen)

    def _probe(self, relay: tuple[str, str]) -> RelayInfo | None:
        url, internal = relay
        try:
            # Not tied to the heartbeat: a short one (tests use 1 ms, to probe every call)
            # would count a relay that is merely busy for a moment as dead.
            response = requests.get(f"{internal}/readyz", timeout=PROBE_SECONDS)
            response.raise_for_status()
            load = response.json()
        except (requests.RequestException, ValueError):
            return None
        return RelayInfo(
            id=url,
            url=url,
            internal_url=internal,
            rooms=int(load.get("rooms", 0)),
            peers=int(load.get("peers", 0)),
            cpu=float(load.get("cpu", 0.0)),
        )


def _parse(value: bytes) -> RelayInfo:
    data = json.loads(value)
    return RelayInfo(
        id=str(data["id"]),
        url=str(data["url"]),
        internal_url=str(data["internal_url"]),
        rooms=int(data.get("rooms", 0)),
        peers=int(data.get("peers", 0)),
        cpu=float(data.get("cpu", 0.0)),
    )


def parse_relay_urls(text: str) -> list[tuple[str, str]]:
    """``RELAY_URLS``: comma-separated, each ``<browser URL>`` or ``<browser URL> <internal
    URL>`` (how web nodes reach it, when that differs)."""
    relays = []
    for entry in text.split(","):
        parts = entry.split()
        if not parts:
            continue
        if len(parts) > 2 or not all(urlsplit(p).scheme in ("http", "https") for p in parts):
            raise ValueError(
                f"RELAY_URLS: {entry.strip()!r} is not `<url>` or `<url> <internal url>`"
            )
        url = parts[0].rstrip("/")
        relays.append((url, (parts[1] if len(parts) == 2 else url).rstrip("/")))
    return relays


def init_app(app: Flask) -> None:
    config = app.config
    directory: Directory | None = None
    if config["RELAY_REGISTRY"] == "redis":
        directory = RedisDirectory(
            config["REDIS_URL"], config["RELAY_REGISTRY_PREFIX"], config["RELAY_HEARTBEAT_SECONDS"]
        )
    elif config["RELAY_URLS"]:
        directory = StaticDirectory(config["RELAY_URLS"], config["RELAY_HEARTBEAT_SECONDS"])
    app.extensions["vitrine.relays"] = directory


def directory_of(app: Flask) -> Directory | None:
    found: Directory | None = app.extensions.get("vitrine.relays")
    return found


def configured_relay(app: Flask | None = None) -> RelayInfo:
    """The single relay of RELAY_URL: every room's when there is no directory, and the
    fallback when none of the directory's relays is live."""
    config = (app or current_app).config
    return RelayInfo(id="", url=config["RELAY_URL"], internal_url=config["RELAY_INTERNAL_URL"])


def live_relays(app: Flask | None = None) -> list[RelayInfo]:
    directory = directory_of(app or current_app)
    return directory.live() if directory is not None else []


def assign_relay(live: LiveSession) -> RelayInfo:
    """The relay for a media grant of this session (a POST: this may store the choice)."""
    from web.db import db

    relays = live_relays()
    if not relays:
        return configured_relay()
    return do_assign_relay(db(), live, relays) or configured_relay()


def relay_of(live: LiveSession, app: Flask | None = None) -> RelayInfo:
    """The relay the session's rooms are on now, without choosing one (safe for a GET and
    for the web node's own calls: ending a show, a co-host's mute, the cover picture)."""
    if live.relay_id:
        for relay in live_relays(app):
            if relay.id == live.relay_id:
                return relay
    return configured_relay(app)


def relay_origins() -> list[str]:
    """Every relay a page may reach (the CSP's connect-src, media-src and img-src)."""
    urls = [current_app.config["RELAY_URL"]]
    urls += [url for url, _ in current_app.config["RELAY_URLS"]]
    directory = directory_of(current_app)
    if directory is not None:
        urls += [relay.url for relay in directory.recent()]
    return sorted({origin for origin in map(_origin, urls) if origin})


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


# --- a show larger than one relay: viewers served by an edge -------------------------------


def relay_for_grant(live: LiveSession, role: str) -> RelayInfo:
    """The relay a media grant names. Publishers, consultations and shows whose relay has
    room go to the session's own relay (its origin). A show's viewer past
    ``RELAY_EDGE_AT_PEERS`` peers on the origin goes to the least loaded other live relay,
    which pulls the show from the origin once (streaming/edge.py: encoded packets, no
    re-encode) and serves its own viewers: WebRTC viewers grow with relay processes.
    The load is each relay's as of its last heartbeat, so a burst of joins within one
    heartbeat may all land on the origin; the next ones spill."""
    from sessions.models import SessionKind

    origin = assign_relay(live)
    limit = current_app.config["RELAY_EDGE_AT_PEERS"]
    if role != "view" or live.kind is not SessionKind.SHOW or not limit or origin.peers < limit:
        return origin
    others = [r for r in live_relays() if r.id != origin.id and r.peers < limit]
    for edge in sorted(others, key=RelayInfo.load_key):
        if _pull(edge, live.room, origin):
            return edge
    return origin  # no edge could take it: the origin serves on, as with one relay


def _pull(edge: RelayInfo, room: str, origin: RelayInfo) -> bool:
    """Ask ``edge`` to serve ``room`` pulled from ``origin`` (idempotent: 200 when it
    already does). A relay that refuses (the room in use there, or pulled from an origin
    that has since moved) or does not answer is passed over."""
    from web.relay import internal_headers

    url = f"{edge.internal_url}/rooms/{room}/pull"
    try:
        answer = requests.post(
            url, json={"origin": origin.internal_url}, headers=internal_headers(), timeout=5
        )
        if answer.status_code == 409 and answer.json().get("error") == "pulled_elsewhere":
            # The show moved to another origin since this edge started pulling it: start over.
            requests.delete(url, headers=internal_headers(), timeout=5)
            answer = requests.post(
                url, json={"origin": origin.internal_url}, headers=internal_headers(), timeout=5
            )
    except (requests.RequestException, ValueError):
        log.warning("relay %s did not answer a pull of %s", edge.id, room)
        return False
    if answer.status_code not in (200, 201):
        log.info("relay %s refused to pull %s: %s", edge.id, room, answer.text[:200])
        return False
    return True
