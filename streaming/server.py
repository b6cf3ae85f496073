"""HTTP face of the relay: signalling, status, snapshots, files, metrics.

Who may read what (docs/relay.md has the table):
- a public show's HLS, thumbnail and recording (its replay): anyone;
- any other room's files and its status: a request carrying a grant for that room
  (``Authorization: Bearer`` or ``?grant=`` for ``<video src>``; not spent), or the
  token the relay handed back to a peer of that room;
- ``/metrics`` and the full status (with the recording's file name): the web nodes
  and the operator, with ``RELAY_INTERNAL_TOKEN``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from sessions.grants import HOST_SLOT
from sessions.jsondepth import nests_deeper_than

from .config import RelayConfig
from .edge import Edges
from .llhls import PLAYLIST, TooFarAhead, part_of
from .media_files import inside, is_hls_file, is_room_name, recording_room, remove_room_files
from .metrics import make_registry
from .registry import CpuMeter, Registration, load_of
from .relay import Relay, RelayError

RELAY_KEY = web.AppKey("relay", Relay)
EDGES_KEY = web.AppKey("edges", Edges)
CONFIG_KEY = web.AppKey("config", RelayConfig)
REGISTRY_KEY = web.AppKey("registry", CollectorRegistry)
REGISTRATION_KEY = web.AppKey("registration", Registration)
CPU_KEY = web.AppKey("cpu", CpuMeter)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_BODY_BYTES = 256 * 1024
HLS_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
}
# A public show's parts, segments and init segment never change under their name (the
# name carries the stream's id): a CDN or nginx may keep them for the show's minute.
# Playlists change with every part: never cached.
HLS_MEDIA_CACHE = "public, max-age=60"


def error_response(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except RelayError as exc:
        return error_response(exc.status, exc.code, exc.message)
    except web.HTTPNotFound:
        return error_response(404, "not_found", "no such resource")
    except web.HTTPMethodNotAllowed:
        return error_response(405, "method_not_allowed", "method not allowed")
    except web.HTTPRequestEntityTooLarge:
        return error_response(413, "too_large", f"the body is over {MAX_BODY_BYTES} bytes")
    except web.HTTPClientError as exc:
        return error_response(exc.status, "bad_request", exc.reason)


def cors_middleware(origins: tuple[str, ...]) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        allowed = origin is not None and ("*" in origins or origin in origins)
        if request.method == "OPTIONS" and allowed:
            response: web.StreamResponse = web.Response(status=204)
        else:
            response = await handler(request)
        if allowed and origin is not None:
            response.headers["Access-Control-Allow-Origin"] = "*" if "*" in origins else origin
            response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
            response.headers["Vary"] = "Origin"
        return response

    return middleware


# An offer is one flat object; nothing legitimate nests deeper than this.
MAX_JSON_DEPTH = 32


async def read_offer(request: web.Request) -> tuple[str, str, str | None]:
    data = await request.read()
    if nests_deeper_than(data, MAX_JSON_DEPTH):  # before parsing: see sessions/jsondepth.py
        raise RelayError(400, "bad_request", "the JSON is nested too deeply")
    try:
        # From the bytes: JSON is UTF-8 whatever charset the Content-Type claims
        # (request.json() would look that charset up, and an unknown one raises).
        body = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise RelayError(400, "bad_request", "the body must be JSON") from None
    if not isinstance(body, dict):
        raise RelayError(400, "bad_request", "the body must be a JSON object")
    grant, sdp, kind, room = body.get("grant"), body.get("sdp"), body.get("type"), body.get("room")
    if not isinstance(grant, str) or not grant:
        raise RelayError(400, "bad_request", "a grant is required")
    if not isinstance(sdp, str) or kind != "offer":
        raise RelayError(400, "bad_request", 'an "sdp" with "type": "offer" is required')
    if room is not None and not isinstance(room, str):
        raise RelayError(400, "bad_request", "room must be a string")
    return grant, sdp, room


# -- credentials ---------------------------------------------------------------


def credential(request: web.Request) -> str | None:
    """``Authorization: Bearer …``, else ``?grant=…`` (a ``<video src>`` sends no header)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    query = request.query.get("grant", "").strip()
    return query or None


def bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise RelayError(401, "grant_refused", "an Authorization: Bearer grant is required")
    return token.strip()


def is_internal(request: web.Request) -> bool:
    expected = request.app[CONFIG_KEY].internal_token
    given = credential(request)
    if not expected or given is None:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def check_internal(request: web.Request) -> None:
    if not is_internal(request):
        raise RelayError(
            401, "internal_only", "this route needs the relay's internal token (web nodes only)"
        )


def check_room_reader(request: web.Request, room: str) -> None:
    """A grant for this room (any role, not spent), a peer of it, or the internal token."""
    if is_internal(request):
        return
    token = credential(request)
    if token is None:
        raise RelayError(401, "grant_required", "a grant for this room is required")
    relay = request.app[RELAY_KEY]
    peer = relay.peer_with_token(token)
    if peer is not None:
        if peer.room != room:
            raise RelayError(403, "wrong_room", "this peer belongs to another room")
        return
    if relay.verify(token).room != room:
        raise RelayError(403, "wrong_room", "this grant is for another room")


def room_name(request: web.Request) -> str:
    name = request.match_info["room"]
    if not is_room_name(name):
        raise RelayError(400, "bad_room", "not a room name")
    return name


# -- signalling ----------------------------------------------------------------


async def post_signal(request: web.Request) -> web.Response:
    grant, sdp, room = await read_offer(request)
    answer = await request.app[RELAY_KEY].answer(grant, sdp, room=room)
    return web.json_response(answer)


async def delete_signal(request: web.Request) -> web.Response:
    """Hang up on purpose: only whoever opened the peer (its token) or the operator."""
    relay = request.app[RELAY_KEY]
    token = credential(request)
    if token is None:
        raise RelayError(401, "peer_token_required", "send the peer_token of the answer")
    peer = relay.peers.get(request.match_info["peer_id"])
    if peer is None:
        return error_response(404, "not_found", "no such peer")
    if not (is_internal(request) or hmac.compare_digest(peer.token.encode(), token.encode())):
        raise RelayError(403, "not_your_peer", "this token does not open that peer")
    await relay.close_peer(peer.peer_id)
    return web.json_response({"closed": True})


async def get_status(request: web.Request) -> web.Response:
    name = room_name(request)
    internal = is_internal(request)
    if not internal:
        check_room_reader(request, name)
    return web.json_response(request.app[RELAY_KEY].status(name, internal=internal))


async def post_snapshot(request: web.Request) -> web.Response:
    relay = request.app[RELAY_KEY]
    name = request.match_info["room"]
    # Snapshots do not spend the grant's nonce: taking one changes nothing, and
    # the console may take several within a grant's short life.
    grant = relay.verify(bearer_token(request))
    if not grant.allows(name, "publish"):
        raise RelayError(403, "role_not_allowed", "a publish grant for this room is required")
    room = relay.rooms.get(name)
    # ?colour=1: the picture measured against the reference card (a lossless mean of the
    # next frames, Room.colour_snapshot); else the JPEG of the current frame at once.
    colour = request.query.get("colour") == "1"
    if room is None:
        shot = None
    elif colour:
        shot = await room.colour_snapshot()
    else:
        shot = room.snapshot()
    if shot is None:
        return error_response(404, "no_picture", "the room has no picture yet")
    data, path = shot
    return web.Response(
        body=data,
        content_type="image/png" if colour else "image/jpeg",
        headers={"X-Snapshot-Path": path.name},
    )


# The pre-show check's burst (web/static/js/console-host.js): enough to time a host's
# uplink past TCP's first round trips, little enough to take seconds on a slow link.
MAX_UPLINK_BYTES = 4 * 1024 * 1024


