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
import hmac
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from sessions.jsondepth import nests_deeper_than

from .config import RelayConfig
from .media_files import inside, is_hls_file, is_room_name, recording_room
from .metrics import make_registry
from .relay import Relay, RelayError

RELAY_KEY = web.AppKey("relay", Relay)
CONFIG_KEY = web.AppKey("config", RelayConfig)
REGISTRY_KEY = web.AppKey("registry", CollectorRegistry)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_BODY_BYTES = 256 * 1024
HLS_TYPES = {".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t"}


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
    shot = room.snapshot() if room is not None else None
    if shot is None:
        return error_response(404, "no_picture", "the room has no picture yet")
    data, path = shot
    return web.Response(
        body=data, content_type="image/jpeg", headers={"X-Snapshot-Path": path.name}
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


# -- files -----------------------------------------------------------------------


def check_file_reader(request: web.Request, room: str) -> bool:
    """Public show: anyone. Otherwise a grant for the room. Returns whether it is public."""
    if request.app[RELAY_KEY].is_public(room):
        return True
    check_room_reader(request, room)
    return False


def file_response(path: Path | None, public: bool, content_type: str) -> web.StreamResponse:
    if path is None:
        return error_response(404, "not_found", "no such file")
    # A private room's file must not sit in a shared cache.
    cache = "no-cache" if public else "private, no-store"
    return web.FileResponse(path, headers={"Content-Type": content_type, "Cache-Control": cache})


async def get_thumbnail(request: web.Request) -> web.StreamResponse:
    name = room_name(request)
    public = check_file_reader(request, name)
    path = inside(request.app[CONFIG_KEY].media_dir / "thumbnails", f"{name}.jpg")
    if path is None:
        return error_response(404, "no_thumbnail", "no thumbnail yet")
    return file_response(path, public, "image/jpeg")


async def get_hls(request: web.Request) -> web.StreamResponse:
    name, filename = room_name(request), request.match_info["file"]
    if not is_hls_file(filename):
        return error_response(404, "not_found", "no such HLS file")
    public = check_file_reader(request, name)
    path = inside(request.app[CONFIG_KEY].media_dir / "hls", name, filename)
    return file_response(path, public, HLS_TYPES[Path(filename).suffix])


async def get_recording(request: web.Request) -> web.StreamResponse:
    filename = request.match_info["file"]
    room = recording_room(filename)
    if room is None:
        return error_response(404, "not_found", "no such recording")
    public = check_file_reader(request, room)
    path = inside(request.app[CONFIG_KEY].media_dir / "recordings", filename)
    return file_response(path, public, "video/mp4")


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
    return web.json_response({"status": "ready", "rooms": len(request.app[RELAY_KEY].rooms)})


async def _close_relay(app: web.Application) -> None:
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
        app[REGISTRY_KEY] = make_registry(relay)

    app.on_startup.append(start_relay)
    app.on_shutdown.append(_close_relay)
    app.router.add_post("/signal", post_signal)
    app.router.add_delete("/signal/{peer_id}", delete_signal)
    app.router.add_get("/rooms/{room}/status", get_status)
    app.router.add_post("/rooms/{room}/snapshot", post_snapshot)
    app.router.add_post("/rooms/{room}/end", post_end)
    app.router.add_get("/rooms/{room}/thumbnail.jpg", get_thumbnail)
    app.router.add_get("/metrics", get_metrics)
    app.router.add_get("/healthz", get_healthz)
    app.router.add_get("/readyz", get_readyz)
    # Handlers, not add_static: each checks the name, the room's publicity and a grant.
    app.router.add_get("/hls/{room}/{file}", get_hls)
    app.router.add_get("/recordings/{file}", get_recording)
    return app
