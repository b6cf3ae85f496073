"""The event contract: every kind declared once, every published kind delivered, nothing else.

Walks the declarations (sessions/event_kinds.py) against the sink's delivery table
(web/sockets/delivery.py) and against every ``publish(...)`` call in the code, and checks
that ``publish`` refuses what breaks a declaration.
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from sessions import events
from sessions.event_kinds import KINDS, markdown_table
from sessions.events import Event, EventError, bus, publish
from web.sockets.delivery import DELIVERIES

ROOT = Path(__file__).resolve().parents[2]


def published_kinds() -> dict[str, list[str]]:
    """Every kind named by a publish(...) call in sessions/ and web/, with where."""
    found: dict[str, list[str]] = {}
    for path in [*ROOT.joinpath("sessions").rglob("*.py"), *ROOT.joinpath("web").rglob("*.py")]:
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name != "publish":
                continue
            first = node.args[0]
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
                f"{where}: publish the kind as a literal name, so this test can check it"
            )
            found.setdefault(first.value, []).append(where)
    return found


def test_every_published_kind_is_declared() -> None:
    published = published_kinds()
    assert len(published) >= 15  # the walk found the call sites
    undeclared = {kind: where for kind, where in published.items() if kind not in KINDS}
    assert undeclared == {}, "declare these in sessions/event_kinds.py"


def test_every_declared_kind_is_delivered_and_nothing_else_is() -> None:
    assert set(KINDS) - set(DELIVERIES) == set(), "add a delivery in web/sockets/delivery.py"
    assert set(DELIVERIES) - set(KINDS) == set(), "a delivery for a kind nobody declared"


def test_every_declared_kind_is_published_somewhere() -> None:
    assert set(KINDS) - set(published_kinds()) == set(), "a declared kind nothing publishes"


@pytest.fixture
def seen() -> Iterator[list[Event]]:
    got: list[Event] = []
    bus.subscribe(got.append)
    yield got
    bus.unsubscribe(got.append)


@pytest.mark.parametrize(
    ("kind", "room", "audience", "data", "says"),
    [
        ("no_such_kind", "r", "room", {}, "not declared"),
        ("rated", None, "shopper:3", {"score": 5}, "audience shopper not in"),
        ("rated", None, "associate:x", {"score": 5}, "numeric id"),
        ("rated", None, "associate:3", {"score": "5"}, "payload does not match"),
        ("rated", None, "associate:3", {}, "payload does not match"),
        ("rated", None, "associate:3", {"score": 5, "extra": 1}, "payload does not match"),
        ("message_deleted", None, "room", {"id": 1}, "needs a room"),
        ("bag", "r", "hosts:2", {"bag": {}}, "takes no id"),
    ],
)
def test_publish_refuses_what_breaks_the_declaration(
    kind: str,
    room: str | None,
    audience: str,
    data: dict[str, object],
    says: str,
    seen: list[Event],
) -> None:
    with pytest.raises(EventError, match=says):
        publish(kind, room, audience, **data)
    assert seen == []


def test_production_logs_and_drops_a_broken_event(
    seen: list[Event], caplog: pytest.LogCaptureFixture
) -> None:
    events.set_strict(False)
    try:
        with caplog.at_level(logging.ERROR, logger="sessions.events"):
            publish("rated", None, "associate:3", score="five")
    finally:
        events.set_strict(True)
    assert seen == []
    assert "breaks its declaration" in caplog.text


def test_a_matching_event_is_published(seen: list[Event]) -> None:
    publish("rated", None, audience="associate:3", score=5)
    assert [(e.kind, e.audience, e.data) for e in seen] == [("rated", "associate:3", {"score": 5})]


def test_docs_list_every_kind_as_declared() -> None:
    doc = ROOT.joinpath("docs", "events.md").read_text()
    assert markdown_table() in doc, "regenerate the table in docs/events.md from markdown_table()"
