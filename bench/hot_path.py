"""In-process cost of the hot requests: no network, no server, one thread.

    .venv/bin/python bench/hot_path.py [--requests 300] [--postgres URL] [--profile DIR]

The Flask test client (and Flask-SocketIO's test client for chat) against a fresh
database, the app configured as in production except for the secrets: CSRF on, the
cookie session, the guest key, the request log. Each figure is the mean wall time
of one request over ``--requests`` (each add-to-bag by its own shopper):

- ``state GET``: ``GET /api/live-sessions/<id>`` by a guest, as a show page makes it;
- ``show page``: the show's page itself (``/b/<brand>/shows/<id>``), by a guest;
- ``add-to-bag reserved``: ``POST /api/bag/lines`` that gets a unit (a variant with
  plenty of stock), each by a new guest (the shopper row is created then, as in a sale);
- ``add-to-bag sold out``: the same POST on a variant known to be sold out;
- ``socket add_to_bag``: the Socket.IO event, reserved, a shopper who joined the show;
- ``socket join``: the Socket.IO ``join`` of a connected guest (state, history, polls);
- ``chat send``: the Socket.IO ``chat`` event of a joined shopper;
- ``bare floor``: a one-line view doing one indexed SELECT, registered on the same
  app but skipping nothing the app does around every request (see below).

Then the **per-request fixed costs**, each timed alone in the same app (mean CPU ms):
the request through WSGI and every middleware to an empty view; the cookie session
opened and saved; the CSRF token checked; the guest looked up (``current_actor``, with
its connection checkout); the guest's row by key with the statement built afresh and built
once (sessions/db.py); a pooled connection checked out and back, and with an empty
transaction (BEGIN, COMMIT); the JSON encoding of a state GET's and an add-to-bag's body.

With ``--profile DIR``, each request kind is also run under pyinstrument and its
text report written to ``DIR/<kind>.txt``, PostgreSQL's to ``DIR/postgres/<kind>.txt``
(docs/performance.md quotes the top).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import bindparam, event, text  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from sessions import ratelimit  # noqa: E402
from sessions.db import create_all, make_engine, normalise_url  # noqa: E402
from sessions.models import Shopper  # noqa: E402
from sessions.passwords import use_fast_hashing_for_tests  # noqa: E402
from sessions.shows import lifecycle  # noqa: E402
from tests.factories import OPERATOR, Factory  # noqa: E402
from web import create_app  # noqa: E402
from web.extensions import socketio  # noqa: E402


def _config(database_url: str, workdir: Path) -> dict[str, Any]:
    return {
        "VITRINE_ENV": "testing",
        "SECRET_KEY": "bench-secret-key",
        "MEDIA_GRANT_SECRET": "bench-media-secret",
        "DATABASE_URL": database_url,
        "SOCKETIO_ASYNC_MODE": "threading",
        "UPLOAD_DIR": str(workdir / "uploads"),
        "VAR_DIR": str(workdir / "var"),
        "SESSION_COOKIE_SECURE": False,
        "GUEST_RATE_LIMIT": "1000000 per hour",
        "CHAT_RATE_LIMIT": "1000000 per second",
        "SCHEDULER": False,
        "LOG_LEVEL": "WARNING",
    }


class Seeded:
    def __init__(self, app: Flask, requests: int) -> None:
        engine = app.extensions["vitrine.engine"]
        with Session(engine, expire_on_commit=False) as db:
            factory = Factory(db)
            brand = factory.brand()
            plenty = factory.product(brand, stock=100_000)
            gone = factory.product(brand, stock=0)
            show = factory.show(brand, product_ids=[plenty.id, gone.id])
            live = lifecycle.do_start_show(db, OPERATOR, show)
            ids = (live.id, factory.variants(plenty)[0].id, factory.variants(gone)[0].id)
            self.show_path = f"/b/{brand.slug}/shows/{show.id}"
            db.commit()
        assert None not in ids
        self.live_id, self.plenty, self.gone = (int(i or 0) for i in ids)


def _guest(app: Flask, live_id: int) -> tuple[FlaskClient, str]:
    http = app.test_client()
    assert http.get(f"/api/live-sessions/{live_id}").status_code == 200
    page = http.get("/login").get_data(as_text=True)
    return http, page.split('name="csrf-token" content="')[1].split('"')[0]


def _bare_floor(app: Flask) -> None:
    """The floor inside the app: one indexed SELECT, a tiny JSON body."""
    from web.db import db

    @app.get("/bench/floor/<int:variant_id>")
    def bench_floor(variant_id: int) -> dict[str, Any]:
        row = db().execute(text("SELECT stock FROM variants WHERE id = :id"), {"id": variant_id})
        return {"stock": row.scalar_one()}

    @app.get("/bench/empty")
    def bench_empty() -> dict[str, Any]:
        return {}


STATEMENTS = [0]  # SQL statements sent (BEGIN and COMMIT included), counted by an engine hook


def _count(*_: Any) -> None:
    STATEMENTS[0] += 1


def _timed(fn: Callable[[int], object], n: int) -> tuple[float, float, float]:
    """Mean CPU ms, mean wall ms and SQL statements of one call. On a loaded machine the
    wall time also counts the waits for a core; the CPU time (this process) does not, but
    it leaves out what the database server spends (PostgreSQL) and the waits on disk and
    network. The statement count does not depend on the machine at all."""
    cpu, wall, sent = time.process_time(), time.perf_counter(), STATEMENTS[0]
    for i in range(n):
        fn(i)
    return (
        (time.process_time() - cpu) / n * 1000,
        (time.perf_counter() - wall) / n * 1000,
        (STATEMENTS[0] - sent) / n,
    )


@contextmanager
def _profiled(name: str, outdir: Path | None) -> Iterator[None]:
    if outdir is None:
        yield
        return
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0002)
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        outdir.mkdir(parents=True, exist_ok=True)
        (outdir / f"{name}.txt").write_text(
            profiler.output_text(unicode=False, color=False, show_all=False)
        )


def measure(
    database_url: str, requests: int, profile: Path | None
) -> dict[str, tuple[float, float, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        app = create_app(_config(database_url, workdir))
        create_all(app.extensions["vitrine.engine"])
        engine = app.extensions["vitrine.engine"]
        event.listen(engine, "before_cursor_execute", _count)
        event.listen(engine, "commit", _count)
        event.listen(engine, "rollback", _count)
        ratelimit.reset()
        _bare_floor(app)
        seeded = Seeded(app, requests)
        live = seeded.live_id
        results: dict[str, tuple[float, float, float]] = {}
        # Guests made beforehand: their first GET (a guest key) is not what is measured.
        pool = [_guest(app, live) for _ in range(requests * 2 + 1)]

        def state(i: int) -> None:
            assert pool[i][0].get(f"/api/live-sessions/{live}").status_code == 200

        def add(variant: int, expect: int, offset: int) -> Callable[[int], None]:
            def run(i: int) -> None:
                http, token = pool[offset + i]
                r = http.post(
                    "/api/bag/lines",
                    json={"variant_id": variant, "quantity": 1, "live_session_id": live},
                    headers={"X-CSRFToken": token},
                )
                assert r.status_code == expect, r.get_data(as_text=True)

            return run

        def floor(_: int) -> None:
            assert pool[0][0].get(f"/bench/floor/{seeded.plenty}").status_code == 200

        def page(i: int) -> None:
            assert pool[i][0].get(seeded.show_path).status_code == 200

        kinds: list[tuple[str, Callable[[int], None]]] = [
            ("bare floor", floor),
            ("state GET", state),
            ("show page", page),
            ("add-to-bag reserved", add(seeded.plenty, 201, 0)),
            ("add-to-bag sold out", add(seeded.gone, 409, requests)),
        ]
        for name, fn in kinds:
            fn(0)  # warm
            with _profiled(name.replace(" ", "-"), profile):
                results[name] = _timed(fn, requests)

        # Socket.IO: shoppers who joined the show (each its own socket; the join, with
        # the room's state and history, is what a show page sends as it opens).
        sockets = [
            socketio.test_client(app, flask_test_client=pool[requests + i][0])
            for i in range(requests + 1)
        ]

        def join(i: int) -> None:
            ack = sockets[i].emit("join", {"session_id": live}, callback=True)
            assert ack["ok"], ack

        join(requests)  # warm
        with _profiled("socket-join", profile):
            results["socket join"] = _timed(join, requests)

        def socket_add(i: int) -> None:
            ack = sockets[i].emit(
                "add_to_bag", {"session_id": live, "variant_id": seeded.plenty}, callback=True
            )
            assert ack["ok"], ack

        def chat(i: int) -> None:
            ack = sockets[i].emit("chat", {"session_id": live, "body": f"hello {i}"}, callback=True)
            assert ack["ok"], ack

        for name, fn in [("socket add_to_bag", socket_add), ("chat send", chat)]:
            with _profiled(name.replace(" ", "-"), profile):
                results[name] = _timed(fn, requests)
        for sio in sockets:
            sio.disconnect()
        results.update(fixed_costs(app, pool[-1], live, seeded.plenty, requests))
        from web.scheduler import stop as stop_scheduler
        from web.sockets import shutdown

        shutdown()
        stop_scheduler(app)
        app.extensions["vitrine.engine"].dispose()
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--profile", type=Path, default=None)
    args = parser.parse_args()
    use_fast_hashing_for_tests()
    rows: dict[str, dict[str, tuple[float, float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        rows["SQLite"] = measure(f"sqlite:///{Path(tmp) / 'hot.db'}", args.requests, args.profile)
    if not args.no_postgres:
        with postgres_schema(args.postgres) as url:
            pg_profile = args.profile / "postgres" if args.profile else None
            rows["PostgreSQL"] = measure(url, args.requests, pg_profile)
    print_table(rows, args.requests)
    print(f"\nload average (1, 5, 15 min): {os.getloadavg()}")


def fixed_costs(
    app: Flask, guest: tuple[FlaskClient, str], live: int, variant: int, n: int
) -> dict[str, tuple[float, float, float]]:
    """What every request pays around its own work, each part timed alone."""
    from flask import g, request
    from flask_wtf.csrf import validate_csrf

    from web.db import db
    from web.identity import current_actor

    http, token = guest
    engine = app.extensions["vitrine.engine"]
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    held = http.get_cookie(cookie_name)
    assert held is not None
    headers = {"Cookie": f"{cookie_name}={held.value}"}
    state_body = http.get(f"/api/live-sessions/{live}").get_json()
    added = http.post(
        "/api/bag/lines",
        json={"variant_id": variant, "quantity": 1, "live_session_id": live},
        headers={"X-CSRFToken": token},
    )
    assert added.status_code == 201, added.get_data(as_text=True)
    added_body = added.get_json()

    out: dict[str, tuple[float, float, float]] = {}

    def empty(_: int) -> None:
        assert http.get("/bench/empty").status_code == 200

    def cookie_session(_: int) -> None:
        with app.test_request_context("/", headers=headers):
            opened = app.session_interface.open_session(app, request)
            assert opened is not None
            opened.modified = True  # saved as a request that writes it does
            app.session_interface.save_session(app, opened, app.response_class())

    out["fixed: WSGI + middleware, empty view"] = _timed(empty, n)
    out["fixed: cookie session open + save"] = _timed(cookie_session, n)
    with app.test_request_context("/", headers=headers):
        out["fixed: CSRF token check"] = _timed(lambda _: validate_csrf(token), n)

        def guest_lookup(_: int) -> None:
            g.pop("actor", None)
            current_actor()
            db().rollback()  # the connection goes back, as at the request's end

        out["fixed: guest lookup (current_actor)"] = _timed(guest_lookup, n)

    def checkout(_: int) -> None:
        with engine.connect():
            pass

    def empty_transaction(_: int) -> None:
        with engine.begin():
            pass

    # What a statement built afresh costs against one built once with a parameter
    # (sessions/db.py, "statements built once"): the same one-row lookup, same session.
    with Session(engine) as lookups:
        guest_key = "a key with no shopper yet"  # a new visitor's, as when a show starts
        out["fixed: guest's row by key, statement built each time"] = _timed(
            lambda _: lookups.exec(select(Shopper).where(Shopper.token == guest_key)).first(), n
        )
        once = select(Shopper).where(Shopper.token == bindparam("key"))
        out["fixed: guest's row by key, statement built once"] = _timed(
            lambda _: lookups.exec(once, params={"key": guest_key}).first(), n
        )
    out["fixed: connection checkout + return"] = _timed(checkout, n)
    out["fixed: checkout + BEGIN + COMMIT"] = _timed(empty_transaction, n)
    out["fixed: JSON of a state GET body"] = _timed(lambda _: app.json.dumps(state_body), n)
    out["fixed: JSON of an add-to-bag body"] = _timed(lambda _: app.json.dumps(added_body), n)
    return out


@contextmanager
def postgres_schema(admin_url: str) -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(admin_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{normalise_url(admin_url)}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def print_table(rows: dict[str, dict[str, tuple[float, float, float]]], requests: int) -> None:
    print(f"in-process cost per request (mean of {requests}, no network)")
    print()
    names = list(next(iter(rows.values())))
    head = [f"{db} CPU / wall ms | {db} SQL statements | {db} CPU / floor" for db in rows]
    print("| request | " + " | ".join(head) + " |")
    print("|---|" + "---|---|---|" * len(rows))
    for name in names:
        cells = []
        for db in rows:
            cpu, wall, sql = rows[db][name]
            floor = rows[db]["bare floor"][0]
            cells += [f"{cpu:.2f} / {wall:.2f}", f"{sql:.1f}", f"{cpu / floor:.1f}"]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
