"""Group commit: concurrent reservations of one process share one transaction.

A thousand taps in the same second are a thousand ``BEGIN … COMMIT``: on SQLite a
thousand turns of the one write lock and WAL commits, on PostgreSQL a thousand WAL
flushes and row-lock hand-overs. ``run(engine, work)`` lets the callers that arrive
together share one: the first becomes the **leader**, waits up to ``window`` seconds
while others are still on their way (``arriving()``), then runs every caller's
``work(session)`` in one transaction, each inside its own SAVEPOINT, commits once, and
wakes each caller with its own result or its own exception.

What keeps it correct:

- Each ``work`` is the caller's whole unit (the conditional stock UPDATE and the rows
  that go with it), so a savepoint rolled back leaves nothing of it, and a refusal
  (``DomainError``: sold out, over the cap) is that caller's answer only.
- The items run in the order of their ``key`` (the variant), so two batches lock the
  same rows in the same order (no deadlock between two nodes' batches on PostgreSQL).
- Anything else going wrong (a database error, the COMMIT failing) rolls the batch back
  and runs every item again **alone**, each in its own transaction: one bad item cannot
  fail the others, and nothing counts as done before its commit.
- ``after_commit`` callbacks (the sold-out flags) run only once the batch's COMMIT
  succeeded: a refusal seen inside the batch is not published if the batch is undone.

Threads or green threads alike: the primitives are ``threading``'s, which gevent and
eventlet patch, so waiting callers yield.

**Off by default** (``GROUP_COMMIT_MS=0``: each caller runs its work alone, the same code
path). Measured with bench/flash_sale.py on PostgreSQL (two nodes, 1,000 taps on 50 in
stock), a 2 ms window made the taps slower, not faster: HTTP p99 6.8–10.5 s against
3.3–4.8 s without it (docs/performance.md). One batch runs at a time per node, its items
one after another while every caller waits for the slowest, and the variant's row lock
is held from the batch's first take to its commit; without it each tap's short
transaction takes the lock last and commits at once, and the node's pool runs several
side by side. Kept, tested on both databases, for a deployment whose cost is the commit
itself (a slow WAL disk), where sharing a flush pays.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from sessions.errors import DomainError

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_BATCH = 64  # bounds one transaction's lock time and one leader's work


def _window_seconds() -> float:
    return max(0.0, float(os.environ.get("GROUP_COMMIT_MS", "0"))) / 1000


@dataclass
class _Item(Generic[T]):
    work: Callable[[Session], T]
    key: int
    result: T | None = None
    error: BaseException | None = None
    after_commit: list[Callable[[], object]] = field(default_factory=list)
    done: bool = False


class Batch:
    """What a work function may ask of the batch it runs in."""

    def __init__(self) -> None:
        self.item: _Item[Any] | None = None

    def after_commit(self, callback: Callable[[], object]) -> None:
        """Run `callback` once this item's transaction committed (or was refused and
        the batch committed): never if it was rolled back."""
        assert self.item is not None
        self.item.after_commit.append(callback)


class Batcher:
    def __init__(self, engine: Engine, window: float | None = None) -> None:
        self.engine = engine
        self.window = _window_seconds() if window is None else window
        self._cond = threading.Condition()
        self._queue: list[_Item[Any]] = []
        self._leading = False
        self._arriving = 0
        # Figures for the bench: transactions run and items they carried.
        self.batches = 0
        self.items = 0

    # A caller announces itself before its own reads (variant, product, brand), so a
    # leader knows someone is about to join and waits for it, not for nobody.
    def arriving(self) -> None:
        with self._cond:
            self._arriving += 1

    def left(self) -> None:
        """The announced caller will not submit (refused before its work)."""
        with self._cond:
            self._arriving = max(0, self._arriving - 1)
            self._cond.notify_all()

    def run(
        self,
        work: Callable[[Session, Batch], T],
        key: int,
        announced: bool = False,
        own: Session | None = None,
    ) -> T:
        """Run `work(session, batch)` in a transaction shared with concurrent callers.

        `work` must not commit or roll back; it raises to refuse (its savepoint is
        rolled back) and returns what the caller needs (read after the commit).
        `own`: the caller's session. On SQLite the work runs alone in it: any open
        transaction there holds the one write lock (BEGIN IMMEDIATE, sessions/db.py),
        and a caller's session refreshing an expired row after its commit would hold it
        while its own batch waits for it; one writer at a time is SQLite's way anyway."""
        batch = Batch()

        def bound(session: Session) -> T:
            return work(session, batch)

        item: _Item[T] = _Item(bound, key)
        batch.item = item
        alone_in = own if own is not None and self.runs_in(own) else None
        if self.window <= 0 or alone_in is not None:  # batching off: the same work, alone
            if announced:
                self.left()
            self._run_alone(item, alone_in)
            self._after(item)
            if item.error is not None:
                raise item.error
            return item.result  # type: ignore[return-value]
        with self._cond:
            if announced:
                self._arriving = max(0, self._arriving - 1)
            self._queue.append(item)
            self._cond.notify_all()
        while True:
            with self._cond:
                while not item.done and self._leading:
                    self._cond.wait()
                if item.done:
                    break
                self._leading = True
            try:
                # Leads one batch: its own item may not be in it (more than MAX_BATCH
                # queued ahead of it), then it waits or leads again until it is done.
                self._lead()
            finally:
                with self._cond:
                    self._leading = False
                    self._cond.notify_all()  # wakes the served, and a next leader
        if item.error is not None:
            raise item.error
        return item.result  # type: ignore[return-value]

    def _lead(self) -> None:
        deadline = time.monotonic() + self.window
        with self._cond:
            # Wait for those on their way, never longer than the window, never for nobody.
            while self._arriving > 0 and len(self._queue) < MAX_BATCH:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        try:
            self._run_together(batch)
        except Exception:  # the batch as a whole failed: each alone, none lost
            log.warning("group commit of %d failed; running each alone", len(batch), exc_info=True)
            for item in batch:
                item.error, item.result, item.after_commit = None, None, []
                self._run_alone(item)
        finally:
            with self._cond:
                for item in batch:
                    item.done = True
        for item in batch:
            self._after(item)

    def _run_together(self, batch: list[_Item[Any]]) -> None:
        self.batches += 1
        self.items += len(batch)
        if len(batch) == 1:  # nobody to share with: no SAVEPOINT round trips
            self._run_alone(batch[0])
            return
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                for item in sorted(batch, key=lambda i: i.key):
                    try:
                        with session.begin_nested():
                            item.result = item.work(session)
                    except DomainError as refused:  # this caller's answer only
                        item.error = refused
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def runs_in(self, own: Session) -> bool:
        """Does `run(..., own=own)` run the work in `own` itself, in its open transaction
        (SQLite), rather than in a transaction of its own?"""
        return self.engine.dialect.name == "sqlite"

    def _run_alone(self, item: _Item[Any], own: Session | None = None) -> None:
        """One item in its own transaction (in `own`, the caller's session, if given).
        A refusal rolls back what it began (a unit taken before the cap refused it) and
        keeps its callbacks: alone, what it saw was committed by others; any other error
        drops them."""
        with (
            contextlib.nullcontext(own)
            if own is not None
            else Session(self.engine, expire_on_commit=False) as session
        ):
            try:
                item.result = item.work(session)
                session.commit()
            except DomainError as refused:
                session.rollback()
                item.error = refused
            except BaseException as exc:
                session.rollback()
                item.error, item.after_commit = exc, []
                if not isinstance(exc, Exception):
                    raise

    @staticmethod
    def _after(item: _Item[Any]) -> None:
        for callback in item.after_commit:
            try:
                callback()
            except Exception:  # a flag not set costs a slower refusal, never a wrong one
                log.warning("after-commit callback failed", exc_info=True)


_batchers: dict[int, Batcher] = {}
_lock = threading.Lock()


def batcher(engine: Engine) -> Batcher:
    """This process's batcher for `engine` (one per engine: tests run several apps)."""
    found = _batchers.get(id(engine))
    if found is not None and found.engine is engine:
        return found
    with _lock:
        found = _batchers.get(id(engine))
        if found is None or found.engine is not engine:
            found = _batchers[id(engine)] = Batcher(engine)
        return found
