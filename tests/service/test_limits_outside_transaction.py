"""A rate-limited live chat message or product click is refused (429) outside any open
transaction, as a thread message is: on SQLite every transaction, even a read, holds the
write lock (BEGIN IMMEDIATE), and the limiter may wait on Redis. A refused request must
not hold up another writer of the node meanwhile.

The action runs as a socket handler runs it: the handler's lookups have opened a
transaction on the request's session before the action is called.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from sessions import live as live_actions
from sessions.access import Actor, ActorKind
from sessions.analytics import events
from sessions.errors import TooManyRequests
from sessions.models import LiveSession
from sessions.ratelimit import RateLimiter
from sessions.shows import lifecycle
from tests.factories import OPERATOR, Factory


def writes_meanwhile(engine: Engine, live_id: int, timeout: float = 10) -> bool:
    """Another connection's write, in a thread: done within `timeout` (not held up)?"""
    done = threading.Event()

    def write() -> None:
        with Session(engine) as other:
            other.exec(  # type: ignore[call-overload]
                update(LiveSession).where(col(LiveSession.id) == live_id).values(peak_viewers=7)
            )
            other.commit()
        done.set()

    worker = threading.Thread(target=write, daemon=True)
    worker.start()
    return done.wait(timeout)


def refused_while_reading(session: Session, act: Callable[[], object]) -> TooManyRequests:
    session.exec(select(LiveSession)).all()  # the handler's lookups: a transaction is open
    assert session.in_transaction()
    with pytest.raises(TooManyRequests) as refused:
        act()
    return refused.value


def test_a_refused_chat_message_holds_no_write_lock(
    factory: Factory, session: Session, engine: Engine
) -> None:
    brand = factory.brand()
    live = lifecycle.do_start_show(session, OPERATOR, factory.show(brand))
    viewer = Actor(kind=ActorKind.SHOPPER, shopper_id=factory.shopper().id, name="Camille")
    limiter = RateLimiter(f"chat-{uuid.uuid4().hex}", "1 per minute", "Too fast; wait %(wait)s s.")
    live_actions.do_send_message(session, viewer, live, "first", limiter=limiter)

    error = refused_while_reading(
        session, lambda: live_actions.do_send_message(session, viewer, live, "2nd", limiter=limiter)
    )
    assert error.status == 429 and "wait" in error.message
    assert not session.in_transaction()  # refused with nothing open
    assert live.id is not None and writes_meanwhile(engine, live.id)
    stored = live_actions.history(session, live)
    assert [m["body"] for m in stored] == ["first"]


def test_a_refused_product_click_holds_no_write_lock(
    factory: Factory, session: Session, engine: Engine
) -> None:
    brand = factory.brand()
    product = factory.product(brand)
    live = lifecycle.do_start_show(session, OPERATOR, factory.show(brand))
    viewer = Actor(kind=ActorKind.SHOPPER, shopper_id=factory.shopper().id)
    for _ in range(20):
        events.do_record_product_click(session, viewer, live, product.id)

    error = refused_while_reading(
        session, lambda: events.do_record_product_click(session, viewer, live, product.id)
    )
    assert error.status == 429
    assert not session.in_transaction()
    assert live.id is not None and writes_meanwhile(engine, live.id)
