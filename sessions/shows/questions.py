"""A show's questions: shoppers ask the host, upvote each other's (once each), the host
console lists them by upvotes, a host marks one answered on air (it is pinned over the
video for everyone until another is) or hides one (moderation). Each keeps its time in
the show, for the replay.

Only the ``do_*`` functions change rows; each commits, then publishes ``question`` and,
when the pinned one changes, ``question_pinned`` (``sessions/event_kinds.py``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sessions.access import (
    Actor,
    access_show_interaction_host,
    access_show_interaction_viewer,
)
from sessions.analytics import events as analytics_events
from sessions.clock import utcnow
from sessions.errors import Conflict, Forbidden, InvalidInput, NotFound
from sessions.events import publish
from sessions.i18n import N_
from sessions.live import active_sanction, blocked_word_in, check_can_enter, clean_body
from sessions.models import (
    Brand,
    LiveSession,
    QuestionUpvote,
    SessionStatus,
    ShowQuestion,
)
from sessions.ratelimit import RateLimiter
from sessions.shows.polls import at_seconds

MAX_QUESTION = 300
LIST_LIMIT = 200
# Per shopper and show, across nodes (sessions/ratelimit.py).
question_limiter = RateLimiter(
    "show_questions", "5 per 60 seconds", N_("You are asking fast; wait %(wait)s s.")
)


def question_out(question: ShowQuestion, live: LiveSession) -> dict[str, Any]:
    return {
        "id": question.id,
        "body": question.body,
        "author": question.author_name,
        "upvotes": question.upvotes,
        "created_at": question.created_at.isoformat(),
        "at_seconds": at_seconds(live, question.created_at),
        "answered": question.answered_at is not None,
        "answered_at": question.answered_at.isoformat() if question.answered_at else None,
        "answered_at_seconds": (
            at_seconds(live, question.answered_at) if question.answered_at else None
        ),
        "hidden": question.hidden_at is not None,
    }


def questions_of(db: Session, live: LiveSession) -> list[dict[str, Any]]:
    """The show's questions not hidden, most upvoted first (then the oldest)."""
    rows = db.exec(
        select(ShowQuestion)
        .where(ShowQuestion.live_session_id == live.id, col(ShowQuestion.hidden_at).is_(None))
        .order_by(col(ShowQuestion.upvotes).desc(), col(ShowQuestion.id))
        .limit(LIST_LIMIT)
    ).all()
    return [question_out(q, live) for q in rows]


def pinned_question(db: Session, live: LiveSession) -> ShowQuestion | None:
    """The last question answered on air (not hidden): pinned over the video."""
    return db.exec(
        select(ShowQuestion)
        .where(
            ShowQuestion.live_session_id == live.id,
            col(ShowQuestion.answered_at).is_not(None),
            col(ShowQuestion.hidden_at).is_(None),
        )
        .order_by(col(ShowQuestion.answered_at).desc(), col(ShowQuestion.id).desc())
    ).first()


def pinned_out(db: Session, live: LiveSession) -> dict[str, Any] | None:
    pinned = pinned_question(db, live)
    return question_out(pinned, live) if pinned is not None else None


def upvoted_by(db: Session, live: LiveSession, shopper_id: int | None) -> list[int]:
    if shopper_id is None:
        return []
    rows = db.exec(
        select(QuestionUpvote.question_id)
        .join(ShowQuestion, col(ShowQuestion.id) == col(QuestionUpvote.question_id))
        .where(ShowQuestion.live_session_id == live.id, QuestionUpvote.shopper_id == shopper_id)
    ).all()
    return sorted(int(q) for q in rows)


def _question_of(db: Session, live: LiveSession, question_id: object) -> ShowQuestion:
    if not isinstance(question_id, int) or isinstance(question_id, bool):
        raise InvalidInput(N_("question_id must be a number."), field="question_id")
    question = db.get(ShowQuestion, question_id)
    if question is None or question.live_session_id != live.id or question.hidden_at is not None:
        raise NotFound(N_("No such question in this show."))
    return question


def _check_open(live: LiveSession) -> None:
    if live.status is SessionStatus.ENDED:
        raise Conflict(N_("This show has ended."), code="ended")


