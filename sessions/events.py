"""Domain events: actions publish them after their commit; delivery is someone else's job.

The web layer installs a sink that turns events into Socket.IO emits; tests
install a list that records them. Generation and delivery stay apart (Zulip).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    kind: str
    room: str | None
    data: dict[str, Any] = field(default_factory=dict)
    # Delivery hint: "room" (everyone), "hosts" (the host side only), or a
    # specific audience the sink understands, e.g. "shopper:<id>".
    audience: str = "room"


Sink = Callable[[Event], None]


class EventBus:
    def __init__(self) -> None:
        self._sinks: list[Sink] = []

    def subscribe(self, sink: Sink) -> None:
        self._sinks.append(sink)

    def unsubscribe(self, sink: Sink) -> None:
        if sink in self._sinks:
            self._sinks.remove(sink)

    def publish(self, event: Event) -> None:
        for sink in list(self._sinks):
            sink(event)


bus = EventBus()


def publish(kind: str, room: str | None = None, audience: str = "room", **data: Any) -> None:
    bus.publish(Event(kind=kind, room=room, data=data, audience=audience))
