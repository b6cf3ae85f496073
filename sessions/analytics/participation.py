"""Poll and question participation in a show (docs/analytics.md, "Polls and questions").

Votes, questions and upvotes are counted from the analytics events their actions write
in the same commit (``poll_vote``, ``question``, ``question_upvote``); what became of a
question (answered on air, hidden) is its row's state in ``show_questions``, and the
polls themselves are ``polls`` rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from sessions.analytics.events import POLL_VOTE, QUESTION, QUESTION_UPVOTE
from sessions.models import AnalyticsEvent, LiveSession, Poll, PollAnswer, PollVote, ShowQuestion


@dataclass
class PollFigures:
    poll_id: int
    question: str
    minute: int  # of the live show, when it opened
    votes: int
    leading: str  # the answer with the most votes (the first on a tie); "" without votes


@dataclass
class Participation:
    polls: int = 0
    poll_votes: int = 0
    poll_voters: int = 0
    voters_share: float = 0.0
    questions: int = 0
    questioners: int = 0
    question_upvotes: int = 0
    questions_answered_live: int = 0
    questions_answered_automatically: int = 0
    questions_hidden: int = 0
    questions_waiting: int = 0
    answered_live_share: float = 0.0
    answered_automatically_share: float = 0.0
    waiting_share: float = 0.0
    polls_list: list[PollFigures] = field(default_factory=list)


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def _counts(db: Session, live: LiveSession) -> dict[str, tuple[int, int]]:
    """Per kind: (events, distinct shoppers)."""
    rows = db.exec(
        select(
            AnalyticsEvent.kind,
            func.count(),
            func.count(func.distinct(AnalyticsEvent.shopper_id)),
        )
        .where(
            AnalyticsEvent.live_session_id == live.id,
            col(AnalyticsEvent.kind).in_((POLL_VOTE, QUESTION, QUESTION_UPVOTE)),
        )
        .group_by(col(AnalyticsEvent.kind))
    ).all()
    return {kind: (int(n), int(people)) for kind, n, people in rows}


def voters_and_askers(db: Session, live: LiveSession) -> set[int]:
    """Shoppers who voted or asked: engaged, in the show's funnel."""
    rows = db.exec(
        select(AnalyticsEvent.shopper_id)
        .where(
            AnalyticsEvent.live_session_id == live.id,
            col(AnalyticsEvent.kind).in_((POLL_VOTE, QUESTION, QUESTION_UPVOTE)),
            col(AnalyticsEvent.shopper_id).is_not(None),
        )
        .distinct()
    ).all()
    return {int(s) for s in rows if s is not None}


def _polls(db: Session, live: LiveSession, start: datetime | None) -> list[PollFigures]:
    polls = db.exec(
        select(Poll).where(Poll.live_session_id == live.id).order_by(col(Poll.id))
    ).all()
    out = []
    for poll in polls:
        tally = db.exec(
            select(PollAnswer.label, func.count(col(PollVote.id)))
            .select_from(PollAnswer)
            .outerjoin(PollVote, col(PollVote.answer_id) == col(PollAnswer.id))
            .where(PollAnswer.poll_id == poll.id)
            .group_by(col(PollAnswer.id), col(PollAnswer.label), col(PollAnswer.position))
            .order_by(col(PollAnswer.position))
        ).all()
        votes = sum(int(n) for _, n in tally)
        best = max(tally, key=lambda row: int(row[1]), default=None)
        minute = int((poll.created_at - start).total_seconds() // 60) if start else 0
        out.append(
            PollFigures(
                poll_id=poll.id or 0,
                question=poll.question,
                minute=max(minute, 0),
                votes=votes,
                leading=best[0] if best is not None and votes else "",
            )
        )
    return out


def participation(db: Session, live: LiveSession, unique_viewers: int) -> Participation:
    counts = _counts(db, live)
    votes, voters = counts.get(POLL_VOTE, (0, 0))
    asked, askers = counts.get(QUESTION, (0, 0))
    upvotes, _ = counts.get(QUESTION_UPVOTE, (0, 0))
    answered, hidden = db.exec(
        select(
            func.count(col(ShowQuestion.id)).filter(
                col(ShowQuestion.answered_at).is_not(None), col(ShowQuestion.hidden_at).is_(None)
            ),
            func.count(col(ShowQuestion.id)).filter(col(ShowQuestion.hidden_at).is_not(None)),
        ).where(ShowQuestion.live_session_id == live.id)
    ).one()
    answered, hidden = int(answered), int(hidden)
    waiting = max(asked - answered - hidden, 0)
    polls = _polls(db, live, live.started_at)
    return Participation(
        polls=len(polls),
        poll_votes=votes,
        poll_voters=voters,
        voters_share=_ratio(voters, unique_viewers),
        questions=asked,
        questioners=askers,
        question_upvotes=upvotes,
        questions_answered_live=answered,
        questions_answered_automatically=0,
        questions_hidden=hidden,
        questions_waiting=waiting,
        answered_live_share=_ratio(answered, asked),
        answered_automatically_share=0.0,
        waiting_share=_ratio(waiting, asked),
        polls_list=polls,
    )
