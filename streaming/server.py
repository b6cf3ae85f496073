"""HTTP face of the relay: signalling, status, snapshots, files, metrics."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from .config import RelayConfig
from .metrics import make_registry
from .relay import Relay, RelayError

RELAY_KEY = web.AppKey("relay", Relay)
CONFIG_KEY = web.AppKey("config", RelayConfig)
REGISTRY_KEY = web.AppKey("registry", CollectorRegistry)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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


async def read_offer(request: web.Request) -> tuple[str, str, str | None]:
    try:
        body = await request.json()
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


async def post_signal(request: web.Request) -> web.Response:
    grant, sdp, room = await read_offer(request)
    answer = await request.app[RELAY_KEY].answer(grant, sdp, room=room)
    return web.json_response(answer)


async def delete_signal(request: web.Request) -> web.Response:
    closed = await request.app[RELAY_KEY].close_peer(request.match_info["peer_id"])
    if not closed:
        return error_response(404, "not_found", "no such peer")
    return web.json_response({"closed": True})


async def get_status(request: web.Request) -> web.Response:
    return web.json_response(request.app[RELAY_KEY].status(request.match_info["room"]))


def bearer_token(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise RelayError(401, "grant_refused", "an Authorization: Bearer grant is required")
    return token.strip()


async def post_snapshot(request: web.Request) -> web.Response:
    relay = request.app[RELAY_KEY]
    name = request.match_info["room"]
    # Snapshots do not spend the grant's nonce: taking one changes nothing, and
    # the console may take several within a grant's short life.
    grant = relay.check_grant(bearer_token(request), spend=False)
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
    name = request.match_info["room"]
    grant = relay.check_grant(bearer_token(request), spend=True)
    if not grant.allows(name, "publish"):
        raise RelayError(403, "role_not_allowed", "a publish grant for this room is required")
    recording = await relay.end_room(name)
    return web.json_response({"room": name, "recording": recording})


async def get_thumbnail(request: web.Request) -> web.StreamResponse:
    relay = request.app[RELAY_KEY]
    name = request.match_info["room"]
    room = relay.rooms.get(name)
    path = (
        room.thumbnail_path
        if room is not None
        else relay.config.media_dir / "thumbnails" / f"{name}.jpg"
    )
    if not path.is_file():
        return error_response(404, "no_thumbnail", "no thumbnail yet")
    return web.FileResponse(
        path, headers={"Content-Type": "image/jpeg", "Cache-Control": "no-cache"}
    )


async def get_metrics(request: web.Request) -> web.Response:
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
    for sub in ("hls", "recordings", "thumbnails", "snapshots"):
        (config.media_dir / sub).mkdir(parents=True, exist_ok=True)
    middlewares = [errors_middleware]
    if config.allowed_origins:
        middlewares.insert(0, cors_middleware(config.allowed_origins))
    app = web.Application(middlewares=middlewares, client_max_size=256 * 1024)
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
    app.router.add_static("/hls", config.media_dir / "hls")
    app.router.add_static("/recordings", config.media_dir / "recordings")
    return app