async def post_uplink_check(request: web.Request) -> web.Response:
    """Time a burst the host's browser sends to this relay, before going live: the bytes
    after the first chunk over the time from the first chunk to the last, as this server
    received them (the same network path the camera will take to this relay). Needs the
    room's publish grant (not spent: the check may be run again); keeps nothing."""
    relay = request.app[RELAY_KEY]
    name = room_name(request)
    grant = relay.verify(bearer_token(request))
    if not grant.allows(name, "publish"):
        raise RelayError(403, "role_not_allowed", "a publish grant for this room is required")
    loop = asyncio.get_running_loop()
    total = counted = 0
    first = last = 0.0
    # Chunks as they arrive (not request.read(): the burst is over client_max_size).
    async for chunk in request.content.iter_any():
        now = loop.time()
        total += len(chunk)
        if total > MAX_UPLINK_BYTES:
            raise RelayError(413, "too_large", f"the burst is over {MAX_UPLINK_BYTES} bytes")
        if not first:
            first = now
        else:
            counted += len(chunk)
        last = now
    if total < 128 * 1024:
        raise RelayError(400, "too_small", "send at least 128 kB to be timed")
    seconds = max(last - first, 0.001)  # over loopback the whole burst may land at once
    return web.json_response(
        {"bytes": total, "seconds": round(seconds, 4), "kbps": round(counted * 8 / seconds / 1000)}
    )


async def post_end(request: web.Request) -> web.Response:
    """End a room for good (the web app ends the show): the recording becomes the replay."""
    relay = request.app[RELAY_KEY]
    name = room_name(request)
    grant = relay.verify(bearer_token(request))
    # The role first, then the nonce: a refused grant (a viewer's) stays unspent.
    if not grant.allows(name, "publish"):
        raise RelayError(403, "role_not_allowed", "a publish grant for this room is required")
    await relay.spend(grant)
    recording = await relay.end_room(name)
    return web.json_response({"room": name, "recording": recording})


async def _host_grant(request: web.Request, name: str) -> None:
    """The room's host side (the web app, for the host): a host-slot publish grant, spent."""
    relay = request.app[RELAY_KEY]
    grant = relay.verify(bearer_token(request))
    if not grant.allows(name, "publish") or grant.slot != HOST_SLOT:
        raise RelayError(403, "role_not_allowed", "a host publish grant for this room is required")
    await relay.spend(grant)


async def post_cohost(request: web.Request) -> web.Response:
    """Mute or unmute the co-host for every viewer: ``{"muted": true|false}``."""
    name = room_name(request)
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise RelayError(400, "bad_request", "the body must be JSON") from None
    muted = body.get("muted") if isinstance(body, dict) else None
    if not isinstance(muted, bool):
        raise RelayError(400, "bad_request", "muted must be true or false")
    await _host_grant(request, name)
    on_air = await request.app[RELAY_KEY].mute_cohost(name, muted)
    return web.json_response({"room": name, "muted": muted, "on_air": on_air})


async def delete_cohost(request: web.Request) -> web.Response:
    """Take the co-host off the air: their publisher is closed."""
    name = room_name(request)
    await _host_grant(request, name)
    removed = await request.app[RELAY_KEY].remove_cohost(name)
    return web.json_response({"room": name, "removed": removed})


# -- files -----------------------------------------------------------------------


def check_file_reader(request: web.Request, room: str) -> bool:
    """Public show: anyone. Otherwise a grant for the room. Returns whether it is public."""
    if request.app[RELAY_KEY].is_public(room):
        return True
    check_room_reader(request, room)
    return False


def file_response(
    path: Path | None, public: bool, content_type: str, public_cache: str = "no-cache"
) -> web.StreamResponse:
    if path is None:
        return error_response(404, "not_found", "no such file")
    # A private room's file must not sit in a shared cache.
    cache = public_cache if public else "private, no-store"
    return web.FileResponse(path, headers={"Content-Type": content_type, "Cache-Control": cache})


async def get_thumbnail(request: web.Request) -> web.StreamResponse:
    name = room_name(request)
    public = check_file_reader(request, name)
    path = inside(request.app[CONFIG_KEY].media_dir / "thumbnails", f"{name}.jpg")
    if path is None:
        return error_response(404, "no_thumbnail", "no thumbnail yet")
    return file_response(path, public, "image/jpeg")


