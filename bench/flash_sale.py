"""Flash sale: 1,000 shoppers tap "add to bag" at once on a variant with 50 left.

    .venv/bin/python bench/flash_sale.py [--buyers 1000] [--stock 50] [--shoppers 1000]
        [--arrival-seconds 10] [--postgres URL | --no-postgres] [--no-socket] [--no-show-start]
        [--no-races]

Against a real Vitrine web node (gevent, `python -m web.serve`), on a fresh SQLite file
and, unless `--no-postgres`, on a fresh PostgreSQL schema. Each buyer is its own
browser (cookie, CSRF token), prepared before the race. Per database, in one run:

1. **floor**: the same buyers all `GET /floor/<variant>` at once on the bare server of
   bench/baseline_server.py (a minimal Flask view doing one indexed SELECT, same gevent
   server, same database), started beside the node;
2. **state GET**: all `GET /api/live-sessions/<id>` at once on the node;
3. **HTTP add-to-bag**: all `POST /api/bag/lines` at once on a variant with `--stock`;
4. **Socket.IO add_to_bag**: the same buyers with a socket joined to the show emit
   `add_to_bag` at once on a second variant with `--stock` (time to the ack);
5. **show start** (`--shoppers`, new browsers arriving evenly over
   `--arrival-seconds`): each loads the show page, reads the state, opens a socket and
   joins with history; the time from its first request to the join's ack.

Checked: exactly `--stock` succeed per race, every other tap is `sold_out`, the
variants end at 0. Reported: p50/p99 of all taps and of winners and losers apart
(950 of 1,000 are refused, so the all-taps figure mostly measures "sold out"), the
floor's p99 and Vitrine p99 / floor p99, and the load generator's own CPU over each
phase (this process; above ~90 % of one core it, not the server, may be the limit) and
the servers' CPU (every web node and floor process, summed, as a share of one core: a
node at 100 % is saturated, and its answers wait in its queue).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import numpy as np  # noqa: E402
import psutil  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from bench.chat_fanout import RawSocket  # noqa: E402
from bench.service_inbox import process_cpu  # noqa: E402
from sessions.db import create_all, make_engine, normalise_url  # noqa: E402
from sessions.models import Variant  # noqa: E402
from sessions.passwords import use_fast_hashing_for_tests  # noqa: E402
from sessions.shows import lifecycle  # noqa: E402
from tests.factories import OPERATOR, Factory  # noqa: E402
from tests.servers import WebServer, free_port, wait_http  # noqa: E402

LOG = Path(tempfile.gettempdir()) / "flash_sale.log"
PREPARE_CONCURRENCY = 50
# A saturated node answers late rather than never: measure the lateness, do not cut it.
TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=300, sock_read=300)
# An answer that never comes (a socket the node dropped without closing, an event whose
# handler failed without an ack) is counted under "other" after this, so a run ends.
ANSWER_TIMEOUT = 300.0
REDIS_URL = "redis://127.0.0.1:6379/0"
# The processes of the run's web nodes and floors, whose CPU each phase reports.
SERVER_PIDS: list[int] = []


def _servers_cpu_s() -> float:
    """CPU seconds (user + system) used so far by the run's server processes and their
    children (gunicorn's worker), as bench/service_inbox.py counts its server's."""
    processes: list[psutil.Process] = []
    for pid in SERVER_PIDS:
        with contextlib.suppress(psutil.NoSuchProcess):  # gone: not counted
            root = psutil.Process(pid)
            processes += [root, *root.children(recursive=True)]
    return process_cpu(processes)[0]


@dataclass
class Seeded:
    live_id: int
    show_path: str
    http_variant: int
    socket_variant: int


@dataclass
class Phase:
    name: str
    times_ms: list[float]
    winners_ms: list[float] = field(default_factory=list)
    losers_ms: list[float] = field(default_factory=list)
    other: int = 0
    final_stock: int | None = None
    generator_cpu: float = 0.0  # share of one core used by this process over the phase
    server_cpu: float = 0.0  # share of one core used by the server processes, summed
    load: str = ""  # the machine's load average (1 / 5 / 15 min) at the phase's end
    wall_s: float = 0.0

    def p(self, q: float, which: str = "times_ms") -> float:
        values = getattr(self, which)
        return float(np.percentile(values, q)) if values else float("nan")


class LiveSocket(RawSocket):
    """A RawSocket whose frames are read all the time: pings answered while it waits for
    the race (a joined socket that does not answer is closed by the server), acks handed
    to whoever waits for them."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        super().__init__(ws)
        self.waiting: dict[str, asyncio.Future[Any]] = {}
        self.reader: asyncio.Task[None] | None = None

    def start(self) -> LiveSocket:
        self.reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            frame = msg.data
            if frame == "2":
                await self.ws.send_str("3")
            elif frame.startswith("43"):
                digits = len(frame) - len(frame[2:].lstrip("0123456789")) - 2
                ack_id = frame[2 : 2 + digits]
                future = self.waiting.pop(ack_id, None)
                if future is not None and not future.done():
                    future.set_result(json.loads(frame[2 + digits :])[0])
        for future in self.waiting.values():
            if not future.done():
                future.set_exception(ConnectionError("socket closed"))

    async def call(self, event: str, data: dict[str, Any]) -> Any:
        if self.reader is None:
            return await super().call(event, data)
        self.acks += 1
        ack_id = str(self.acks)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.waiting[ack_id] = future
        await self.ws.send_str(f"42{ack_id}" + json.dumps([event, data]))
        return await future

    async def close(self) -> None:
        await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()


def seed(database_url: str, stock: int) -> Seeded:
    engine = make_engine(database_url)
    create_all(engine)
    with Session(engine, expire_on_commit=False) as db:
        factory = Factory(db)
        brand = factory.brand()
        by_http = factory.product(brand, stock=stock, name="Flash bag")
        by_socket = factory.product(brand, stock=stock, name="Flash scarf")
        show = factory.show(brand, product_ids=[by_http.id, by_socket.id])
        live = lifecycle.do_start_show(db, OPERATOR, show)
        ids = (
            live.id,
            factory.variants(by_http)[0].id,
            factory.variants(by_socket)[0].id,
        )
        path = f"/b/{brand.slug}/shows/{show.id}"
        db.commit()
    engine.dispose()
    live_id, http_variant, socket_variant = (int(i or 0) for i in ids)
    return Seeded(live_id, path, http_variant, socket_variant)


def stock_of(database_url: str, variant_id: int) -> int:
    engine = make_engine(database_url)
    with Session(engine) as db:
        variant = db.get(Variant, variant_id)
        assert variant is not None
        stock = variant.stock
    engine.dispose()
    return stock


class Floor:
    """bench/baseline_server.py with the database: the bare floor."""

    def __init__(self, database_url: str, log: Any, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, str(ROOT / "bench/baseline_server.py"), "--port", str(self.port)]
        self.proc = subprocess.Popen(
            [*cmd, "--database", database_url],
            cwd=ROOT,
            stdout=log,
            stderr=log,
            env={**os.environ, **env},
        )
        wait_http(f"{self.url}/health", self.proc)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


async def _gather_limited(coros: list[Awaitable[Any]], limit: int) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(coro: Awaitable[Any]) -> Any:
        async with gate:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros))


