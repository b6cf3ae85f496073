"""The shopper's thread: asking, messages both ways, accept, transfer, close, read
markers, automatic answers, and who may see it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlmodel import Session, select

from sessions.access import Actor, ActorKind
from sessions.errors import Conflict, Forbidden, NotFound
from sessions.events import Event
from sessions.models import AssociateStatus, ThreadMessage, ThreadStatus
from sessions.service import availability as av
from sessions.service import queue, rooms, threads
from tests.booking.conftest import Team, staff
from tests.factories import Factory
from tests.service.conftest import associate_actor, shopper_actor

NOW = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)  # a Monday, 11:00 in Paris


def sent(events: list[Event], kind: str) -> list[Event]:
    return [e for e in events if e.kind == kind]


def test_ask_opens_one_thread_offers_it_and_reuses_it(
    session: Session, team: Team, factory: Factory, events: list[Event]
) -> None:
    queue.do_set_status(session, team.anna, AssociateStatus.ONLINE, now=NOW)
    camille = shopper_actor(factory.shopper(name="Camille"))
    asked = threads.do_ask(session, camille, team.brand, body="Is it a true sky blue?", now=NOW)
    thread = asked.thread
    assert thread.status is ThreadStatus.WAITING and thread.offered_to == team.anna.id
    assert asked.automatic is None  # someone is there: no automatic answer
    offers = sent(events, "thread_offer")
    assert [(e.audience, e.data["preview"]) for e in offers] == [
        (f"associate:{team.anna.id}", "Is it a true sky blue?")
    ]
    again = threads.do_ask(session, camille, team.brand, body="And in M?", now=NOW)
    assert again.thread.id == thread.id  # one thread per shopper and brand
    assert [m["body"] for m in threads.history(session, thread)] == [
        "Is it a true sky blue?",
        "And in M?",
    ]


def test_a_message_is_stored_before_it_is_published_and_a_retry_is_not_doubled(
    session: Session, team: Team, factory: Factory, events: list[Event]
) -> None:
    camille = shopper_actor(factory.shopper())
    stored_when_published: list[bool] = []

    def check(event: Event) -> None:
        if event.kind == "thread_message":
            row = session.get(ThreadMessage, event.data["message"]["id"])
            stored_when_published.append(row is not None)

    from sessions.events import bus

    bus.subscribe(check)
    try:
        asked = threads.do_ask(session, camille, team.brand, body="Hello", client_id="c-1")
        retry = threads.do_send_thread_message(
            session, camille, asked.thread, body="Hello", client_id="c-1"
        )
    finally:
        bus.unsubscribe(check)
    assert retry["id"] == asked.message["id"]
    rows = session.exec(select(ThreadMessage).where(ThreadMessage.side == "shopper")).all()
    assert len(rows) == 1
    assert stored_when_published and all(stored_when_published)


def test_lifecycle_accept_answer_read_close_and_reopen(
    session: Session, team: Team, factory: Factory, events: list[Event]
) -> None:
    queue.do_set_status(session, team.anna, AssociateStatus.ONLINE, now=NOW)
    shopper = factory.shopper(name="Camille")
    camille, anna = shopper_actor(shopper), associate_actor(team.anna)
    product = factory.product(team.brand)
    thread = threads.do_ask(session, camille, team.brand, body="Size?", now=NOW).thread
    # While it waits, the question goes to the brand's staff and to the shopper.
    first = sent(events, "thread_message")
    assert {e.audience for e in first} == {f"shopper:{shopper.id}", f"brand:{team.brand.id}"}

    threads.do_accept_thread(session, anna, thread, now=NOW)
    assert thread.status is ThreadStatus.ASSIGNED and thread.associate_id == team.anna.id
    card = threads.do_send_thread_message(session, anna, thread, product_id=product.id)
    assert card["kind"] == "product" and card["side"] == "staff"
    # Now it is held: the associate's consoles hear it, not the whole brand.
    last = sent(events, "thread_message")[-2:]
    assert {e.audience for e in last} == {f"shopper:{shopper.id}", f"associate:{team.anna.id}"}
    assert [m["body"] for m in threads.history(session, thread)][-2:] == ["Anna joined", ""]

    threads.do_mark_read(session, camille, thread, card["id"])
    read = sent(events, "thread_read")[-1]
    assert read.audience == f"associate:{team.anna.id}" and read.data["message_id"] == card["id"]
    threads.do_mark_read(session, camille, thread, 1)  # markers never move back
    assert thread.shopper_read_id == card["id"]

    threads.do_close_thread(session, anna, thread, now=NOW)
    assert thread.status is ThreadStatus.CLOSED
    again = threads.do_ask(session, camille, team.brand, body="Back again", now=NOW)
    assert again.thread.id == thread.id and again.thread.status is ThreadStatus.WAITING
    assert len(threads.history(session, thread)) >= 5  # the history stays


def test_nobody_else_sees_or_touches_a_thread(
    session: Session, team: Team, factory: Factory
) -> None:
    queue.do_set_status(session, team.anna, AssociateStatus.ONLINE, now=NOW)
    camille = shopper_actor(factory.shopper())
    thread = threads.do_ask(session, camille, team.brand, body="Mine", now=NOW).thread
    other_shopper = shopper_actor(factory.shopper())
    with pytest.raises(NotFound):
        threads.do_send_thread_message(session, other_shopper, thread, body="hi")
    with pytest.raises(NotFound):
        threads.do_mark_read(session, other_shopper, thread, 1)
    other_brand = factory.brand()
    carl = associate_actor(factory.associate(other_brand))
    with pytest.raises(Forbidden):
        threads.do_accept_thread(session, carl, thread)
    with pytest.raises(Forbidden):
        threads.do_typing(session, carl, thread)
    ben = associate_actor(factory.associate(team.brand, team.store, name="Ben"))
    threads.do_accept_thread(session, associate_actor(team.anna), thread)
    with pytest.raises(Conflict):  # taken: a colleague cannot take it as well
        threads.do_accept_thread(session, ben, thread)
    with pytest.raises(Forbidden):  # nor type into a colleague's conversation
        threads.do_send_thread_message(session, ben, thread, body="me too")
    anonymous = Actor(kind=ActorKind.ANONYMOUS)
    with pytest.raises(NotFound):
        threads.do_typing(session, anonymous, thread)


def test_transfer_to_a_colleague_then_to_a_store(
    session: Session, team: Team, factory: Factory, events: list[Event]
) -> None:
    ben = factory.associate(team.brand, team.store, name="Ben")
    other_store = factory.store(team.brand, name="Lyon")
    cleo = factory.associate(team.brand, other_store, name="Cleo")
    for person in (team.anna, ben, cleo):
        queue.do_set_status(session, person, AssociateStatus.ONLINE, now=NOW)
    camille = shopper_actor(factory.shopper())
    thread = threads.do_ask(session, camille, team.brand, body="Help", now=NOW).thread
    threads.do_accept_thread(session, associate_actor(team.anna), thread, now=NOW)
    threads.do_transfer_thread(
        session, associate_actor(team.anna), thread, to_associate_id=ben.id, now=NOW
    )
    assert thread.associate_id == ben.id and thread.status is ThreadStatus.ASSIGNED
    threads.do_transfer_thread(
        session, associate_actor(ben), thread, to_store_id=other_store.id, now=NOW
    )
    # Back to waiting, offered only to the Lyon store's associate.
    assert thread.status is ThreadStatus.WAITING and thread.offered_to == cleo.id
    notes = [m["body"] for m in threads.history(session, thread) if m["kind"] == "system"]
    assert notes[-2:] == ["Transferred to Ben", "Transferred to Lyon"]


def test_nobody_online_gets_the_automatic_answer_and_back_at_then_the_first_back_is_offered(
    session: Session, factory: Factory, events: list[Event]
) -> None:
    weekdays = [av.Span(d, time(10, 0), time(19, 0)) for d in range(5)]
    team = staff(factory, session, hours=weekdays)
    camille = shopper_actor(factory.shopper())
    saturday = datetime(2026, 4, 4, 12, 0, tzinfo=UTC)
    asked = threads.do_ask(session, camille, team.brand, body="Do you ship?", now=saturday)
    assert asked.automatic is not None and asked.automatic["kind"] == "automatic"
    assert "automatic answer" in asked.automatic["body"].casefold()
    assert asked.back_at == datetime(2026, 4, 6, 8, 0, tzinfo=UTC)  # Monday 10:00 in Paris
    assert asked.thread.status is ThreadStatus.WAITING  # it waits in the inbox
    monday = datetime(2026, 4, 6, 8, 1, tzinfo=UTC)
    queue.do_set_status(session, team.anna, AssociateStatus.ONLINE, now=monday)
    assert [e.audience for e in sent(events, "thread_offer")] == [f"associate:{team.anna.id}"]


def test_everyone_busy_past_the_brands_wait_gets_the_automatic_answer_once(
    session: Session, team: Team, factory: Factory
) -> None:
    team.anna.max_parallel_chats = 1
    session.add(team.anna)
    team.brand.auto_answer_after_seconds = 120
    session.add(team.brand)
    session.commit()
    queue.do_set_status(session, team.anna, AssociateStatus.ONLINE, now=NOW)
    first = threads.do_ask(session, shopper_actor(factory.shopper()), team.brand, body="a", now=NOW)
    assert first.thread.offered_to == team.anna.id
    second = threads.do_ask(
        session, shopper_actor(factory.shopper()), team.brand, body="b", now=NOW
    )
    assert second.thread.offered_to is None and second.automatic is None  # busy, not absent
    assert threads.do_answer_overdue(session, now=NOW + timedelta(seconds=119)) == 0
    assert threads.do_answer_overdue(session, now=NOW + timedelta(seconds=121)) == 2
    assert threads.do_answer_overdue(session, now=NOW + timedelta(seconds=200)) == 0
    kinds = [m["kind"] for m in threads.history(session, second.thread)]
    assert kinds == ["text", "automatic"]


def test_a_video_joins_the_same_thread(session: Session, team: Team, factory: Factory) -> None:
    queue.do_set_status(session, team.anna, AssociateStatus.ONLINE, now=NOW)
    shopper = factory.shopper()
    camille = shopper_actor(shopper)
    thread = threads.do_ask(session, camille, team.brand, body="Show me on camera?", now=NOW).thread
    threads.do_accept_thread(session, associate_actor(team.anna), thread, now=NOW)
    request = queue.do_enqueue(
        session, brand=team.brand, shopper_id=shopper.id or 0, mode="video", now=NOW
    )
    assert isinstance(request, queue.QueueRequest)
    live = queue.do_accept(session, request, team.anna.id or 0, now=NOW)
    rooms.do_end_consultation(session, live, now=NOW)
    notes = [m["body"] for m in threads.history(session, thread) if m["kind"] == "system"]
    assert notes == ["Anna joined", "Video started with Anna", "Video ended"]


def test_a_waiting_shopper_sees_their_place_and_an_honest_wait(
    session: Session, team: Team, factory: Factory
) -> None:
    team.anna.max_parallel_chats = 1
    session.add(team.anna)
    session.commit()
    queue.do_set_status(session, team.anna, AssociateStatus.ONLINE)
    first = threads.do_ask(session, shopper_actor(factory.shopper()), team.brand, body="a")
    second = threads.do_ask(session, shopper_actor(factory.shopper()), team.brand, body="b")
    third = threads.do_ask(session, shopper_actor(factory.shopper()), team.brand, body="c")
    assert threads.place_in_line(session, first.thread) == (1, 0)  # offered to Anna now
    # Anna's one place is taken: the second waits for one conversation, the third for two.
    assert threads.place_in_line(session, second.thread) == (2, 300)
    assert threads.place_in_line(session, third.thread) == (3, 600)
    threads.do_accept_thread(session, associate_actor(team.anna), first.thread)
    assert threads.place_in_line(session, first.thread) is None
    assert threads.place_in_line(session, second.thread) == (1, 300)
    assert threads.place_in_line(session, third.thread) == (2, 600)


def test_those_behind_are_told_their_new_place_when_the_first_is_taken(
    session: Session, team: Team, factory: Factory, events: list[Event]
) -> None:
    team.anna.max_parallel_chats = 1
    session.add(team.anna)
    session.commit()
    queue.do_set_status(session, team.anna, AssociateStatus.ONLINE)
    first = threads.do_ask(session, shopper_actor(factory.shopper()), team.brand, body="a")
    second = threads.do_ask(session, shopper_actor(factory.shopper()), team.brand, body="b")
    third = threads.do_ask(session, shopper_actor(factory.shopper()), team.brand, body="c")
    events.clear()
    threads.do_accept_thread(session, associate_actor(team.anna), first.thread)
    told = {
        e.audience: e.data["thread"]["position"]
        for e in sent(events, "thread_changed")
        if e.audience != f"brand:{team.brand.id}"
    }
    # Pushed, not polled: each shopper behind hears their new place.
    assert told[f"shopper:{second.thread.shopper_id}"] == 1
    assert told[f"shopper:{third.thread.shopper_id}"] == 2
    assert told[f"shopper:{first.thread.shopper_id}"] is None  # taken: no longer in line
