"""Polls in a show (sessions/shows/polls.py): a host opens one (2 to 5 answers, a
duration), each shopper votes once (the database's unique constraint decides), results
are pushed as they change, the scheduler closes it at its end and the results stay. On
SQLite, and on PostgreSQL with TEST_DATABASE_URL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from sessions.access import Actor, ActorKind
from sessions.clock import utcnow
from sessions.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from sessions.events import Event
from sessions.models import AnalyticsEvent, LiveSession, Poll, PollVote, ShowStatus
from sessions.shows import lifecycle, polls
from tests.shows.conftest import Cast


def live_room(cast: Cast, status: ShowStatus = ShowStatus.LIVE) -> LiveSession:
    show = cast.show_in(status)
    live = lifecycle.live_session_for_show(cast.session, show)
    cast.session.commit()
    return live


def shopper(cast: Cast, name: str = "Guest") -> Actor:
    row = cast.factory.shopper()
    return Actor(kind=ActorKind.SHOPPER, name=name, shopper_id=row.id)


def open_poll(cast: Cast, live: LiveSession, answers: int = 3, seconds: int = 60) -> dict:
    return polls.do_create_poll(
        cast.session,
        cast.actors["host"],
        live,
        question="Which colour next?",
        answers=["Ivory", "Noir", "Sauge", "Cognac", "Bleu"][:answers],
        seconds=seconds,
    )


def test_a_poll_is_opened_voted_once_each_and_its_results_are_pushed(
    cast: Cast, events: list[Event]
) -> None:
    live = live_room(cast)
    poll = open_poll(cast, live)
    assert [a["label"] for a in poll["answers"]] == ["Ivory", "Noir", "Sauge"]
    assert poll["votes"] == 0 and not poll["closed"] and poll["at_seconds"] >= 0
    anna, bea, chloe = shopper(cast, "Anna"), shopper(cast, "Béa"), shopper(cast, "Chloé")
    noir, sauge = poll["answers"][1]["id"], poll["answers"][2]["id"]
    polls.do_vote(cast.session, anna, live, poll["id"], noir)
    polls.do_vote(cast.session, bea, live, poll["id"], noir)
    after = polls.do_vote(cast.session, chloe, live, poll["id"], sauge)
    assert [a["votes"] for a in after["answers"]] == [0, 2, 1] and after["votes"] == 3
    with pytest.raises(Conflict) as twice:
        polls.do_vote(cast.session, anna, live, poll["id"], sauge)
    assert twice.value.code == "already_voted"
    pushed = [e.data["poll"]["votes"] for e in events if e.kind == "poll"]
    assert pushed == [0, 1, 2, 3]  # opened, then each vote: to the whole room
    assert all(e.room == live.room for e in events if e.kind == "poll")
    assert polls.votes_of(cast.session, live, anna.shopper_id) == {str(poll["id"]): noir}
    stored = cast.session.exec(
        select(AnalyticsEvent).where(AnalyticsEvent.kind == "poll_vote")
    ).all()
    assert sorted(e.shopper_id or 0 for e in stored) == sorted(
        [anna.shopper_id or 0, bea.shopper_id or 0, chloe.shopper_id or 0]
    )


def test_the_database_refuses_a_second_vote_even_past_the_check(cast: Cast) -> None:
    live = live_room(cast)
    poll = open_poll(cast, live)
    anna = shopper(cast)
    polls.do_vote(cast.session, anna, live, poll["id"], poll["answers"][0]["id"])
    cast.session.add(
        PollVote(poll_id=poll["id"], answer_id=poll["answers"][1]["id"], shopper_id=anna.shopper_id)
    )
    with pytest.raises(IntegrityError):
        cast.session.commit()
    cast.session.rollback()


@pytest.mark.parametrize("answers", [[], ["Only one"], ["a", "b", "c", "d", "e", "f"]])
def test_a_poll_has_two_to_five_answers(cast: Cast, answers: list[str]) -> None:
    live = live_room(cast)
    with pytest.raises(InvalidInput):
        polls.do_create_poll(
            cast.session, cast.actors["host"], live, question="Q?", answers=answers, seconds=30
        )


@pytest.mark.parametrize(
    ("question", "answers", "seconds"),
    [
        ("", ["a", "b"], 30),
        ("Q?", ["a", "A"], 30),
        ("Q?", ["a", ""], 30),
        ("Q?", ["a", 3], 30),
        ("Q?", ["a", "b"], 0),
        ("Q?", ["a", "b"], 3601),
        ("Q?", ["a", "b"], True),
        ("Q?", "ab", 30),
    ],
)
def test_bad_polls_are_refused(
    cast: Cast, question: object, answers: object, seconds: object
) -> None:
    live = live_room(cast)
    with pytest.raises(InvalidInput):
        polls.do_create_poll(
            cast.session,
            cast.actors["host"],
            live,
            question=question,
            answers=answers,
            seconds=seconds,
        )


def test_who_opens_closes_and_votes(cast: Cast) -> None:
    live = live_room(cast)
    for who in ("shopper", "anonymous"):
        with pytest.raises(NotAuthenticated):
            open_poll_as(cast, live, cast.actors[who])
    with pytest.raises(Forbidden):
        open_poll_as(cast, live, cast.actors["other_admin"])
    poll = open_poll_as(cast, live, cast.actors["colleague"])  # works the room, as pins
    with pytest.raises(Forbidden):  # hosts are on stage, not in the audience
        polls.do_vote(cast.session, cast.actors["host"], live, poll["id"], poll["answers"][0]["id"])
    with pytest.raises(Forbidden):  # a guest with no shopper row yet
        polls.do_vote(
            cast.session, cast.actors["anonymous"], live, poll["id"], poll["answers"][0]["id"]
        )
    with pytest.raises(NotAuthenticated):
        polls.do_close_poll(cast.session, cast.actors["shopper"], live, poll["id"])
    polls.do_close_poll(cast.session, cast.actors["host"], live, poll["id"])


def open_poll_as(cast: Cast, live: LiveSession, actor: Actor) -> dict:
    return polls.do_create_poll(
        cast.session, actor, live, question="Q?", answers=["Yes", "No"], seconds=30
    )


def test_one_open_poll_at_a_time_and_only_while_live(cast: Cast) -> None:
    live = live_room(cast)
    open_poll(cast, live)
    with pytest.raises(Conflict) as second:
        open_poll(cast, live)
    assert second.value.code == "poll_open"
    for status in (ShowStatus.SCHEDULED, ShowStatus.ENDED):
        with pytest.raises(Conflict):
            open_poll(cast, live_room(cast, status))


def test_votes_on_a_closed_poll_and_bad_answers_are_refused(cast: Cast) -> None:
    live = live_room(cast)
    poll = open_poll(cast, live)
    other_live = live_room(cast)
    other = open_poll(cast, other_live)
    anna = shopper(cast)
    with pytest.raises(NotFound):  # an answer of another poll
        polls.do_vote(cast.session, anna, live, poll["id"], other["answers"][0]["id"])
    with pytest.raises(NotFound):  # a poll of another show
        polls.do_vote(cast.session, anna, live, other["id"], other["answers"][0]["id"])
    with pytest.raises(InvalidInput):
        polls.do_vote(cast.session, anna, live, poll["id"], "1")
    closed = polls.do_close_poll(cast.session, cast.actors["host"], live, poll["id"])
    assert closed["closed"] and closed["closed_at"]
    with pytest.raises(Conflict) as late:
        polls.do_vote(cast.session, anna, live, poll["id"], poll["answers"][0]["id"])
    assert late.value.code == "poll_closed"
    with pytest.raises(Conflict):
        polls.do_close_poll(cast.session, cast.actors["host"], live, poll["id"])


def test_the_scheduler_closes_a_poll_at_its_end_once_and_keeps_its_results(
    cast: Cast, events: list[Event]
) -> None:
    live = live_room(cast)
    poll = open_poll(cast, live, seconds=30)
    polls.do_vote(cast.session, shopper(cast), live, poll["id"], poll["answers"][0]["id"])
    assert polls.do_close_due_polls(cast.session) == 0  # not yet
    later = utcnow() + timedelta(seconds=31)
    assert polls.do_close_due_polls(cast.session, now=later) == 1
    assert polls.do_close_due_polls(cast.session, now=later) == 0  # claimed once
    closing = [e.data["poll"] for e in events if e.kind == "poll"][-1]
    assert closing["closed"] and closing["votes"] == 1
    row = cast.session.get(Poll, poll["id"])
    assert row is not None and row.closed_at is not None
    kept = polls.polls_of(cast.session, live)
    assert [(p["id"], p["votes"], p["closed"]) for p in kept] == [(poll["id"], 1, True)]


def test_a_poll_past_its_time_takes_no_vote_before_the_scheduler_runs(cast: Cast) -> None:
    live = live_room(cast)
    poll = open_poll(cast, live, seconds=30)
    cast.session.exec(
        update(Poll)
        .where(col(Poll.id) == poll["id"])
        .values(closes_at=utcnow() - timedelta(seconds=1))
    )
    cast.session.commit()
    with pytest.raises(Conflict):
        polls.do_vote(cast.session, shopper(cast), live, poll["id"], poll["answers"][0]["id"])
    assert polls.polls_of(cast.session, live)[0]["closed"]