def _blocking_params(request: web.Request) -> tuple[int, int | None] | None:
    """LL-HLS's ``_HLS_msn`` and ``_HLS_part`` (RFC 8216bis 6.2.5.2), if asked."""
    msn, part = request.query.get("_HLS_msn"), request.query.get("_HLS_part")
    if msn is None:
        if part is not None:
            raise RelayError(400, "bad_request", "_HLS_part needs _HLS_msn")
        return None
    try:
        numbers = [int(value) for value in (msn, part) if value is not None]
    except ValueError:
        raise RelayError(400, "bad_request", "_HLS_msn and _HLS_part are numbers") from None
    if any(n < 0 or n > 10**9 for n in numbers):
        raise RelayError(400, "bad_request", "_HLS_msn and _HLS_part are numbers")
    return numbers[0], numbers[1] if part is not None else None


async def get_hls(request: web.Request) -> web.StreamResponse:
    """A room's LL-HLS playlist, parts and segments. While the show is live a playlist
    request with ``_HLS_msn``/``_HLS_part`` is held until that part exists (503 after
    BLOCK_TIMEOUT, 400 for one too far ahead), and a request for the part being made
    (the playlist's preload hint) until it is written; an ended show's files are served
    from the folder as they were left."""
    name, filename = room_name(request), request.match_info["file"]
    if not is_hls_file(filename):
        return error_response(404, "not_found", "no such HLS file")
    wanted = _blocking_params(request) if filename == PLAYLIST else None
    public = check_file_reader(request, name)
    room = request.app[RELAY_KEY].rooms.get(name)
    stream = room.hls if room is not None else None
    folder = request.app[CONFIG_KEY].media_dir / "hls"
    content_type = HLS_TYPES[Path(filename).suffix]
    if filename == PLAYLIST:
        if stream is None:
            return file_response(inside(folder, name, filename), public, content_type)
        if wanted is not None:
            try:
                ready = await stream.wait_for(*wanted)
            except TooFarAhead:
                raise RelayError(
                    400, "too_far_ahead", "that segment is more than two ahead of the newest"
                ) from None
            if not ready:
                raise RelayError(503, "not_yet", "that part was not made in time; ask again")
        cache = "no-cache" if public else "private, no-store"
        return web.Response(
            text=stream.render(),
            headers={"Content-Type": content_type, "Cache-Control": cache},
        )
    path = inside(folder, name, filename)
    named = part_of(filename)
    if path is None and stream is not None and named is not None:
        sid, msn, part = named
        if sid == stream.playlist.sid:
            with contextlib.suppress(TooFarAhead):
                await stream.wait_for(msn, part)
            path = inside(folder, name, filename)
    return file_response(path, public, content_type, HLS_MEDIA_CACHE)


async def get_recording(request: web.Request) -> web.StreamResponse:
    filename = request.match_info["file"]
    room = recording_room(filename)
    if room is None:
        return error_response(404, "not_found", "no such recording")
    public = check_file_reader(request, room)
    path = inside(request.app[CONFIG_KEY].media_dir / "recordings", filename)
    return file_response(path, public, "video/mp4")


async def delete_media(request: web.Request) -> web.Response:
    """Delete every file of a room: recordings, HLS, thumbnail, snapshots (the web app
    erases a shopper or enforces a brand's retention). The web nodes only."""
    check_internal(request)
    name = room_name(request)
    media_dir = request.app[CONFIG_KEY].media_dir
    removed = remove_room_files(media_dir, name)
    return web.json_response({"room": name, "removed": removed})


# -- edge: pulling a room from its origin (streaming/edge.py) ------------------------


async def post_pull(request: web.Request) -> web.Response:
    """Serve this room's viewers from here, pulled from ``{"origin": "<relay URL>"}``
    (the web nodes, when one relay is not enough for a show). 201 when new."""
    check_internal(request)
    name = room_name(request)
    data = await request.read()
    if nests_deeper_than(data, MAX_JSON_DEPTH):
        raise RelayError(400, "bad_request", "the JSON is nested too deeply")
    try:
        body = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise RelayError(400, "bad_request", "the body must be JSON") from None
    origin = body.get("origin") if isinstance(body, dict) else None
    pull, new = await request.app[EDGES_KEY].pull(name, origin)
    return web.json_response(pull.status(), status=201 if new else 200)