async def _phase(name: str, calls: list[Callable[[], Awaitable[tuple]]]) -> tuple[Phase, list]:
    """Fire every call at once; each returns (status, body, seconds)."""
    cpu, servers, wall = time.process_time(), _servers_cpu_s(), time.perf_counter()
    results = await asyncio.gather(*(call() for call in calls))
    wall = time.perf_counter() - wall
    phase = Phase(name, [r[-1] * 1000 for r in results], wall_s=wall, load=_load())
    phase.generator_cpu = (time.process_time() - cpu) / wall
    phase.server_cpu = (_servers_cpu_s() - servers) / wall
    return phase, list(results)


def _split(phase: Phase, results: list, won: Callable[[Any], bool | None]) -> None:
    for r in results:
        verdict = won(r)
        if verdict is True:
            phase.winners_ms.append(r[-1] * 1000)
        elif verdict is False:
            phase.losers_ms.append(r[-1] * 1000)
        else:
            phase.other += 1


async def _races(
    nodes: list[str], floors: list[str], seeded: Seeded, buyers: int, with_socket: bool
) -> list[Phase]:
    # Each buyer is a browser with the show open: its own keep-alive connection to the
    # node (and to the floor), opened while preparing, so the race measures requests,
    # not a thousand TCP handshakes against the listen backlog.
    sessions = [
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=4, keepalive_timeout=3600),
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            timeout=TIMEOUT,
        )
        for _ in range(buyers)
    ]
    live = seeded.live_id
    sockets: list[LiveSocket] = []
    try:
        # A sticky load balancer: buyer n always on node n mod N (and its floor likewise).
        def node(n: int) -> str:
            return nodes[n % len(nodes)]

        def floor(n: int) -> str:
            return floors[n % len(floors)]

        async def prepare(n: int, s: aiohttp.ClientSession) -> str:
            base = node(n)
            async with s.get(f"{base}/api/live-sessions/{live}") as r:
                assert r.status == 200, await r.text()
            async with s.get(f"{base}/login") as r:
                page = await r.text()
            async with s.get(f"{floor(n)}/health") as r:
                await r.read()
            return page.split('name="csrf-token" content="')[1].split('"')[0]

        tokens = await _gather_limited(
            [prepare(n, s) for n, s in enumerate(sessions)], PREPARE_CONCURRENCY
        )

        async def timed(s: aiohttp.ClientSession, method: str, url: str, **kw: Any) -> tuple:
            start = time.perf_counter()
            async with s.request(method, url, **kw) as r:
                try:
                    body = await r.json()
                except aiohttp.ContentTypeError:  # a 500 page: counted, not fatal
                    body = {"error": f"http {r.status}"}
            return r.status, body, time.perf_counter() - start

        phases = []
        floor_phase, floor_results = await _phase(
            "floor",
            [
                functools.partial(timed, s, "GET", f"{floor(n)}/floor/{seeded.http_variant}")
                for n, s in enumerate(sessions)
            ],
        )
        floor_phase.other = sum(1 for r in floor_results if r[0] != 200)
        phases.append(floor_phase)
        state, state_results = await _phase(
            "state GET",
            [
                functools.partial(timed, s, "GET", f"{node(n)}/api/live-sessions/{live}")
                for n, s in enumerate(sessions)
            ],
        )
        state.other = sum(1 for r in state_results if r[0] != 200)
        phases.append(state)
        body = {"variant_id": seeded.http_variant, "quantity": 1, "live_session_id": live}
        http, results = await _phase(
            "HTTP add-to-bag",
            [
                functools.partial(
                    timed,
                    s,
                    "POST",
                    f"{node(n)}/api/bag/lines",
                    json=body,
                    headers={"X-CSRFToken": t},
                )
                for n, (s, t) in enumerate(zip(sessions, tokens, strict=True))
            ],
        )
        _split(
            http,
            results,
            lambda r: True if r[0] == 201 else False if r[1].get("error") == "sold_out" else None,
        )
        phases.append(http)
        if with_socket:

            async def open_and_join(n: int, s: aiohttp.ClientSession) -> LiveSocket:
                opened = await LiveSocket.open(s, node(n))
                assert isinstance(opened, LiveSocket)
                sock = opened.start()
                ack = await sock.call("join", {"session_id": live})
                assert ack["ok"], ack
                return sock

            sockets = await _gather_limited(
                [open_and_join(n, s) for n, s in enumerate(sessions)], PREPARE_CONCURRENCY
            )
            tap = {"session_id": live, "variant_id": seeded.socket_variant}

            async def socket_tap(sock: LiveSocket) -> tuple:
                start = time.perf_counter()
                try:
                    ack = await asyncio.wait_for(sock.call("add_to_bag", tap), ANSWER_TIMEOUT)
                except (TimeoutError, ConnectionError) as exc:  # counted under "other"
                    ack = {"ok": False, "error": repr(exc)}
                return ack.get("ok"), ack, time.perf_counter() - start

            by_socket, results = await _phase(
                "Socket.IO add_to_bag",
                [functools.partial(socket_tap, sock) for sock in sockets],
            )
            _split(
                by_socket,
                results,
                lambda r: True if r[0] else False if r[1].get("error") == "sold_out" else None,
            )
            phases.append(by_socket)
        return phases
    finally:
        for sock in sockets:
            await sock.close()
        for s in sessions:
            await s.close()


