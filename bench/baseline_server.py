"""The baseline of the benchmarks: a bare Flask-SocketIO server, no storage, no checks.

    python bench/baseline_server.py --port 8100
    python -m gunicorn -c deploy/gunicorn.conf.py --pythonpath bench baseline_server:app

Same async mode as a Vitrine node (gevent), served as `python -m web.serve` serves one
(TCP_NODELAY on) or under gunicorn's worker. Fan-out (bench/chat_fanout.py): a client
`join`s a room; every `chat` is emitted at once to the room as one `message` packet:
no database, no access checks, no batching (with ``--batch-ms N``, one ``messages``
packet per room every N ms, as Vitrine frames them). Point to point
(bench/service_inbox.py): a client names its rooms when it connects
(`auth={"rooms": [...]}`), and `POST /emit` emits one event to the rooms it names.
This is what "just send it" costs.

The floor of bench/flash_sale.py: with ``--database URL`` (or ``DATABASE_URL``),
``GET /floor/<variant_id>`` does one indexed SELECT (the variant's stock, by primary
key) through the same engine settings as a Vitrine node (sessions/db.py) and answers
a small JSON body: a minimal Flask view on the same gevent server.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from flask import Flask, request  # noqa: E402
from flask_socketio import SocketIO, join_room  # noqa: E402

app = Flask(__name__)
socketio = SocketIO(app, async_mode="gevent", cors_allowed_origins="*")


@socketio.on("connect")
def on_connect(auth: Any = None) -> bool:
    rooms = auth.get("rooms", []) if isinstance(auth, dict) else []
    for room in rooms:
        join_room(str(room))
    return True


@app.post("/emit")
def emit() -> tuple[dict[str, Any], int]:
    """`{"event": name, "rooms": [...], "data": {...}}`: one emit per room, as it comes."""
    body = request.get_json()
    for room in body["rooms"]:
        socketio.emit(body["event"], body["data"], to=str(room))
    return {"ok": True}, 201


@socketio.on("join")
def on_join(data: dict[str, Any]) -> dict[str, Any]:
    join_room(str(data["session_id"]))
    return {"ok": True}


BATCH_MS = 0  # --batch-ms: 0 emits each message at once
_pending: dict[str, list[dict[str, Any]]] = {}


@socketio.on("chat")
def on_chat(data: dict[str, Any]) -> dict[str, Any]:
    message = {"id": data.get("client_id"), "body": data["body"], "author": request.sid}  # type: ignore[attr-defined]
    room = str(data["session_id"])
    if BATCH_MS:
        _pending.setdefault(room, []).append(message)
    else:
        socketio.emit("message", message, to=room)
    return {"ok": True}


def _flush_batches() -> None:
    """Every BATCH_MS, one `messages` packet per room with what came in: Vitrine's framing
    (web/sockets/delivery.py) without its storage and checks."""
    while True:
        socketio.sleep(BATCH_MS / 1000)
        for room in list(_pending):
            batch = _pending.pop(room, [])
            if batch:
                socketio.emit("messages", batch, to=room)


_engine: Any = None


@app.get("/floor/<int:variant_id>")
def floor(variant_id: int) -> dict[str, Any]:
    """One indexed SELECT on a pooled connection: what any database-backed view pays."""
    from sqlalchemy import text

    with _engine.connect() as conn:
        stock = conn.execute(
            text("SELECT stock FROM variants WHERE id = :id"), {"id": variant_id}
        ).scalar_one()
    return {"variant_id": variant_id, "stock": stock}


def use_database(url: str) -> None:
    global _engine
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from sessions.db import make_engine

    # The same pool as the node beside it (flash_sale.py sets both alike).
    pool = {
        key: int(os.environ[name])
        for key, name in (
            ("pool_size", "DATABASE_POOL_SIZE"),
            ("max_overflow", "DATABASE_MAX_OVERFLOW"),
        )
        if name in os.environ and not url.startswith("sqlite")
    }
    _engine = make_engine(url, **pool)


@app.get("/health")
def health() -> str:
    return "ok"


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--database", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--batch-ms", type=int, default=0)
    args = parser.parse_args()
    if args.batch_ms:
        BATCH_MS = args.batch_ms
        socketio.start_background_task(_flush_batches)
    if args.database:
        use_database(args.database)
    # Served as a Vitrine node is (web/serve.py): gevent's server on a listener with
    # TCP_NODELAY, so neither side waits for delayed ACKs and the floor stays a floor.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from web.serve import nodelay_listener, serve_green

    serve_green(app, "gevent", nodelay_listener("127.0.0.1", args.port))
