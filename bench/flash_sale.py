"""Flash sale: 1,000 shoppers tap "add to bag" at once on a variant with 50 left.

    .venv/bin/python bench/flash_sale.py [--buyers 1000] [--stock 50] [--postgres URL]

Against a real Vitrine web node (gevent), on a fresh SQLite file and, unless
`--no-postgres`, on a fresh PostgreSQL schema. Each buyer is its own browser
(cookie, CSRF token), prepared before the race. Checked: exactly `--stock`
requests succeed (201), every other one gets 409 "sold_out", the variant's
stock ends at 0. Reported: p50/p99/max response time and, as the baseline
measured in the same run, the same buyers all reading the session state
(GET /api/live-sessions/<id>) at once: the ratio says what the atomic
reservation costs over a plain request on the same node.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import numpy as np  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from sessions.db import create_all, make_engine, normalise_url  # noqa: E402
from sessions.models import Variant  # noqa: E402
from sessions.shows import lifecycle  # noqa: E402
from tests.factories import OPERATOR, Factory  # noqa: E402
from tests.servers import WebServer  # noqa: E402

LOG = Path(tempfile.gettempdir()) / "flash_sale.log"


@dataclass
class Result:
    database: str
    ok: int
    sold_out: int
    other: int
    final_stock: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    base_p99_ms: float


def seed(database_url: str, stock: int) -> tuple[int, int]:
    engine = make_engine(database_url)
    create_all(engine)
    with Session(engine, expire_on_commit=False) as db:
        factory = Factory(db)
        brand = factory.brand()
        product = factory.product(brand, stock=stock)
        show = factory.show(brand, product_ids=[product.id])
        live = lifecycle.do_start_show(db, OPERATOR, show)
        variant = factory.variants(product)[0]
        db.commit()
    engine.dispose()
    assert live.id is not None and variant.id is not None
    return live.id, variant.id


async def _race(base: str, live_id: int, variant_id: int, buyers: int) -> tuple[list, list]:
    connector = aiohttp.TCPConnector(limit=0)
    sessions = [
        aiohttp.ClientSession(
            connector=connector, connector_owner=False, cookie_jar=aiohttp.CookieJar(unsafe=True)
        )
        for _ in range(buyers)
    ]
    try:
        tokens = []
        for s in sessions:
            async with s.get(f"{base}/api/live-sessions/{live_id}") as r:
                assert r.status == 200, await r.text()
            async with s.get(f"{base}/login") as r:
                page = await r.text()
            tokens.append(page.split('name="csrf-token" content="')[1].split('"')[0])

        async def timed(s: aiohttp.ClientSession, method: str, url: str, **kw: object) -> tuple:
            start = time.perf_counter()
            async with s.request(method, url, **kw) as r:  # type: ignore[arg-type]
                body = await r.json()
            return r.status, body, time.perf_counter() - start

        baseline = await asyncio.gather(
            *(timed(s, "GET", f"{base}/api/live-sessions/{live_id}") for s in sessions)
        )
        body = {"variant_id": variant_id, "quantity": 1, "live_session_id": live_id}
        race = await asyncio.gather(
            *(
                timed(s, "POST", f"{base}/api/bag/lines", json=body, headers={"X-CSRFToken": t})
                for s, t in zip(sessions, tokens, strict=True)
            )
        )
        return list(baseline), list(race)
    finally:
        for s in sessions:
            await s.close()
        await connector.close()


def run(name: str, database_url: str, buyers: int, stock: int, workdir: Path) -> Result:
    live_id, variant_id = seed(database_url, stock)
    with (
        LOG.open("ab") as log,
        WebServer(database_url, workdir, create_schema=False, log=log) as node,
    ):
        baseline, race = asyncio.run(_race(node.url, live_id, variant_id, buyers))
    engine = make_engine(database_url)
    with Session(engine) as db:
        variant = db.get(Variant, variant_id)
        assert variant is not None
        final = variant.stock
    engine.dispose()
    statuses = [status for status, _, _ in race]
    sold_out = sum(1 for status, body, _ in race if status == 409 and body["error"] == "sold_out")
    times = np.array([t for _, _, t in race]) * 1000
    base_times = np.array([t for _, _, t in baseline]) * 1000
    return Result(
        name,
        statuses.count(201),
        sold_out,
        len(race) - statuses.count(201) - sold_out,
        final,
        float(np.percentile(times, 50)),
        float(np.percentile(times, 99)),
        float(times.max()),
        float(np.percentile(base_times, 99)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--buyers", type=int, default=1000)
    parser.add_argument("--stock", type=int, default=50)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        results.append(
            run("SQLite", f"sqlite:///{workdir / 'sale.db'}", args.buyers, args.stock, workdir)
        )
        if not args.no_postgres:
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            admin = make_engine(args.postgres)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            url = f"{normalise_url(args.postgres)}?options=-csearch_path%3D{schema}"
            try:
                results.append(run("PostgreSQL", url, args.buyers, args.stock, workdir))
            finally:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
    print(f"flash sale: {args.buyers} concurrent add-to-bag on a variant with {args.stock} left")
    print()
    print(
        "| database | 201 added | 409 sold out | other | stock after | p50 ms | p99 ms | max ms "
        "| baseline p99 ms (GET state) | p99 ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r.database} | {r.ok} | {r.sold_out} | {r.other} | {r.final_stock} | "
            f"{r.p50_ms:.0f} | {r.p99_ms:.0f} | {r.max_ms:.0f} | {r.base_p99_ms:.0f} | "
            f"{r.p99_ms / r.base_p99_ms:.2f} |"
        )
    failed = [r for r in results if r.ok != args.stock or r.final_stock != 0 or r.other]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
