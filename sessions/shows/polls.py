"""A show's polls: a host asks the audience (2 to 5 answers, open for a while), each
shopper votes once, the results go to everyone as they change, and the poll closes at
its end (the scheduler's ``polls`` job, on whichever node claims it first) or when a
host closes it. Results are kept, with the poll's moment in the show for the replay.

Only the ``do_*`` functions change rows; each commits, then publishes ``poll``
(``sessions/event_kinds.py``). Who may: ``sessions.access.access_show_interaction_*``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sessions.access import (
    Actor,
    access_show_interaction_host,
    access_show_interaction_viewer,
)
from sessions.analytics import events as analytics_events
from sessions.clock import utcnow
from sessions.errors import Conflict, InvalidInput, NotFound
from sessions.events import publish
from sessions.i18n import N_, Phrase
from sessions.live import check_can_enter
from sessions.models import LiveSession, Poll, PollAnswer, PollVote, SessionStatus

MIN_ANSWERS = 2
MAX_ANSWERS = 5
MIN_SECONDS = 5
MAX_SECONDS = 3600
MAX_QUESTION = 200
MAX_ANSWER = 80


def at_seconds(live: LiveSession, when: datetime) -> float:
    """Seconds from the show's start (its room going live) to ``when``: its moment in the
    replay, before the brand's trim."""
    if live.started_at is None:
        return 0.0
    return max(0.0, round((when - live.started_at).total_seconds(), 3))


def is_open(poll: Poll, now: datetime | None = None) -> bool:
    return poll.closed_at is None and poll.closes_at > (now or utcnow())


def poll_out(db: Session, poll: Poll, live: LiveSession) -> dict[str, Any]:
    """A poll and its results, as the room state lists it and ``poll`` pushes it."""
    answers = db.exec(
        select(PollAnswer).where(PollAnswer.poll_id == poll.id).order_by(col(PollAnswer.position))
    ).all()
    counts = dict(
        db.exec(
            select(PollVote.answer_id, func.count())
            .where(PollVote.poll_id == poll.id)
            .group_by(col(PollVote.answer_id))
        ).all()
    )
    closed_at = poll.closed_at or (poll.closes_at if poll.closes_at <= utcnow() else None)
    return {
        "id": poll.id,
        "question": poll.question,
        "answers": [
            {"id": a.id, "label": a.label, "votes": int(counts.get(a.id or 0, 0))} for a in answers
        ],
        "votes": int(sum(counts.values())),
        "created_at": poll.created_at.isoformat(),
        "closes_at": poll.closes_at.isoformat(),
        "closed": closed_at is not None,
        "closed_at": closed_at.isoformat() if closed_at else None,
        "at_seconds": at_seconds(live, poll.created_at),
    }


def polls_of(db: Session, live: LiveSession) -> list[dict[str, Any]]:
    """Every poll of the show, oldest first (the replay shows each at its moment)."""
    rows = db.exec(select(Poll).where(Poll.live_session_id == live.id).order_by(col(Poll.id))).all()
    return [poll_out(db, p, live) for p in rows]


def votes_of(db: Session, live: LiveSession, shopper_id: int | None) -> dict[str, int]:
    """The answer this shopper chose in each poll of the show ({poll id: answer id})."""
    if shopper_id is None:
        return {}
    rows = db.exec(
        select(PollVote.poll_id, PollVote.answer_id)
        .join(Poll, col(Poll.id) == col(PollVote.poll_id))
        .where(Poll.live_session_id == live.id, PollVote.shopper_id == shopper_id)
    ).all()
    return {str(poll_id): answer_id for poll_id, answer_id in rows}


def open_poll(db: Session, live: LiveSession) -> Poll | None:
    return db.exec(
        select(Poll)
        .where(
            Poll.live_session_id == live.id,
            col(Poll.closed_at).is_(None),
            col(Poll.closes_at) > utcnow(),
        )
        .order_by(col(Poll.id).desc())
    ).first()


def _poll_of(db: Session, live: LiveSession, poll_id: object) -> Poll:
    if not isinstance(poll_id, int) or isinstance(poll_id, bool):
        raise InvalidInput(N_("poll_id must be a number."), field="poll_id")
    poll = db.get(Poll, poll_id)
    if poll is None or poll.live_session_id != live.id:
        raise NotFound(N_("No such poll in this show."))
    return poll