async def get_pull(request: web.Request) -> web.Response:
    check_internal(request)
    pull = request.app[EDGES_KEY].pulls.get(room_name(request))
    if pull is None:
        return error_response(404, "not_pulled", "this relay does not pull that room")
    return web.json_response(pull.status())


async def delete_pull(request: web.Request) -> web.Response:
    """Stop pulling the room: its viewers here are hung up (they reconnect elsewhere)."""
    check_internal(request)
    name = room_name(request)
    return web.json_response({"room": name, "stopped": await request.app[EDGES_KEY].stop(name)})


# -- operations ----------------------------------------------------------------


async def get_metrics(request: web.Request) -> web.Response:
    check_internal(request)
    body = generate_latest(request.app[REGISTRY_KEY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def get_healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def get_readyz(request: web.Request) -> web.Response:
    media_dir = request.app[CONFIG_KEY].media_dir
    if not media_dir.is_dir():
        return error_response(503, "not_ready", "media directory missing")
    # The load too: web nodes with a fixed RELAY_URLS list pick the least loaded from it.
    load = load_of(request.app[RELAY_KEY], request.app[CPU_KEY].read())
    return web.json_response({"status": "ready", **load})


async def _close_relay(app: web.Application) -> None:
    if REGISTRATION_KEY in app:
        await app[REGISTRATION_KEY].stop()
    await app[EDGES_KEY].close_all()
    await app[RELAY_KEY].close_all()


class AccessLogger(AbstractAccessLogger):
    """Method, path and status, never the query string: a ``?grant=`` in a log file
    would be a grant anyone reading the log could use until it expires."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %s %s %.3fs',
            request.remote,
            request.method,
            request.path,
            response.status,
            response.body_length,
            time,
        )


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed: every viewer costs a few syscalls and coroutine
    wake-ups per packet, and uvloop makes those markedly cheaper."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def create_app(config: RelayConfig) -> web.Application:
    """The relay as an aiohttp application; the relay itself is made on startup
    (it needs the running event loop) and closed on cleanup."""
    for sub in ("hls", "recordings", "thumbnails", "snapshots", "access"):
        (config.media_dir / sub).mkdir(parents=True, exist_ok=True)
    middlewares = [errors_middleware]
    if config.allowed_origins:
        middlewares.insert(0, cors_middleware(config.allowed_origins))
    app = web.Application(middlewares=middlewares, client_max_size=MAX_BODY_BYTES)
    app[CONFIG_KEY] = config

    async def start_relay(app: web.Application) -> None:
        relay = Relay(config)
        app[RELAY_KEY] = relay
        app[EDGES_KEY] = Edges(relay)
        app[REGISTRY_KEY] = make_registry(relay)
        app[CPU_KEY] = CpuMeter()
        if config.registry == "redis":
            app[REGISTRATION_KEY] = Registration(relay, config)
            await app[REGISTRATION_KEY].start()

    app.on_startup.append(start_relay)
    app.on_shutdown.append(_close_relay)
    app.router.add_post("/signal", post_signal)
    app.router.add_delete("/signal/{peer_id}", delete_signal)
    app.router.add_get("/rooms/{room}/status", get_status)
    app.router.add_post("/rooms/{room}/snapshot", post_snapshot)
    app.router.add_post("/rooms/{room}/end", post_end)
    app.router.add_post("/rooms/{room}/cohost", post_cohost)
    app.router.add_delete("/rooms/{room}/cohost", delete_cohost)
    app.router.add_post("/rooms/{room}/uplink-check", post_uplink_check)
    app.router.add_delete("/rooms/{room}/media", delete_media)
    app.router.add_post("/rooms/{room}/pull", post_pull)
    app.router.add_get("/rooms/{room}/pull", get_pull)
    app.router.add_delete("/rooms/{room}/pull", delete_pull)
    app.router.add_get("/rooms/{room}/thumbnail.jpg", get_thumbnail)
    app.router.add_get("/metrics", get_metrics)
    app.router.add_get("/healthz", get_healthz)
    app.router.add_get("/readyz", get_readyz)
    # Handlers, not add_static: each checks the name, the room's publicity and a grant.
    app.router.add_get("/hls/{room}/{file}", get_hls)
    app.router.add_get("/recordings/{file}", get_recording)
    return app
