"""Group commit (sessions/groupcommit.py): concurrent reservations share one transaction,
each answered on its own; a refusal or a failing row fails nobody else; nothing is
oversold or lost. Real threads against the test database (SQLite or PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from sessions import bags, groupcommit
from sessions.access import Actor, ActorKind
from sessions.errors import SoldOut
from sessions.models import Variant
from tests.factories import Factory
from tests.rooms.conftest import Room

WAIT = 120.0  # a loaded machine starts threads late; the batch waits for the announced


def _together(callers: list[Callable[[], Any]]) -> list[Any]:
    """Run every caller in its own thread at once; each result or exception, in order."""
    out: list[Any] = [None] * len(callers)
    start = threading.Barrier(len(callers))

    def one(n: int) -> None:
        start.wait(timeout=WAIT)
        try:
            out[n] = callers[n]()
        except Exception as exc:  # the caller's own answer, checked by the test
            out[n] = exc

    threads = [threading.Thread(target=one, args=(n,)) for n in range(len(callers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=WAIT)
        assert not t.is_alive()
    return out


def _take(variant_id: int) -> Callable[[Session, groupcommit.Batch], int]:
    def work(db: Session, _batch: groupcommit.Batch) -> int:
        left = db.execute(
            text(
                "UPDATE variants SET stock = stock - 1 WHERE id = :v AND stock >= 1 RETURNING stock"
            ),
            {"v": variant_id},
        ).scalar()
        if left is None:
            raise SoldOut("Sold out.", variant_id=variant_id)
        return int(left)

    return work


def _stock(engine: Engine, variant_id: int) -> int:
    with Session(engine) as db:
        variant = db.get(Variant, variant_id)
        assert variant is not None
        return variant.stock


def test_concurrent_callers_share_one_transaction_and_each_gets_its_own_answer(
    engine: Engine, factory: Factory, session: Session
) -> None:
    brand = factory.brand()
    variant_id = factory.variants(factory.product(brand, stock=5))[0].id
    assert variant_id is not None
    session.commit()  # on SQLite an open read holds the write lock
    batcher = groupcommit.Batcher(engine, window=WAIT)
    callers = 12
    for _ in range(callers):
        batcher.arriving()  # all announced before any submits: the leader waits for all

    answers = _together(
        [lambda: batcher.run(_take(variant_id), key=variant_id, announced=True)] * callers
    )

    won = sorted(a for a in answers if isinstance(a, int))
    assert won == [0, 1, 2, 3, 4]  # each winner saw its own unit's stock
    assert sum(isinstance(a, SoldOut) for a in answers) == callers - 5
    assert _stock(engine, variant_id) == 0
    assert (batcher.batches, batcher.items) == (1, callers)  # one transaction for all


def test_a_failing_row_fails_nobody_else_and_is_not_half_done(
    engine: Engine, factory: Factory, session: Session
) -> None:
    brand = factory.brand()
    variant_id = factory.variants(factory.product(brand, stock=10))[0].id
    assert variant_id is not None
    session.commit()  # on SQLite an open read holds the write lock
    batcher = groupcommit.Batcher(engine, window=WAIT)

    def breaks_the_check(db: Session, _batch: groupcommit.Batch) -> int:
        # A unit taken, then a row the CHECK (stock >= 0) refuses: a database error, not
        # a refusal; the batch is rolled back and everyone runs again alone.
        _take(variant_id)(db, _batch)
        db.execute(text("UPDATE variants SET stock = -1 WHERE id = :v"), {"v": variant_id})
        return -1

    work = [_take(variant_id)] * 3 + [breaks_the_check] + [_take(variant_id)] * 3
    for _ in work:
        batcher.arriving()
    answers = _together(
        [lambda w=w: batcher.run(w, key=variant_id, announced=True) for w in work]  # type: ignore[misc]
    )

    assert isinstance(answers[3], IntegrityError)
    others = answers[:3] + answers[4:]
    assert sorted(others) == [4, 5, 6, 7, 8, 9]  # six units, each answered once
    assert _stock(engine, variant_id) == 4  # the failed caller took nothing


def test_after_commit_runs_only_for_what_was_committed(
    engine: Engine, factory: Factory, session: Session
) -> None:
    brand = factory.brand()
    variant_id = factory.variants(factory.product(brand, stock=1))[0].id
    assert variant_id is not None
    session.commit()  # on SQLite an open read holds the write lock
    batcher = groupcommit.Batcher(engine, window=0.001)
    seen: list[str] = []

    def refused(db: Session, batch: groupcommit.Batch) -> None:
        batch.after_commit(lambda: seen.append("refused, batch committed"))
        raise SoldOut("Sold out.", variant_id=variant_id)

    def broken(db: Session, batch: groupcommit.Batch) -> None:
        batch.after_commit(lambda: seen.append("never"))
        db.execute(text("UPDATE variants SET stock = -1 WHERE id = :v"), {"v": variant_id})

    with pytest.raises(SoldOut):
        batcher.run(refused, key=variant_id)
    with pytest.raises(IntegrityError):  # the CHECK constraint's error, the caller's own
        batcher.run(broken, key=variant_id)
    assert seen == ["refused, batch committed"]
    assert _stock(engine, variant_id) == 1


def test_concurrent_adds_to_bag_never_oversell(
    engine: Engine, room: Room, factory: Factory, session: Session
) -> None:
    """The whole reservation (stock, bag, line, analytics) through the batcher at once:
    exactly the stock wins, each winner with its own bag and line."""
    shoppers = [factory.shopper() for _ in range(9)]
    assert room.variant.id is not None and room.variant.stock == 5
    session.commit()  # on SQLite an open read holds the write lock

    def add(shopper_id: int) -> Callable[[], bags.Added]:
        def call() -> bags.Added:
            with Session(engine, expire_on_commit=False) as db:
                actor = Actor(kind=ActorKind.SHOPPER, shopper_id=shopper_id)
                return bags.do_add_to_bag(db, actor, variant_id=room.variant.id, live=room.live)

        return call

    answers = _together([add(s.id) for s in shoppers if s.id is not None])

    won = [a for a in answers if isinstance(a, bags.Added)]
    assert len(won) == 5 and sum(isinstance(a, SoldOut) for a in answers) == 4, answers
    assert sorted(a.stock["stock"] for a in won) == [0, 1, 2, 3, 4]
    assert len({a.bag["id"] for a in won}) == 5 and all(a.bag["count"] == 1 for a in won)
    assert _stock(engine, room.variant.id) == 0


def test_more_callers_than_one_batch_holds_are_all_answered(
    engine: Engine, factory: Factory, session: Session
) -> None:
    """Past MAX_BATCH the queue goes out in several batches; a leader whose own item was
    not in the batch it ran leads again: nobody is left without an answer."""
    brand = factory.brand()
    variant_id = factory.variants(factory.product(brand, stock=50))[0].id
    assert variant_id is not None
    session.commit()  # on SQLite an open read holds the write lock
    batcher = groupcommit.Batcher(engine, window=WAIT)
    callers = groupcommit.MAX_BATCH + 16
    for _ in range(callers):
        batcher.arriving()

    answers = _together(
        [lambda: batcher.run(_take(variant_id), key=variant_id, announced=True)] * callers
    )

    assert sorted(a for a in answers if isinstance(a, int)) == list(range(50))
    assert sum(isinstance(a, SoldOut) for a in answers) == callers - 50
    assert batcher.batches >= 2 and batcher.items == callers
    assert _stock(engine, variant_id) == 0