def _text(value: object, name: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(N_("Write the %(name)s."), params={"name": Phrase(name)}, field=name)
    text = " ".join(value.split())
    if len(text) > limit:
        raise InvalidInput(
            N_("Keep the %(name)s under %(limit)s characters."),
            params={"name": Phrase(name), "limit": limit},
            field=name,
        )
    return text


def _check_live(live: LiveSession) -> None:
    if live.status is SessionStatus.ENDED:
        raise Conflict(N_("This show has ended."), code="ended")
    if live.status is not SessionStatus.LIVE:
        raise Conflict(N_("Polls open once the show is live."), code="not_live")


def do_create_poll(
    db: Session,
    actor: Actor,
    live: LiveSession,
    *,
    question: object,
    answers: object,
    seconds: object,
) -> dict[str, Any]:
    """Open a poll (a host, while the show is live; one open poll at a time)."""
    access_show_interaction_host(actor, live)
    _check_live(live)
    text = _text(question, N_("question"), MAX_QUESTION)
    if not isinstance(answers, list) or not MIN_ANSWERS <= len(answers) <= MAX_ANSWERS:
        raise InvalidInput(
            N_("Give %(low)s to %(high)s answers."),
            params={"low": MIN_ANSWERS, "high": MAX_ANSWERS},
            field="answers",
            code="answers",
        )
    labels = [_text(a, N_("answer"), MAX_ANSWER) for a in answers]
    if len({label.casefold() for label in labels}) != len(labels):
        raise InvalidInput(N_("Each answer must differ from the others."), field="answers")
    if (
        not isinstance(seconds, int)
        or isinstance(seconds, bool)
        or not MIN_SECONDS <= seconds <= MAX_SECONDS
    ):
        raise InvalidInput(
            N_("seconds must be a whole number from %(low)s to %(high)s."),
            params={"low": MIN_SECONDS, "high": MAX_SECONDS},
            field="seconds",
        )
    if open_poll(db, live) is not None:
        raise Conflict(N_("A poll is already open; close it first."), code="poll_open")
    assert live.id is not None
    now = utcnow()
    poll = Poll(
        live_session_id=live.id,
        question=text,
        created_by=actor.user_id,
        created_at=now,
        closes_at=now + timedelta(seconds=seconds),
    )
    db.add(poll)
    db.flush()
    assert poll.id is not None
    for position, label in enumerate(labels):
        db.add(PollAnswer(poll_id=poll.id, position=position, label=label))
    db.commit()
    out = poll_out(db, poll, live)
    publish("poll", live.room, poll=out)
    return out


def do_vote(
    db: Session, actor: Actor, live: LiveSession, poll_id: object, answer_id: object
) -> dict[str, Any]:
    """A viewer's one vote; a second is a 409 (the database's unique constraint decides
    when two arrive at once), as is a vote on a closed poll."""
    access_show_interaction_viewer(actor, live)
    check_can_enter(db, actor, live)
    poll = _poll_of(db, live, poll_id)
    if not isinstance(answer_id, int) or isinstance(answer_id, bool):
        raise InvalidInput(N_("answer_id must be a number."), field="answer_id")
    answer = db.get(PollAnswer, answer_id)
    if answer is None or answer.poll_id != poll.id:
        raise NotFound(N_("No such answer in this poll."))
    if not is_open(poll):
        raise Conflict(N_("This poll is closed."), code="poll_closed")
    assert actor.shopper_id is not None and poll.id is not None and answer.id is not None
    try:
        db.add(PollVote(poll_id=poll.id, answer_id=answer.id, shopper_id=actor.shopper_id))
        db.add(
            analytics_events.event_for(
                live, analytics_events.POLL_VOTE, shopper_id=actor.shopper_id, detail=str(poll.id)
            )
        )
        db.commit()
    except IntegrityError:
        db.rollback()
        raise Conflict(N_("You have already voted in this poll."), code="already_voted") from None
    out = poll_out(db, poll, live)
    publish("poll", live.room, poll=out)
    return out


def _claim_close(db: Session, poll_id: int, now: datetime) -> bool:
    result = db.exec(
        update(Poll)
        .where(col(Poll.id) == poll_id, col(Poll.closed_at).is_(None))
        .values(closed_at=now)
    )
    db.commit()
    return bool(result.rowcount == 1)


def do_close_poll(db: Session, actor: Actor, live: LiveSession, poll_id: object) -> dict[str, Any]:
    """A host closes a poll before its end; its results stay."""
    access_show_interaction_host(actor, live)
    poll = _poll_of(db, live, poll_id)
    assert poll.id is not None
    now = utcnow()
    if not is_open(poll, now) or not _claim_close(db, poll.id, now):
        raise Conflict(N_("This poll is already closed."), code="poll_closed")
    db.refresh(poll)
    out = poll_out(db, poll, live)
    publish("poll", live.room, poll=out)
    return out


def do_close_due_polls(db: Session, now: datetime | None = None, limit: int = 100) -> int:
    """The scheduler's ``polls`` job: close each poll whose time is up, once across every
    node (a conditional UPDATE claims it), and tell its room. Returns how many."""
    now = now or utcnow()
    due = db.exec(
        select(Poll.id)
        .where(col(Poll.closed_at).is_(None), col(Poll.closes_at) <= now)
        .order_by(col(Poll.closes_at))
        .limit(limit)
    ).all()
    db.commit()  # end the read: on SQLite it would hold the write lock
    closed = 0
    for poll_id in due:
        if poll_id is None or not _claim_close(db, poll_id, now):
            continue
        closed += 1
        poll = db.get(Poll, poll_id)
        live = db.get(LiveSession, poll.live_session_id) if poll is not None else None
        if poll is not None and live is not None:
            db.refresh(poll)
            publish("poll", live.room, poll=poll_out(db, poll, live))
        db.commit()
    return closed