async def _show_start(nodes: list[str], seeded: Seeded, shoppers: int, arrival_s: float) -> Phase:
    """New shoppers arrive evenly over `arrival_s`: page, state, socket, join with history."""
    connector = aiohttp.TCPConnector(limit=0)  # new browsers: new connections
    opened: list[tuple[aiohttp.ClientSession, RawSocket | None]] = []
    live = seeded.live_id

    async def arrive(n: int) -> tuple:
        await asyncio.sleep(arrival_s * n / shoppers)  # the arrival schedule, not a wait
        s = aiohttp.ClientSession(
            connector=connector,
            connector_owner=False,
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            timeout=TIMEOUT,
        )
        entry: list[Any] = [s, None]
        opened.append(entry)  # type: ignore[arg-type]
        start = time.perf_counter()
        try:
            return await asyncio.wait_for(
                _open_show(nodes[n % len(nodes)], s, entry, start), ANSWER_TIMEOUT
            )
        except (
            AssertionError,
            aiohttp.ClientError,
            ConnectionError,
            TypeError,
            TimeoutError,
        ) as exc:
            # A 500, a refused or dropped socket: counted under "other", timed all the same.
            return False, {"error": repr(exc)}, time.perf_counter() - start

    async def _open_show(
        base: str, s: aiohttp.ClientSession, entry: list[Any], start: float
    ) -> tuple:
        async with s.get(f"{base}{seeded.show_path}") as r:
            await r.read()
            assert r.status == 200, r.status
        async with s.get(f"{base}/api/live-sessions/{live}") as r:
            await r.read()
            assert r.status == 200, r.status
        sock = await RawSocket.open(s, base)
        entry[1] = sock
        ack = await sock.call("join", {"session_id": live})  # answers with the history
        return ack.get("ok"), ack, time.perf_counter() - start

    try:
        phase, results = await _phase(
            "show start", [functools.partial(arrive, n) for n in range(shoppers)]
        )
        phase.other = sum(1 for r in results if not r[0])
        errors = sorted({r[1].get("error", "")[:80] for r in results if not r[0]})
        if errors:
            print(f"show start: {phase.other} failed: {errors[:5]}", file=sys.stderr)
        return phase
    finally:
        for s, sock in opened:
            if sock is not None:
                await sock.ws.close()
            await s.close()
        await connector.close()


