"""Summarising a show of 100,000 viewer events, against a plain COUNT(*) over the same rows.

    .venv/bin/python bench/analytics_summary.py [--viewers 5000] [--beats 18] [--runs 7]
                                                [--postgres URL] [--sqlite]

A 30-minute show on a fresh PostgreSQL schema: `--viewers` viewings, each a join,
`--beats` heartbeats and a leave (5,000 x 20 = 100,000 rows by default), plus chat,
product clicks and add-to-bag for a tenth of the viewers, and an order. Timed in the
same run, same connection pool, each `--runs` times (median and worst reported):

- subject: ``metrics.show_summary`` (every figure of the show page and API);
- baseline: ``SELECT COUNT(*) FROM analytics_events WHERE live_session_id = :id``,
  the least any summary of those rows must do.

The ratio says what the figures cost over merely touching the rows.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import Session  # noqa: E402

from sessions.analytics import metrics  # noqa: E402
from sessions.db import create_all, make_engine, normalise_url  # noqa: E402
from sessions.models import AnalyticsEvent, ChatMessage, LiveSession, SessionStatus  # noqa: E402
from sessions.shows import lifecycle  # noqa: E402
from tests.factories import Factory  # noqa: E402


def seed(engine: Engine, viewers: int, beats: int) -> tuple[int, int]:
    """The show and its events; returns (live session id, rows written for it)."""
    create_all(engine)
    with Session(engine, expire_on_commit=False) as db:
        factory = Factory(db)
        brand = factory.brand()
        product = factory.product(brand, stock=10**6)
        show = factory.show(brand, duration_minutes=30)
        live = lifecycle.live_session_for_show(db, show)
        start = live.created_at + timedelta(days=1)
        live.status, live.started_at = SessionStatus.ENDED, start
        live.ended_at = start + timedelta(minutes=30)
        db.add(live)
        db.commit()
        assert live.id is not None and brand.id is not None
        shoppers = [factory.shopper().id for _ in range(min(viewers, 500))]
        rows = []
        for n in range(viewers):
            shopper = shoppers[n % len(shoppers)] if n < len(shoppers) else None
            joined = start + timedelta(seconds=(n * 7) % 900)
            base = {
                "brand_id": brand.id,
                "live_session_id": live.id,
                "shopper_id": shopper,
                "value_minor": 0,
                "detail": "",
                "mode": "live",
                "view_id": f"v{n}",
                "product_id": None,
            }
            rows.append({**base, "kind": "join", "created_at": joined})
            for beat in range(1, beats + 1):
                at = joined + timedelta(seconds=60 * beat)
                rows.append({**base, "kind": "heartbeat", "created_at": at})
            left = joined + timedelta(seconds=60 * beats + 30)
            rows.append({**base, "kind": "leave", "created_at": left})
            if n % 10 == 0 and shopper is not None:
                rows.append(
                    {**base, "kind": "product_click", "product_id": product.id, "created_at": left}
                )
                rows.append(
                    {
                        **base,
                        "kind": "add_to_bag",
                        "product_id": product.id,
                        "value_minor": product.price_minor,
                        "created_at": left,
                    }
                )
        for chunk in range(0, len(rows), 10_000):
            db.execute(insert(AnalyticsEvent), rows[chunk : chunk + 10_000])
        db.execute(
            insert(ChatMessage),
            [
                {
                    "live_session_id": live.id,
                    "shopper_id": shoppers[n % len(shoppers)],
                    "author_name": "Guest",
                    "body": "Lovely",
                    "kind": "text",
                    "created_at": start + timedelta(seconds=n),
                }
                for n in range(viewers // 10)
            ],
        )
        db.commit()
        db.execute(text("ANALYZE analytics_events"))
        db.commit()
        return live.id, len(rows)


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    fn()  # warm the pool and the caches, as a page served a second time would
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def run(url: str, args: argparse.Namespace) -> None:
    engine = make_engine(url)
    live_id, written = seed(engine, args.viewers, args.beats)

    def summary() -> object:
        with Session(engine) as db:
            live = db.get(LiveSession, live_id)
            assert live is not None
            return metrics.show_summary(db, live)

    def count() -> object:
        with Session(engine) as db:
            return db.execute(
                text("SELECT COUNT(*) FROM analytics_events WHERE live_session_id = :id"),
                {"id": live_id},
            ).scalar_one()

    counted = count()
    # Interleaved, so that both see the same machine load.
    subject: list[float] = []
    baseline: list[float] = []
    for _ in range(args.runs):
        subject += timed(summary, 1)
        baseline += timed(count, 1)
    result = summary()
    assert isinstance(result, metrics.ShowSummary)
    print(f"rows for the show: {counted} (written: {written})")
    print(
        f"figures: {result.unique_viewers} unique viewers, peak {result.peak_concurrent}, "
        f"{result.watch_seconds_total / 3600:.0f} h watched"
    )
    med_s, med_b = statistics.median(subject), statistics.median(baseline)
    print(f"show_summary : median {med_s:8.1f} ms   worst {max(subject):8.1f} ms")
    print(f"COUNT(*)     : median {med_b:8.1f} ms   worst {max(baseline):8.1f} ms")
    print(f"ratio (median summary / median COUNT(*)): {med_s / med_b:.1f}x")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--viewers", type=int, default=5000)
    parser.add_argument("--beats", type=int, default=18)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--sqlite", action="store_true", help="also on a SQLite file")
    args = parser.parse_args()
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(args.postgres)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        print(f"== PostgreSQL ({args.viewers} viewers x {args.beats + 2} viewing events)")
        run(f"{normalise_url(args.postgres)}?options=-csearch_path%3D{schema}", args)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    if args.sqlite:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            print("== SQLite")
            run(f"sqlite:///{tmp}/bench.db", args)


if __name__ == "__main__":
    main()
