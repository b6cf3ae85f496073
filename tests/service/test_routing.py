"""One routing engine for chat threads and talk-now video: language, load counted across
both, the parallel cap, offers passing on after the timeout, and auto-away."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from sessions.events import Event
from sessions.models import AssociateProfile, AssociateStatus, QueueRequest
from sessions.service import queue, routing, threads
from tests.booking.conftest import Team
from tests.factories import Factory
from tests.service.conftest import associate_actor, shopper_actor

NOW = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)


def online(session: Session, *people: AssociateProfile, at: datetime = NOW) -> None:
    for person in people:
        queue.do_set_status(session, person, AssociateStatus.ONLINE, now=at)


def video(session: Session, team: Team, factory: Factory, **kw: object) -> QueueRequest:
    made = queue.do_enqueue(
        session,
        brand=team.brand,
        shopper_id=factory.shopper().id or 0,
        mode="video",
        now=NOW,
        **kw,  # type: ignore[arg-type]
    )
    assert isinstance(made, QueueRequest)
    return made


def test_chat_and_video_route_by_language_through_one_engine(
    session: Session, team: Team, factory: Factory
) -> None:
    ben = factory.associate(team.brand, team.store, name="Ben", languages="it")
    online(session, team.anna, ben)
    chat = threads.do_ask(
        session, shopper_actor(factory.shopper()), team.brand, body="Ciao", language="it", now=NOW
    ).thread
    assert chat.offered_to == ben.id
    call = video(session, team, factory, language="fr")  # Anna speaks en,fr
    assert call.associate_id == team.anna.id


def test_load_counts_chats_and_video_together_under_the_parallel_cap(
    session: Session, team: Team, factory: Factory
) -> None:
    team.anna.max_parallel_chats = 2
    session.add(team.anna)
    session.commit()
    ben = factory.associate(team.brand, team.store, name="Ben")
    online(session, team.anna, at=NOW - timedelta(minutes=2))  # idle longest: first choice
    online(session, ben)
    first = video(session, team, factory)
    assert first.associate_id == team.anna.id
    queue.do_accept(session, first, team.anna.id or 0, now=NOW)  # a video she holds
    chat = threads.do_ask(session, shopper_actor(factory.shopper()), team.brand, body="x", now=NOW)
    threads.do_accept_thread(session, associate_actor(team.anna), chat.thread, now=NOW)
    assert routing.load_of(session, team.anna.id or 0) == 2  # one video + one chat: her cap
    # Anna is full: the next chat and the next video both go to Ben.
    next_chat = threads.do_ask(
        session, shopper_actor(factory.shopper()), team.brand, body="y", now=NOW
    )
    assert next_chat.thread.offered_to == ben.id
    next_video = video(session, team, factory)
    assert next_video.associate_id == ben.id
    # Ben's cap (3) holds the offered chat and video too; the chat counts for video and back.
    assert routing.load_of(session, ben.id or 0) == 2


def test_an_unanswered_chat_offer_passes_to_the_next_after_the_timeout(
    session: Session, team: Team, factory: Factory, events: list[Event]
) -> None:
    ben = factory.associate(team.brand, team.store, name="Ben")
    online(session, team.anna, at=NOW - timedelta(minutes=5))
    online(session, ben)
    thread = threads.do_ask(
        session, shopper_actor(factory.shopper()), team.brand, body="hi", now=NOW
    ).thread
    assert thread.offered_to == team.anna.id
    threads.route_threads(session, team.brand.id or 0, now=NOW + timedelta(seconds=29))
    session.refresh(thread)
    assert thread.offered_to == team.anna.id
    threads.route_threads(session, team.brand.id or 0, now=NOW + timedelta(seconds=31))
    session.refresh(thread)
    assert thread.offered_to == ben.id
    withdrawn = [e.audience for e in events if e.kind == "thread_offer_withdrawn"]
    assert withdrawn == [f"associate:{team.anna.id}"]


def test_an_idle_or_closed_console_is_not_offered_anyone(
    session: Session, team: Team, factory: Factory
) -> None:
    ben = factory.associate(team.brand, team.store, name="Ben")
    team.brand.away_after_minutes = 5
    session.add(team.brand)
    session.commit()
    online(session, team.anna, at=NOW - timedelta(minutes=6))  # online, but idle since
    online(session, ben)
    thread = threads.do_ask(
        session, shopper_actor(factory.shopper()), team.brand, body="a", now=NOW
    ).thread
    assert thread.offered_to == ben.id  # not Anna: she is idle past the brand's 5 minutes
    # Ben closes his console: nobody is there for video either, and the chat gets an answer.
    routing.do_console_closed(session, ben.id or 0)
    assert isinstance(
        queue.do_enqueue(session, brand=team.brand, shopper_id=factory.shopper().id or 0, now=NOW),
        queue.OfflineAnswer,
    )
    late = threads.do_ask(session, shopper_actor(factory.shopper()), team.brand, body="b", now=NOW)
    assert late.automatic is not None and late.thread.offered_to is None
    # Anna's console shows a sign of life: she is back, and the waiting chat is offered to her.
    threads.do_console_heartbeat(session, team.anna, now=NOW)
    session.refresh(late.thread)
    assert late.thread.offered_to == team.anna.id
    assert queue.eligible(session, QueueRequest(brand_id=team.brand.id or 0, shopper_id=1), NOW)
