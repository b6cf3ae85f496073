"""Which relay a session's media goes to (sessions/relays.py, web/relays.py).

The rules on a real database; the fixed ``RELAY_URLS`` list against two real relay
processes (one of them killed); one ``RELAY_URL`` as before. The registry in Redis and a
relay's death under a show: tests/faults/test_relay_death.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session

from sessions.events import Event
from sessions.models import LiveSession
from sessions.relays import RelayInfo, do_assign_relay, do_reassign_lapsed, least_loaded
from sessions.shows.lifecycle import do_start_show
from tests.conftest import app_config, running_app
from tests.factories import OPERATOR, Factory
from tests.servers import RelayServer
from web.config import ConfigError, load_config
from web.relays import StaticDirectory, parse_relay_urls, relay_origins


def relay(name: str, **load: Any) -> RelayInfo:
    url = f"http://{name}.example:8001"
    return RelayInfo(id=url, url=url, internal_url=f"http://{name}.internal:8001", **load)


def test_the_least_loaded_relay_is_chosen_and_a_busy_core_is_avoided() -> None:
    idle, one_room, viewers = relay("a"), relay("b", rooms=1), relay("c", peers=3)
    assert least_loaded([one_room, viewers, idle]) == idle
    # A room (decoded, encoded) weighs more than a few viewers.
    assert least_loaded([one_room, viewers]) == viewers
    hot = relay("d", cpu=0.95)
    assert least_loaded([hot, relay("e", rooms=4, peers=40)]).id != hot.id
    assert least_loaded([hot]) == hot  # when every relay is busy, still somewhere
    assert least_loaded([]) is None


def live_session(factory: Factory, session: Session) -> LiveSession:
    show = factory.show(factory.brand())
    live = do_start_show(session, OPERATOR, show)
    session.commit()
    return live


def test_a_session_keeps_its_relay_while_it_lives(
    app: Flask, session: Session, factory: Factory, events: list[Event]
) -> None:
    live = live_session(factory, session)
    a, b = relay("a"), relay("b", rooms=2)
    assert do_assign_relay(session, live, [a, b]) == a
    assert live.relay_id == a.id
    # Later a is the busier one: the session stays (every node hands out the same relay).
    busier = relay("a", rooms=9, peers=300)
    assert do_assign_relay(session, live, [busier, relay("b")]) == busier
    assert not [e for e in events if e.kind == "relay_moved"]


def test_two_nodes_choosing_at_once_agree(app: Flask, session: Session, factory: Factory) -> None:
    live = live_session(factory, session)
    engine = app.extensions["vitrine.engine"]
    with Session(engine, expire_on_commit=False) as other_node:
        stale = other_node.get(LiveSession, live.id)
        assert stale is not None and stale.relay_id is None
        other_node.expunge(stale)
        other_node.rollback()  # (SQLite: its read must not hold the file meanwhile)
        first = do_assign_relay(session, live, [relay("a")])
        other_node.add(stale)  # still the row as it read it: no relay yet
        # The other node read the row before; its choice loses to the stored one.
        second = do_assign_relay(other_node, stale, [relay("a", rooms=5), relay("b")])
    assert first.id == second.id == relay("a").id  # type: ignore[union-attr]


def test_a_dead_relays_sessions_move_and_their_rooms_are_told(
    app: Flask, session: Session, factory: Factory, events: list[Event]
) -> None:
    lives = [live_session(factory, session) for _ in range(3)]
    dead, busy, idle = relay("dead"), relay("busy", rooms=1), relay("idle")
    for live in lives:
        do_assign_relay(session, live, [dead])
    assert do_reassign_lapsed(session, []) == []  # nowhere to go: they wait

    moved = do_reassign_lapsed(session, [busy, idle])
    assert sorted(moved) == sorted(live.room for live in lives)
    # Spread: the idle relay takes the first two, then the busy one is as loaded.
    placed = sorted(session.get(LiveSession, live.id).relay_id for live in lives)  # type: ignore[union-attr]
    assert placed == [busy.id, idle.id, idle.id]
    told = [(e.room, e.data) for e in events if e.kind == "relay_moved"]
    assert sorted(room for room, _ in told) == sorted(moved)
    assert all(data["relay_url"] in (busy.url, idle.url) for _, data in told)
    assert do_reassign_lapsed(session, [busy, idle]) == []  # each move happens once


def test_a_grant_that_finds_the_relay_dead_moves_the_session(
    app: Flask, session: Session, factory: Factory, events: list[Event]
) -> None:
    live = live_session(factory, session)
    do_assign_relay(session, live, [relay("dead")])
    assert do_assign_relay(session, live, [relay("alive")]) == relay("alive")
    assert [(e.kind, e.room, e.data) for e in events if e.kind == "relay_moved"] == [
        ("relay_moved", live.room, {"relay_url": relay("alive").url})
    ]


def test_relay_settings_are_checked_at_start(tmp_path: Path, monkeypatch: Any) -> None:
    assert parse_relay_urls("http://a:1, https://b/media http://10.0.0.2:8001") == [
        ("http://a:1", "http://a:1"),
        ("https://b/media", "http://10.0.0.2:8001"),
    ]
    monkeypatch.setenv("VITRINE_ENV", "testing")
    for name, value, message in [
        ("RELAY_URLS", "a b c", "RELAY_URLS"),
        ("RELAY_URLS", "ftp://x", "RELAY_URLS"),
        ("RELAY_REGISTRY", "zookeeper", "RELAY_REGISTRY"),
        ("RELAY_REGISTRY", "redis", "REDIS_URL"),
    ]:
        with monkeypatch.context() as env:
            env.setenv(name, value)
            env.delenv("REDIS_URL", raising=False)
            with pytest.raises(ConfigError, match=message):
                load_config({"VAR_DIR": str(tmp_path)})


def test_one_relay_url_works_as_before(app: Flask, client: Any, factory: Factory) -> None:
    from web.relays import assign_relay, configured_relay

    with app.test_request_context():
        show = factory.show(factory.brand())
        live = do_start_show(factory.session, OPERATOR, show)
        assert assign_relay(live) == configured_relay()
        assert live.relay_id is None  # nothing stored with one relay
        assert relay_origins() == ["http://127.0.0.1:8001"]


def test_a_fixed_list_is_asked_for_load_and_a_dead_relay_drops_out(
    database_url: str, tmp_path: Path
) -> None:
    relays = [RelayServer(tmp_path / f"media-{n}").spawn() for n in range(2)]
    try:
        first, second = (r.wait_ready(90) for r in relays)
        listed = f"{first.url}, {second.url}"
        directory = StaticDirectory(parse_relay_urls(listed), heartbeat=0.001)
        seen = directory.live()
        assert [r.url for r in seen] == [first.url, second.url]
        assert all(r.rooms == 0 and r.peers == 0 and r.cpu >= 0 for r in seen)

        assert second.proc is not None
        second.proc.kill()
        second.proc.wait()
        assert [r.url for r in directory.live()] == [first.url]

        # A page may reach every listed relay (its CSP names them all).
        config = app_config(database_url, tmp_path, RELAY_URLS=parse_relay_urls(listed))
        with running_app(config) as app, app.test_request_context():
            assert set(relay_origins()) >= {first.url, second.url}
    finally:
        for r in relays:
            r.stop()
