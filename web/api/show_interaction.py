"""A show's polls and questions over HTTP (sessions/shows/polls.py, questions.py;
docs/shows.md). The show's page does the same over its socket; results reach every
viewer by push either way."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from sessions import live as live_actions
from sessions.access import Actor, access_see_show_interaction
from sessions.models import LiveSession
from sessions.shows import polls, questions
from web.api import bp
from web.api.schemas import DbId, Strict
from web.api.spec import api_route
from web.db import db
from web.identity import current_actor, ensure_shopper

AnswerText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class PollIn(Strict):
    question: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    answers: Annotated[list[AnswerText], Field(min_length=2, max_length=5)]
    seconds: Annotated[int, Field(ge=polls.MIN_SECONDS, le=polls.MAX_SECONDS)]


class VoteIn(Strict):
    answer_id: DbId


class QuestionIn(Strict):
    body: Annotated[str, StringConstraints(min_length=1, max_length=questions.MAX_QUESTION)]


class PollAnswerOut(BaseModel):
    id: int
    label: str
    votes: int


class PollOut(BaseModel):
    id: int
    question: str
    answers: list[PollAnswerOut]
    votes: int
    created_at: str
    closes_at: str
    closed: bool
    closed_at: str | None
    at_seconds: float = Field(description="Seconds from the show's start: its moment in the replay")


class QuestionOut(BaseModel):
    id: int
    body: str
    author: str
    upvotes: int
    created_at: str
    at_seconds: float
    answered: bool
    answered_at: str | None
    answered_at_seconds: float | None
    hidden: bool


class InteractionOut(BaseModel):
    polls: list[PollOut]
    voted: dict[str, int] = Field(description="The answer you chose in each poll, by poll id")
    questions: list[QuestionOut] = Field(description="Not hidden, most upvoted first")
    upvoted: list[int] = Field(description="The questions you upvoted")
    pinned_question: QuestionOut | None


def _room(live_session_id: int) -> LiveSession:
    live = live_actions.live_or_404(db(), live_session_id)
    access_see_show_interaction(current_actor(), live)
    return live


def _viewer() -> Actor:
    """A viewer's first vote or question makes their shopper row (staff stay staff, and
    the gate refuses a host)."""
    return ensure_shopper()


@api_route(
    bp,
    "/live-sessions/<int:live_session_id>/interaction",
    "GET",
    response=InteractionOut,
    tag="live",
    summary="A show's polls (with results) and questions, each with its moment in the show",
)
def show_interaction(live_session_id: int) -> InteractionOut:
    live = _room(live_session_id)
    state = questions.interaction_state(db(), live, current_actor().shopper_id)
    return InteractionOut.model_validate(state)


@api_route(
    bp,
    "/live-sessions/<int:live_session_id>/polls",
    "POST",
    body=PollIn,
    response=PollOut,
    status=201,
    tag="live",
    summary="Open a poll in a live show (a host; 2 to 5 answers; one open poll at a time)",
    auth="host",
    example={"question": "Which colour next?", "answers": ["Ivory", "Noir"], "seconds": 60},
)
def create_show_poll(live_session_id: int, body: PollIn) -> PollOut:
    live = _room(live_session_id)
    out = polls.do_create_poll(
        db(),
        current_actor(),
        live,
        question=body.question,
        answers=list(body.answers),
        seconds=body.seconds,
    )
    return PollOut.model_validate(out)


@api_route(
    bp,
    "/live-sessions/<int:live_session_id>/polls/<int:poll_id>/close",
    "POST",
    response=PollOut,
    tag="live",
    summary="Close a poll before its end (a host); 409 when it is closed already",
    auth="host",
)
def close_show_poll(live_session_id: int, poll_id: int) -> PollOut:
    live = _room(live_session_id)
    return PollOut.model_validate(polls.do_close_poll(db(), current_actor(), live, poll_id))


@api_route(
    bp,
    "/live-sessions/<int:live_session_id>/polls/<int:poll_id>/votes",
    "POST",
    body=VoteIn,
    response=PollOut,
    status=201,
    tag="live",
    summary="Vote in a poll (once per shopper: 409 after; 409 when the poll is closed)",
    auth="shopper",
    example={"answer_id": 1},
)
def vote_in_poll(live_session_id: int, poll_id: int, body: VoteIn) -> PollOut:
    live = _room(live_session_id)
    out = polls.do_vote(db(), _viewer(), live, poll_id, body.answer_id)
    return PollOut.model_validate(out)


@api_route(
    bp,
    "/live-sessions/<int:live_session_id>/questions",
    "POST",
    body=QuestionIn,
    response=QuestionOut,
    status=201,
    tag="live",
    summary="Ask the show's host a question (a viewer; rate-limited)",
    auth="shopper",
    example={"body": "Does the Lune bag come in green?"},
)
def ask_show_question(live_session_id: int, body: QuestionIn) -> QuestionOut:
    live = _room(live_session_id)
    out = questions.do_ask_question(db(), _viewer(), live, body.body)
    return QuestionOut.model_validate(out)


@api_route(
    bp,
    "/live-sessions/<int:live_session_id>/questions/<int:question_id>/upvote",
    "POST",
    response=QuestionOut,
    status=201,
    tag="live",
    summary="Upvote a question (once per shopper: 409 after)",
    auth="shopper",
)
def upvote_show_question(live_session_id: int, question_id: int) -> QuestionOut:
    live = _room(live_session_id)
    out = questions.do_upvote_question(db(), _viewer(), live, question_id)
    return QuestionOut.model_validate(out)


@api_route(
    bp,
    "/live-sessions/<int:live_session_id>/questions/<int:question_id>/answer",
    "POST",
    response=QuestionOut,
    tag="live",
    summary="Mark a question answered on air: pinned over the video for everyone (a host)",
    auth="host",
)
def answer_show_question(live_session_id: int, question_id: int) -> QuestionOut:
    live = _room(live_session_id)
    out = questions.do_answer_question(db(), current_actor(), live, question_id)
    return QuestionOut.model_validate(out)


@api_route(
    bp,
    "/live-sessions/<int:live_session_id>/questions/<int:question_id>/hide",
    "POST",
    response=QuestionOut,
    tag="live",
    summary="Hide a question from everyone (a host's moderation)",
    auth="host",
)
def hide_show_question(live_session_id: int, question_id: int) -> QuestionOut:
    live = _room(live_session_id)
    out = questions.do_hide_question(db(), current_actor(), live, question_id)
    return QuestionOut.model_validate(out)
