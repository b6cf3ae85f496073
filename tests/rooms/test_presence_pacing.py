"""A room's presence push is paced (web/sockets/delivery.py, ``PRESENCE_PUSH_MS``): while
people join and leave it goes out at most once per interval, a change held back goes
in a later batch so the last count always arrives, and a host's own change is not held."""

from __future__ import annotations

from typing import Any

from flask import Flask

from web.sockets.delivery import Delivery
from web.sockets.presence import LocalPresence

ROOM = "live:1"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def delivery(app: Flask) -> tuple[Delivery, list[Any], Clock]:
    made = Delivery(app, LocalPresence(), window=0.1, presence_every=1.0)
    made.stop()  # no timer of its own: the test runs each batch (_flush) itself
    sent: list[Any] = []
    made._emit = lambda name, data, to: sent.append((name, data))  # type: ignore[method-assign]
    made.clock = clock = Clock()
    return made, sent, clock


def arrive(d: Delivery, n: int) -> None:
    d.presence.add(ROOM, f"sid{n}", {"role": "viewer"})
    d.presence_changed(ROOM)


def test_joins_within_the_interval_make_one_push_and_the_last_count_follows(
    app: Flask,
) -> None:
    d, sent, clock = delivery(app)
    arrive(d, 1)
    d._flush(timer_expired=True)
    assert sent == [("presence", {"viewers": 1})]  # the room's first push: at once
    for n in range(2, 6):  # four more arrive, a batch each, within the second
        clock.now += 0.1
        arrive(d, n)
        d._flush(timer_expired=True)
    assert sent == [("presence", {"viewers": 1})]  # held back, not lost:
    clock.now += 0.7  # the interval is up: the next batch carries the count
    d._flush(timer_expired=True)
    assert sent[1:] == [("presence", {"viewers": 5})]
    d._flush(timer_expired=True)
    assert len(sent) == 2  # nothing pending any more: nothing sent


def test_a_hosts_change_and_a_forced_flush_are_not_held(app: Flask) -> None:
    d, sent, _ = delivery(app)
    arrive(d, 1)
    d._flush(timer_expired=True)
    d.presence_changed(ROOM, now=True)  # a host muted someone: the list goes now
    d._flush(timer_expired=True)
    assert len(sent) == 2
    arrive(d, 2)
    d.flush()  # a test (or a shutdown) sends everything pending
    assert sent[-1] == ("presence", {"viewers": 2})
