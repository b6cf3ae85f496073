"""Auto-away through the console's socket: its heartbeat makes the associate present
(and offered whoever waits), its last socket closing makes them away at once."""

from __future__ import annotations

from collections.abc import Callable

from flask_socketio import SocketIOTestClient
from sqlmodel import Session

from sessions.clock import utcnow
from sessions.models import AssociateProfile, AssociateStatus, Thread
from sessions.service import queue, routing, threads
from tests.booking.conftest import Team
from tests.factories import Factory
from tests.rooms.conftest import connect  # noqa: F401  (fixture)
from tests.service.conftest import shopper_actor


def present(session: Session, profile: AssociateProfile) -> bool:
    session.expire_all()
    fresh = session.get(AssociateProfile, profile.id)
    assert fresh is not None
    answer = routing.is_present(fresh, utcnow(), routing.away_after(session, fresh.brand_id))
    session.commit()  # end the read: on SQLite it would hold the write lock
    return answer


def test_heartbeat_brings_the_associate_back_and_closing_the_console_makes_them_away(
    session: Session,
    team: Team,
    factory: Factory,
    connect: Callable[..., SocketIOTestClient],  # noqa: F811
) -> None:
    queue.do_set_status(session, team.anna, AssociateStatus.ONLINE)
    routing.do_console_closed(session, team.anna.id or 0)  # the console is not open yet
    asked = threads.do_ask(session, shopper_actor(factory.shopper()), team.brand, body="Hi")
    assert asked.thread.offered_to is None and asked.automatic is not None
    email = factory.user_of(team.anna).email
    console = connect(email)
    second = connect(email)  # a second tab
    assert console.emit("console_heartbeat", {}, callback=True) == {"ok": True, "status": "online"}
    assert second.emit("console_heartbeat", {}, callback=True)["ok"]
    assert present(session, team.anna)
    thread = session.get(Thread, asked.thread.id)
    assert thread is not None and thread.offered_to == team.anna.id  # the first one back
    session.commit()
    console.disconnect()
    assert present(session, team.anna)  # the other tab is still open
    second.disconnect()
    assert not present(session, team.anna)
    # A shopper's socket has no heartbeat to send.
    shopper = connect()
    assert shopper.emit("console_heartbeat", {}, callback=True)["error"] == "not_associate"
