"""Socket.IO events of a show's polls and questions (sessions/shows/polls.py, questions.py).

Each parses, calls one action (the gates are inside it) and acks; the results reach
everyone by the ``poll``, ``question`` and ``question_pinned`` pushes. A guest's first
vote or question makes their shopper row, as a first chat message does."""

from __future__ import annotations

from typing import Any

from sessions.shows import polls, questions
from web.db import db
from web.sockets.handlers import Ack, _acting, _client, _live, event


@event("poll_create")
def on_poll_create(data: dict[str, Any]) -> Ack:
    poll = polls.do_create_poll(
        db(),
        _client().actor,
        _live(data),
        question=data.get("question"),
        answers=data.get("answers"),
        seconds=data.get("seconds"),
    )
    return {"ok": True, "poll": poll}


@event("poll_close")
def on_poll_close(data: dict[str, Any]) -> Ack:
    poll = polls.do_close_poll(db(), _client().actor, _live(data), data.get("poll_id"))
    return {"ok": True, "poll": poll}


@event("poll_vote")
def on_poll_vote(data: dict[str, Any]) -> Ack:
    live = _live(data)
    poll = polls.do_vote(db(), _acting(), live, data.get("poll_id"), data.get("answer_id"))
    return {"ok": True, "poll": poll}


@event("question_ask")
def on_question_ask(data: dict[str, Any]) -> Ack:
    live = _live(data)
    question = questions.do_ask_question(db(), _acting(), live, data.get("body"))
    return {"ok": True, "question": question}


@event("question_upvote")
def on_question_upvote(data: dict[str, Any]) -> Ack:
    live = _live(data)
    question = questions.do_upvote_question(db(), _acting(), live, data.get("question_id"))
    return {"ok": True, "question": question}


@event("question_answer")
def on_question_answer(data: dict[str, Any]) -> Ack:
    question = questions.do_answer_question(
        db(), _client().actor, _live(data), data.get("question_id")
    )
    return {"ok": True, "question": question}


@event("question_hide")
def on_question_hide(data: dict[str, Any]) -> Ack:
    question = questions.do_hide_question(
        db(), _client().actor, _live(data), data.get("question_id")
    )
    return {"ok": True, "question": question}
