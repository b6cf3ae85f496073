"""Domain events: actions publish them after their commit; delivery is someone else's job.

Every kind of event is declared once in ``sessions.event_kinds`` with its
payload (a TypedDict) and the audiences it may go to, the way Zulip's
``event_schema.py`` declares each event. ``publish`` refuses a kind that is not
declared, an audience the kind does not allow, or a payload that does not match:
it raises while developing and testing, and logs (dropping the event) in
production, where a bad event must not take an action down with it.

The web layer installs a sink that turns events into Socket.IO emits; tests
install a list that records them. Generation and delivery stay apart (Zulip).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pydantic import TypeAdapter, ValidationError

log = logging.getLogger(__name__)


class Audience(enum.StrEnum):
    """Who an event is for. Addresses: "room", "hosts", "shopper:<id>", "associate:<id>",
    "brand:<id>" (that brand's staff), "user:<id>" (every socket of one staff member)."""

    ROOM = "room"  # everyone in the event's room
    HOSTS = "hosts"  # the host side of the event's room
    SHOPPER = "shopper"  # one shopper, wherever their sockets are
    ASSOCIATE = "associate"  # one associate, wherever their consoles are
    BRAND_STAFF = "brand"  # every signed-in member of one brand's staff
    USER = "user"  # one staff member's every socket (their sessions ended)


ROOM_AUDIENCES = frozenset({Audience.ROOM, Audience.HOSTS})


class EventError(ValueError):
    """An event that breaks its declaration (a bug in the code that published it)."""


@dataclass(frozen=True)
class Address:
    audience: Audience
    id: int | None = None  # the shopper, associate or brand; None for a room's audiences


def parse_address(address: str) -> Address:
    name, _, rest = address.partition(":")
    try:
        audience = Audience(name)
    except ValueError:
        raise EventError(f"unknown audience {address!r}") from None
    if audience in ROOM_AUDIENCES:
        if rest:
            raise EventError(f"audience {address!r} takes no id")
        return Address(audience)
    if not rest.isdigit():
        raise EventError(f"audience {address!r} needs a numeric id, e.g. '{name}:7'")
    return Address(audience, int(rest))


@dataclass(frozen=True)
class EventKind:
    """One declared kind: its name, who may receive it, and its payload's shape."""

    name: str
    payload: type  # a TypedDict: the fields and their types
    audiences: frozenset[Audience]
    summary: str

    @cached_property
    def _adapter(self) -> TypeAdapter[Any]:
        return TypeAdapter(self.payload)

    def check(self, room: str | None, address: Address, data: dict[str, Any]) -> None:
        if address.audience not in self.audiences:
            allowed = ", ".join(sorted(self.audiences))
            raise EventError(f"{self.name}: audience {address.audience} not in ({allowed})")
        if address.audience in ROOM_AUDIENCES and not room:
            raise EventError(f"{self.name}: audience {address.audience} needs a room")
        try:
            self._adapter.validate_python(data, strict=True)
        except ValidationError as exc:
            raise EventError(f"{self.name}: payload does not match: {exc}") from None


@dataclass(frozen=True)
class Event:
    kind: str
    room: str | None
    data: dict[str, Any] = field(default_factory=dict)
    # An address (see Audience): "room", "hosts", "shopper:<id>", "associate:<id>", "brand:<id>".
    audience: str = "room"

    @property
    def address(self) -> Address:
        return parse_address(self.audience)


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
# True while developing and testing: a broken event raises at the line that published it.
_strict = True


def set_strict(strict: bool) -> None:
    """Production sets False: a broken event is logged and dropped instead of raising."""
    global _strict
    _strict = strict


def check_event(event: Event) -> None:
    """Raise EventError unless the event matches its kind's declaration."""
    from sessions.event_kinds import KINDS

    kind = KINDS.get(event.kind)
    if kind is None:
        raise EventError(f"event kind {event.kind!r} is not declared in sessions/event_kinds.py")
    kind.check(event.room, event.address, event.data)


def publish(kind: str, room: str | None = None, audience: str = "room", **data: Any) -> None:
    event = Event(kind=kind, room=room, data=data, audience=audience)
    try:
        check_event(event)
    except EventError:
        if _strict:
            raise
        log.exception("refused an event that breaks its declaration")
        return
    bus.publish(event)