def nodes_for(database: str, args: argparse.Namespace) -> int:
    if args.nodes is not None:
        return int(args.nodes)
    return 1 if database == "SQLite" else os.cpu_count() or 1


def run(name: str, database_url: str, args: argparse.Namespace, workdir: Path) -> list[Phase]:
    seeded = seed(database_url, args.stock)
    count = nodes_for(name, args)
    env = {"CHAT_RATE_LIMIT": "1000000 per second", "LOG_LEVEL": "WARNING"}
    # PostgreSQL's max_connections is shared by every process (and here by other work
    # on the machine): each node and each floor gets the same small pool.
    size, overflow = args.pg_pool.split(",")
    pool = {"DATABASE_POOL_SIZE": size, "DATABASE_MAX_OVERFLOW": overflow}
    env |= pool
    # One process per node, as deployed (deploy/gunicorn.conf.py: one gevent worker per
    # node; more nodes share Redis behind a sticky balancer, docs/scaling.md).
    redis = REDIS_URL if count > 1 else None
    with LOG.open("ab") as log:
        nodes = [
            WebServer(
                database_url,
                workdir / f"node{i}",
                create_schema=False,
                log=log,
                env=env,
                redis_url=redis,
                gunicorn=args.gunicorn,
            )
            for i in range(count)
        ]
        for node in nodes:
            (workdir / f"node{nodes.index(node)}").mkdir(parents=True, exist_ok=True)
            node.spawn()
        floors: list[Floor] = []
        try:
            for node in nodes:
                node.wait_ready(node.ready_timeout)
            floors = [Floor(database_url, log, pool) for _ in nodes]
            SERVER_PIDS[:] = [n.proc.pid for n in nodes if n.proc is not None]
            SERVER_PIDS.extend(f.proc.pid for f in floors)
            urls = [node.url for node in nodes]
            print(f"{name}: {len(nodes)} node(s) {urls}, load {_load()}", file=sys.stderr)
            phases: list[Phase] = []
            if not args.no_races:
                phases = asyncio.run(
                    _races(urls, [f.url for f in floors], seeded, args.buyers, not args.no_socket)
                )
            if not args.no_show_start:
                phases.append(
                    asyncio.run(_show_start(urls, seeded, args.shoppers, args.arrival_seconds))
                )
        finally:
            for f in floors:
                f.stop()
            for node in nodes:
                node.stop()
    for phase in phases:
        if phase.name == "HTTP add-to-bag":
            phase.final_stock = stock_of(database_url, seeded.http_variant)
        if phase.name == "Socket.IO add_to_bag":
            phase.final_stock = stock_of(database_url, seeded.socket_variant)
    print(f"\n{name}: done, load {_load()}", file=sys.stderr)
    return phases


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"


