"""Questions in a show (sessions/shows/questions.py): shoppers ask, upvote once each (the
database decides), the list is ranked by upvotes; a host marks one answered on air (it is
pinned for everyone) or hides one. On SQLite, and on PostgreSQL with TEST_DATABASE_URL."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from sessions.access import Actor
from sessions.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from sessions.events import Event
from sessions.live import do_sanction
from sessions.models import AnalyticsEvent, QuestionUpvote, SanctionKind, ShowStatus
from sessions.shows import questions
from tests.shows.conftest import Cast
from tests.shows.test_polls import live_room, shopper


def ask(cast: Cast, live, actor: Actor, body: str) -> dict:  # type: ignore[no-untyped-def]
    return questions.do_ask_question(cast.session, actor, live, body, limiter=None)


def test_questions_are_ranked_by_upvotes_one_each(cast: Cast, events: list[Event]) -> None:
    live = live_room(cast)
    anna, bea, chloe = shopper(cast, "Anna"), shopper(cast, "Béa"), shopper(cast, "Chloé")
    first = ask(cast, live, anna, "Does it come in green?")
    second = ask(cast, live, bea, "  What size is she wearing?  ")
    assert second["body"] == "What size is she wearing?" and second["author"] == "Béa"
    questions.do_upvote_question(cast.session, anna, live, second["id"])
    up = questions.do_upvote_question(cast.session, chloe, live, second["id"])
    assert up["upvotes"] == 2
    with pytest.raises(Conflict) as twice:
        questions.do_upvote_question(cast.session, chloe, live, second["id"])
    assert twice.value.code == "already_upvoted"
    with pytest.raises(Conflict) as own:
        questions.do_upvote_question(cast.session, anna, live, first["id"])
    assert own.value.code == "own_question"
    ranked = questions.questions_of(cast.session, live)
    assert [(q["id"], q["upvotes"]) for q in ranked] == [(second["id"], 2), (first["id"], 0)]
    assert questions.upvoted_by(cast.session, live, chloe.shopper_id) == [second["id"]]
    pushed = [
        (e.data["question"]["id"], e.data["question"]["upvotes"])
        for e in events
        if e.kind == "question"
    ]
    assert pushed == [(first["id"], 0), (second["id"], 0), (second["id"], 1), (second["id"], 2)]
    kinds = cast.session.exec(
        select(AnalyticsEvent.kind).where(AnalyticsEvent.live_session_id == live.id)
    ).all()
    assert sorted(k for k in kinds if k.startswith("question")) == [
        "question",
        "question",
        "question_upvote",
        "question_upvote",
    ]


def test_the_database_refuses_a_second_upvote(cast: Cast) -> None:
    live = live_room(cast)
    question = ask(cast, live, shopper(cast), "Lined?")
    bea = shopper(cast)
    questions.do_upvote_question(cast.session, bea, live, question["id"])
    cast.session.add(QuestionUpvote(question_id=question["id"], shopper_id=bea.shopper_id))
    with pytest.raises(IntegrityError):
        cast.session.commit()
    cast.session.rollback()


def test_answered_on_air_is_pinned_and_hiding_unpins(cast: Cast, events: list[Event]) -> None:
    live = live_room(cast)
    one = ask(cast, live, shopper(cast), "Is the leather Italian?")
    two = ask(cast, live, shopper(cast), "Can I see the back?")
    answered = questions.do_answer_question(cast.session, cast.actors["host"], live, one["id"])
    assert answered["answered"] and answered["answered_at_seconds"] is not None
    pins = [e.data["question"] for e in events if e.kind == "question_pinned"]
    assert [p["id"] for p in pins] == [one["id"]]
    questions.do_answer_question(cast.session, cast.actors["host"], live, two["id"])
    assert questions.pinned_out(cast.session, live)["id"] == two["id"]  # type: ignore[index]
    hidden = questions.do_hide_question(cast.session, cast.actors["host"], live, two["id"])
    assert hidden["hidden"]
    pins = [e.data["question"] for e in events if e.kind == "question_pinned"]
    assert pins[-1] is not None and pins[-1]["id"] == one["id"]  # the one before comes back
    assert [q["id"] for q in questions.questions_of(cast.session, live)] == [one["id"]]
    with pytest.raises(NotFound):  # hidden: gone for everyone
        questions.do_upvote_question(cast.session, shopper(cast), live, two["id"])
    questions.do_hide_question(cast.session, cast.actors["host"], live, one["id"])
    last = [e.data["question"] for e in events if e.kind == "question_pinned"][-1]
    assert last is None


def test_who_asks_answers_and_hides(cast: Cast) -> None:
    live = live_room(cast)
    with pytest.raises(Forbidden):  # the host is on stage
        ask(cast, live, cast.actors["host"], "Me?")
    with pytest.raises(Forbidden):  # no shopper row yet
        ask(cast, live, cast.actors["anonymous"], "Me?")
    question = ask(cast, live, cast.actors["shopper"], "Hello?")
    for who, error in (("shopper", NotAuthenticated), ("other_admin", Forbidden)):
        with pytest.raises(error):
            questions.do_answer_question(cast.session, cast.actors[who], live, question["id"])
        with pytest.raises(error):
            questions.do_hide_question(cast.session, cast.actors[who], live, question["id"])
    questions.do_answer_question(cast.session, cast.actors["colleague"], live, question["id"])


def test_bad_questions_and_muted_shoppers_are_refused(cast: Cast) -> None:
    live = live_room(cast)
    anna = shopper(cast)
    for body in ("", "   ", 42, "x" * 301):
        with pytest.raises(InvalidInput):
            ask(cast, live, anna, body)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        questions.do_upvote_question(cast.session, anna, live, "1")
    with pytest.raises(NotFound):
        questions.do_upvote_question(cast.session, anna, live, 999_999)
    assert anna.shopper_id is not None
    do_sanction(cast.session, cast.actors["host"], live, anna.shopper_id, SanctionKind.MUTE)
    with pytest.raises(Forbidden):
        ask(cast, live, anna, "Still there?")


def test_an_ended_show_takes_no_questions_but_keeps_them(cast: Cast) -> None:
    show = cast.show_in(ShowStatus.LIVE)
    from sessions.shows import lifecycle

    live = lifecycle.live_session_for_show(cast.session, show)
    kept = ask(cast, live, shopper(cast), "Before the end?")
    lifecycle.do_end_show(cast.session, cast.actors["host"], show, replay_url=None)
    cast.session.refresh(live)
    with pytest.raises(Conflict):
        ask(cast, live, shopper(cast), "After?")
    state = questions.interaction_state(cast.session, live, None)
    assert [q["id"] for q in state["questions"]] == [kept["id"]]
    assert state["questions"][0]["at_seconds"] >= 0


def test_questions_are_limited_per_shopper(cast: Cast) -> None:
    live = live_room(cast)
    anna = shopper(cast)
    for n in range(5):
        questions.do_ask_question(cast.session, anna, live, f"Question {n}")
    with pytest.raises(Exception) as too_many:
        questions.do_ask_question(cast.session, anna, live, "One more")
    assert getattr(too_many.value, "status", None) == 429