def do_ask_question(
    db: Session,
    actor: Actor,
    live: LiveSession,
    body: object,
    *,
    limiter: RateLimiter | None = question_limiter,
) -> dict[str, Any]:
    """A viewer asks the host (before the start or while live); a muted shopper cannot."""
    access_show_interaction_viewer(actor, live)
    check_can_enter(db, actor, live)
    _check_open(live)
    text = clean_body(body)
    if len(text) > MAX_QUESTION:
        raise InvalidInput(
            N_("Keep questions under %(n)s characters."), params={"n": MAX_QUESTION}, field="body"
        )
    assert actor.shopper_id is not None and live.id is not None
    if active_sanction(db, live, actor.shopper_id) is not None:
        raise Forbidden(N_("The host has muted you."), code="mute")
    brand = db.get(Brand, live.brand_id)
    if brand is not None and blocked_word_in(text, brand.blocked_words):
        raise InvalidInput(
            N_("This question contains a word the brand does not allow."), code="blocked_word"
        )
    if limiter is not None:
        limiter.hit(f"{live.room}:{actor.identity}")
    question = ShowQuestion(
        live_session_id=live.id,
        shopper_id=actor.shopper_id,
        author_name=actor.name[:120],
        body=text,
    )
    db.add(question)
    db.flush()
    db.add(
        analytics_events.event_for(
            live, analytics_events.QUESTION, shopper_id=actor.shopper_id, detail=str(question.id)
        )
    )
    db.commit()
    out = question_out(question, live)
    publish("question", live.room, question=out)
    return out


def do_upvote_question(
    db: Session, actor: Actor, live: LiveSession, question_id: object
) -> dict[str, Any]:
    """One upvote per shopper and question (the database refuses a second: 409)."""
    access_show_interaction_viewer(actor, live)
    check_can_enter(db, actor, live)
    _check_open(live)
    question = _question_of(db, live, question_id)
    assert actor.shopper_id is not None and question.id is not None
    if question.shopper_id == actor.shopper_id:
        raise Conflict(N_("You asked this question."), code="own_question")
    try:
        db.add(QuestionUpvote(question_id=question.id, shopper_id=actor.shopper_id))
        db.flush()  # the unique constraint speaks here, before the count moves
        db.exec(
            update(ShowQuestion)
            .where(col(ShowQuestion.id) == question.id)
            .values(upvotes=col(ShowQuestion.upvotes) + 1)
            .execution_options(synchronize_session=False)
        )
        db.add(
            analytics_events.event_for(
                live,
                analytics_events.QUESTION_UPVOTE,
                shopper_id=actor.shopper_id,
                detail=str(question.id),
            )
        )
        db.commit()
    except IntegrityError:
        db.rollback()
        raise Conflict(
            N_("You have already upvoted this question."), code="already_upvoted"
        ) from None
    db.refresh(question)
    out = question_out(question, live)
    publish("question", live.room, question=out)
    return out


def do_answer_question(
    db: Session, actor: Actor, live: LiveSession, question_id: object
) -> dict[str, Any]:
    """A host answered it on air: marked answered and pinned over the video (answering
    one again pins it again)."""
    access_show_interaction_host(actor, live)
    _check_open(live)
    question = _question_of(db, live, question_id)
    assert question.id is not None
    db.exec(
        update(ShowQuestion)
        .where(col(ShowQuestion.id) == question.id)
        .values(answered_at=utcnow(), answered_by=actor.user_id)
        .execution_options(synchronize_session=False)
    )
    db.commit()
    db.refresh(question)
    out = question_out(question, live)
    publish("question", live.room, question=out)
    publish("question_pinned", live.room, question=pinned_out(db, live))
    return out


def do_hide_question(
    db: Session, actor: Actor, live: LiveSession, question_id: object
) -> dict[str, Any]:
    """Moderation: a host hides a question from everyone (unpinned if it was pinned)."""
    access_show_interaction_host(actor, live)
    question = _question_of(db, live, question_id)
    was_pinned = (pinned := pinned_question(db, live)) is not None and pinned.id == question.id
    question.hidden_at = utcnow()
    question.hidden_by = actor.user_id
    db.add(question)
    db.commit()
    out = question_out(question, live)
    publish("question", live.room, question=out)
    if was_pinned:
        publish("question_pinned", live.room, question=pinned_out(db, live))
    return out


def interaction_state(db: Session, live: LiveSession, shopper_id: int | None) -> dict[str, Any]:
    """What a page joining a show's room needs of its polls and questions (the join's
    answer, ``GET /api/live-sessions/<id>/interaction``; the replay too)."""
    return {**room_interaction(db, live), **viewer_interaction(db, live, shopper_id)}


def room_interaction(db: Session, live: LiveSession) -> dict[str, Any]:
    """The part every viewer sees alike: the polls with their results, the questions, the
    one pinned. Each change to it is pushed to the room (``poll``, ``question``,
    ``question_pinned``), so a node may keep it between pushes (web/sockets/snapshots.py)."""
    from sessions.shows import polls

    return {
        "polls": polls.polls_of(db, live),
        "questions": questions_of(db, live),
        "pinned_question": pinned_out(db, live),
    }


def viewer_interaction(db: Session, live: LiveSession, shopper_id: int | None) -> dict[str, Any]:
    """The viewer's own part: the answers they chose, the questions they upvoted."""
    from sessions.shows import polls

    return {
        "voted": polls.votes_of(db, live, shopper_id),
        "upvoted": upvoted_by(db, live, shopper_id),
    }
