"""A chat becomes video, both ways: the shopper asks to be shown on camera or the associate
offers; the other side accepts (a consultation opens, with the talk-now machinery, noted in
the thread), declines or the asker cancels; each side is told, and nobody else may act."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from sessions.access import Actor, ActorKind, media_claims
from sessions.errors import Conflict, Forbidden, NotFound
from sessions.events import Event
from sessions.models import (
    AssociateStatus,
    LiveSession,
    QueueRequest,
    QueueStatus,
    SessionKind,
    SessionStatus,
    Thread,
    VideoRequestStatus,
    VideoSide,
)
from sessions.service import escalation, queue, rooms, threads
from tests.booking.conftest import Team
from tests.factories import Factory
from tests.service.conftest import associate_actor, shopper_actor

NOW = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)  # a Monday, 11:00 in Paris


def held_thread(session: Session, team: Team, factory: Factory) -> tuple[Actor, Actor, Thread]:
    """Camille asked; Anna holds her thread."""
    queue.do_set_status(session, team.anna, AssociateStatus.ONLINE, now=NOW)
    camille = shopper_actor(factory.shopper(name="Camille"))
    anna = associate_actor(team.anna)
    thread = threads.do_ask(session, camille, team.brand, body="Is it sky blue?", now=NOW).thread
    threads.do_accept_thread(session, anna, thread, now=NOW)
    return camille, anna, thread


def video_events(events: list[Event]) -> list[tuple[str, str, str]]:
    return [
        (e.audience, e.data["request"]["asked_by"], e.data["request"]["status"])
        for e in events
        if e.kind == "video_request"
    ]


def notes(session: Session, thread: Thread) -> list[str]:
    return [m["body"] for m in threads.history(session, thread) if m["kind"] == "system"]


def test_shopper_asks_the_associate_accepts_and_a_consultation_opens_for_both(
    session: Session, team: Team, factory: Factory, events: list[Event]
) -> None:
    camille, anna, thread = held_thread(session, team, factory)
    asked = escalation.do_request_video(session, camille, thread, now=NOW)
    assert asked.asked_by is VideoSide.SHOPPER and asked.status is VideoRequestStatus.PENDING
    assert asked.associate_id == team.anna.id
    shopper_room, anna_room = f"shopper:{thread.shopper_id}", f"associate:{team.anna.id}"
    assert video_events(events) == [
        (shopper_room, "shopper", "pending"),
        (anna_room, "shopper", "pending"),
    ]
    assert escalation.do_request_video(session, camille, thread, now=NOW).id == asked.id  # twice
    assert [r.id for r in escalation.open_for_associate(session, team.anna.id or 0, NOW)] == [
        asked.id
    ]

    events.clear()
    accepted = escalation.do_accept_video(session, anna, thread, now=NOW)
    assert accepted.status is VideoRequestStatus.ACCEPTED and accepted.live_session_id
    live = session.get(LiveSession, accepted.live_session_id)
    assert live is not None and live.kind is SessionKind.CONSULTATION
    assert live.status is SessionStatus.LIVE  # no waiting screen: both are there already
    assert (live.shopper_id, live.associate_id) == (thread.shopper_id, team.anna.id)
    # The talk-now machinery made it: a video request of the queue, taken by Anna.
    taken = session.get(QueueRequest, live.queue_request_id)
    assert taken is not None and (taken.mode, taken.status) == ("video", QueueStatus.ACCEPTED)
    brand = team.brand
    assert media_claims(live, brand).public is False  # a consultation's video is private
    kinds = [e.kind for e in events]
    assert "queue_accepted" in kinds
    assert video_events(events)[-2:] == [
        (shopper_room, "shopper", "accepted"),
        (anna_room, "shopper", "accepted"),
    ]
    assert escalation.current_request(session, thread, NOW) == accepted  # rejoin after reload
    assert escalation.open_for_associate(session, team.anna.id or 0, NOW) == []

    rooms.do_end_consultation(session, live, now=NOW + timedelta(minutes=9))
    assert notes(session, thread)[-3:] == [
        "Camille asked to be shown on camera",
        "Video started with Anna",
        "Video ended",
    ]
    assert escalation.current_request(session, thread, NOW) is None


def test_the_associate_offers_the_shopper_accepts(
    session: Session, team: Team, factory: Factory, events: list[Event]
) -> None:
    camille, anna, thread = held_thread(session, team, factory)
    offer = escalation.do_request_video(session, anna, thread, now=NOW)
    assert offer.asked_by is VideoSide.STAFF
    with pytest.raises(Forbidden):
        escalation.do_accept_video(session, anna, thread, now=NOW)  # one's own offer
    accepted = escalation.do_accept_video(session, camille, thread, now=NOW)
    live = session.get(LiveSession, accepted.live_session_id)
    assert live is not None and live.associate_id == team.anna.id
    assert notes(session, thread)[-2:] == [
        "Anna offered to try it on for you on camera",
        "Video started with Anna",
    ]
    with pytest.raises(Conflict):
        escalation.do_accept_video(session, camille, thread, now=NOW)  # answered already


def test_asked_by_both_sides_is_a_yes(session: Session, team: Team, factory: Factory) -> None:
    camille, anna, thread = held_thread(session, team, factory)
    escalation.do_request_video(session, camille, thread, now=NOW)
    crossed = escalation.do_request_video(session, anna, thread, now=NOW)
    assert crossed.status is VideoRequestStatus.ACCEPTED and crossed.live_session_id


def test_decline_and_cancel_are_told_to_the_other_side(
    session: Session, team: Team, factory: Factory, events: list[Event]
) -> None:
    camille, anna, thread = held_thread(session, team, factory)
    escalation.do_request_video(session, camille, thread, now=NOW)
    with pytest.raises(Forbidden):
        escalation.do_cancel_video(session, anna, thread, now=NOW)  # hers to cancel
    declined = escalation.do_decline_video(session, anna, thread, now=NOW)
    assert declined.status is VideoRequestStatus.DECLINED
    assert video_events(events)[-1] == (f"associate:{team.anna.id}", "shopper", "declined")
    assert (f"shopper:{thread.shopper_id}", "shopper", "declined") in video_events(events)
    assert notes(session, thread)[-1] == "Anna cannot go on camera right now"
    assert escalation.current_request(session, thread, NOW) is None

    offer = escalation.do_request_video(session, anna, thread, now=NOW)
    with pytest.raises(Forbidden):
        escalation.do_decline_video(session, anna, thread, now=NOW)  # the shopper answers
    cancelled = escalation.do_cancel_video(session, anna, thread, now=NOW)
    assert cancelled.id == offer.id and cancelled.status is VideoRequestStatus.CANCELLED
    assert video_events(events)[-2] == (f"shopper:{thread.shopper_id}", "staff", "cancelled")
    assert notes(session, thread)[-1] == "The video request was withdrawn"
    with pytest.raises(Conflict):
        escalation.do_decline_video(session, camille, thread, now=NOW)  # nothing to answer

    escalation.do_request_video(session, anna, thread, now=NOW)
    escalation.do_decline_video(session, camille, thread, now=NOW)
    assert notes(session, thread)[-1] == "Camille would rather not go on video now"
    assert session.exec(select(LiveSession)).all() == []  # no consultation was opened


def test_a_request_lapses_and_follows_who_holds_the_thread(
    session: Session, team: Team, factory: Factory
) -> None:
    camille, anna, thread = held_thread(session, team, factory)
    escalation.do_request_video(session, camille, thread, now=NOW)
    later = NOW + timedelta(seconds=escalation.REQUEST_SECONDS + 1)
    assert escalation.open_request(session, thread, later) is None
    with pytest.raises(Conflict):
        escalation.do_accept_video(session, anna, thread, now=later)
    fresh = escalation.do_request_video(session, camille, thread, now=later)  # asks anew
    threads.do_close_thread(session, anna, thread, now=later)
    assert escalation.open_request(session, thread, later) is None  # closed: it lapses
    assert fresh.status is VideoRequestStatus.PENDING
    with pytest.raises(Conflict):
        escalation.do_request_video(session, camille, thread, now=later)  # nobody holds it


def test_only_the_thread_s_shopper_and_its_associate_take_part(
    session: Session, team: Team, factory: Factory
) -> None:
    camille, _, thread = held_thread(session, team, factory)
    store = team.store
    bea = associate_actor(factory.associate(team.brand, store, name="Bea"))
    admin = factory.admin(team.brand)
    brand_admin = Actor(
        kind=ActorKind.BRAND_ADMIN, user_id=admin.id, brand_id=team.brand.id, name="Admin"
    )
    other_brand = factory.brand()
    carl = associate_actor(factory.associate(other_brand, factory.store(other_brand)))
    stranger = shopper_actor(factory.shopper())
    with pytest.raises(NotFound):
        escalation.do_request_video(session, stranger, thread, now=NOW)
    for refused in (bea, brand_admin, carl):
        with pytest.raises(Forbidden):
            escalation.do_request_video(session, refused, thread, now=NOW)
    escalation.do_request_video(session, camille, thread, now=NOW)
    with pytest.raises(NotFound):
        escalation.do_accept_video(session, stranger, thread, now=NOW)
    for refused in (bea, brand_admin, carl):
        with pytest.raises(Forbidden):
            escalation.do_accept_video(session, refused, thread, now=NOW)


def test_a_question_asked_from_a_show_says_which(
    session: Session, team: Team, factory: Factory
) -> None:
    show = factory.show(team.brand, title="Silk, live")
    camille = shopper_actor(factory.shopper(name="Camille"))
    asked = threads.do_ask(
        session, camille, team.brand, body="The scarf in the show?", show_id=show.id, now=NOW
    )
    assert asked.message["show_id"] == show.id
    assert asked.message["context"] == "Asked during the show “Silk, live”"
    other = factory.show(factory.brand(), title="Elsewhere")
    with pytest.raises(NotFound):
        threads.do_ask(session, camille, team.brand, body="?", show_id=other.id, now=NOW)