def _postgres(admin_url: str) -> tuple[str, Callable[[], None]]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(admin_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return f"{normalise_url(admin_url)}?options=-csearch_path%3D{schema}", drop


def report(results: dict[str, list[Phase]], args: argparse.Namespace) -> bool:
    print(
        f"flash sale: {args.buyers} concurrent taps on a variant with {args.stock} left; "
        f"show start: {args.shoppers} shoppers over {args.arrival_seconds:g} s; "
        + ", ".join(
            f"{db}: {nodes_for(db, args)} web node(s) and as many floor processes" for db in results
        )
        + (" (gunicorn)" if args.gunicorn else "")
        + f"; GROUP_COMMIT_MS={os.environ.get('GROUP_COMMIT_MS', '0')}"
    )
    print(f"load average at the end (1 / 5 / 15 min): {_load()}")
    print()
    print(
        "| database | request | ok | sold out | other | stock after | p50 ms | p99 ms "
        "| winners p50 / p99 ms | losers p50 / p99 ms | floor p99 ms | p99 / floor "
        "| generator CPU | servers CPU | load avg |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    ok = True
    for database, phases in results.items():
        floor = next((p for p in phases if p.name == "floor"), None)
        for p in phases:
            race = p.name.endswith("add-to-bag") or p.name.endswith("add_to_bag")
            if race:
                won = len(p.winners_ms)
                ok = ok and won == args.stock and p.final_stock == 0 and p.other == 0
            cells = [
                database,
                p.name,
                str(len(p.winners_ms)) if race else str(len(p.times_ms) - p.other),
                str(len(p.losers_ms)) if race else "",
                str(p.other),
                str(p.final_stock) if p.final_stock is not None else "",
                f"{p.p(50):.0f}",
                f"{p.p(99):.0f}",
                f"{p.p(50, 'winners_ms'):.0f} / {p.p(99, 'winners_ms'):.0f}" if race else "",
                f"{p.p(50, 'losers_ms'):.0f} / {p.p(99, 'losers_ms'):.0f}" if race else "",
                f"{floor.p(99):.0f}" if floor else "",
                f"{p.p(99) / floor.p(99):.2f}" if floor and p.name != "show start" else "",
                f"{p.generator_cpu:.0%}",
                f"{p.server_cpu:.0%}",
                p.load,
            ]
            print("| " + " | ".join(cells) + " |")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--buyers", type=int, default=1000)
    parser.add_argument("--stock", type=int, default=50)
    parser.add_argument("--shoppers", type=int, default=1000, help="show start: new shoppers")
    parser.add_argument("--arrival-seconds", type=float, default=10.0)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-socket", action="store_true")
    parser.add_argument("--no-show-start", action="store_true")
    parser.add_argument("--no-races", action="store_true", help="the show start alone")
    parser.add_argument("--json", type=Path, help="also write the phases here")
    parser.add_argument(
        "--nodes",
        type=int,
        default=None,
        help="web nodes (one process each; more than one share Redis); default as deployed: "
        "one on SQLite (one node only, docs/scaling.md), one per core on PostgreSQL",
    )
    parser.add_argument(
        "--pg-pool",
        default="5,5",
        help="PostgreSQL pool size,overflow of each node and floor (default 5,5)",
    )
    parser.add_argument(
        "--gunicorn", action="store_true", help="start each node with gunicorn (as deployed)"
    )
    args = parser.parse_args()
    use_fast_hashing_for_tests()
    results: dict[str, list[Phase]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if not args.no_sqlite:
            results["SQLite"] = run("SQLite", f"sqlite:///{workdir / 'sale.db'}", args, workdir)
        if not args.no_postgres:
            url, drop = _postgres(args.postgres)
            try:
                (workdir / "pg").mkdir()
                results["PostgreSQL"] = run("PostgreSQL", url, args, workdir / "pg")
            finally:
                drop()
    ok = report(results, args)
    if args.json:
        args.json.write_text(
            json.dumps({db: [p.__dict__ for p in ph] for db, ph in results.items()}, indent=1)
        )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
