"""What one shopper opening a show costs the web node, step by step, in server CPU.

    .venv/bin/python bench/show_arrival.py [--shoppers 300] [--concurrency 5] [--gunicorn]
        [--postgres URL]

A show start (bench/flash_sale.py) is a queue at its edge: a thousand arrivals in ten
seconds on one node, each a show page, a state GET, a socket opened and a join. Whether
the node keeps up depends on what each step costs it, network and server included,
which the in-process figures (bench/hot_path.py) leave out. Here `--shoppers` new
browsers (each its own cookies; a few at a time, so the node is never saturated and
nothing waits in its queue) take the steps one after another against a real node on
SQLite (or, with ``--postgres``, a fresh schema of that PostgreSQL), and the node's CPU
(user + system, from /proc) is divided by the shoppers for each step. The baseline, in
the same run: the bare floor (bench/baseline_server.py, one indexed SELECT on the same
gevent server) answering the same number of GETs.

It also times `--shoppers` GETs of the state one after another on one keep-alive
connection (wall ms each): a node that makes a response wait for the client's delayed
ACK (Nagle's algorithm on, web/serve.py) shows it here as ~44 ms instead of ~1.5.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bench import flash_sale  # noqa: E402
from bench.chat_fanout import RawSocket  # noqa: E402
from sessions.passwords import use_fast_hashing_for_tests  # noqa: E402
from tests.servers import WebServer  # noqa: E402


async def _step(
    name: str, shoppers: int, concurrency: int, take: Callable[[int], Awaitable[None]]
) -> tuple[str, float]:
    """Every shopper takes the step; the server CPU it cost, per shopper (ms)."""
    gate = asyncio.Semaphore(concurrency)

    async def one(n: int) -> None:
        async with gate:
            await take(n)

    before = flash_sale._servers_cpu_s()
    await asyncio.gather(*(one(n) for n in range(shoppers)))
    return name, 1000 * (flash_sale._servers_cpu_s() - before) / shoppers


async def _arrivals(
    node: str, floor: str, seeded: flash_sale.Seeded, shoppers: int, concurrency: int
) -> list[tuple[str, float]]:
    connector = aiohttp.TCPConnector(limit=0)
    browsers = [
        aiohttp.ClientSession(
            connector=connector, connector_owner=False, cookie_jar=aiohttp.CookieJar(unsafe=True)
        )
        for _ in range(shoppers)
    ]
    sockets: list[RawSocket] = []

    async def get(n: int, url: str) -> None:
        async with browsers[n].get(url) as r:
            await r.read()
            assert r.status == 200, r.status

    async def open_socket(n: int) -> None:
        sockets.append(await RawSocket.open(browsers[n], node))

    async def join(n: int) -> None:
        ack = await sockets[n].call("join", {"session_id": seeded.live_id})
        assert ack["ok"], ack

    async def leave(n: int) -> None:
        await sockets[n].ws.close()

    state = f"{node}/api/live-sessions/{seeded.live_id}"
    steps = [
        ("floor GET (baseline)", lambda n: get(n, f"{floor}/floor/{seeded.http_variant}")),
        ("show page", lambda n: get(n, f"{node}{seeded.show_path}")),
        ("state GET", lambda n: get(n, state)),
        ("socket opened (Engine.IO, Socket.IO connect)", open_socket),
        ("join (state, history)", join),
        ("socket closed (the leave recorded)", leave),
    ]
    try:
        rows = []
        for name, take in steps:
            rows.append(await _step(name, shoppers, concurrency, take))
        one = browsers[0]
        start = time.perf_counter()
        for _ in range(shoppers):
            async with one.get(state) as r:
                await r.read()
        wall = 1000 * (time.perf_counter() - start) / shoppers
        rows.append(("state GET again and again on one connection (wall ms)", wall))
        return rows
    finally:
        for s in browsers:
            await s.close()
        await connector.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shoppers", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=5)
    parser.add_argument("--gunicorn", action="store_true", help="the node under gunicorn")
    parser.add_argument("--postgres", help="a PostgreSQL URL (a fresh schema in it)")
    args = parser.parse_args()
    use_fast_hashing_for_tests()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url, drop = f"sqlite:///{workdir / 'arrival.db'}", None
        if args.postgres:
            url, drop = flash_sale._postgres(args.postgres)
        try:
            rows = _measure(url, workdir, args)
        finally:
            if drop is not None:
                drop()
    _report(rows, args)


def _measure(url: str, workdir: Path, args: argparse.Namespace) -> list[tuple[str, float]]:
    seeded = flash_sale.seed(url, 50)
    (workdir / "node").mkdir()
    with flash_sale.LOG.open("ab") as log:
        env = {"LOG_LEVEL": "WARNING"}
        node = WebServer(
            url, workdir / "node", create_schema=False, log=log, env=env, gunicorn=args.gunicorn
        )
        with node:
            floor = flash_sale.Floor(url, log, {})
            try:
                # With gunicorn, its worker (the master's child) is counted too.
                pids = [node.proc.pid] if node.proc else []
                flash_sale.SERVER_PIDS[:] = [*pids, floor.proc.pid]
                return asyncio.run(
                    _arrivals(node.url, floor.url, seeded, args.shoppers, args.concurrency)
                )
            finally:
                floor.stop()


def _report(rows: list[tuple[str, float]], args: argparse.Namespace) -> None:
    baseline = rows[0][1]
    print(
        f"show arrival: {args.shoppers} new browsers, {args.concurrency} at a time, one node "
        f"({'gunicorn' if args.gunicorn else 'python -m web.serve'}), "
        + ("PostgreSQL" if args.postgres else "SQLite")
    )
    print()
    print("| step | server CPU ms per shopper | / floor GET |")
    print("|---|---|---|")
    for name, value in rows[:-1]:
        print(f"| {name} | {value:.2f} | {value / baseline:.1f} |")
    print(
        f"| **an arrival (page + state + socket + join)** | {sum(v for _, v in rows[1:5]):.2f} | |"
    )
    print(f"| {rows[-1][0]} | {rows[-1][1]:.2f} | |")


if __name__ == "__main__":
    main()
