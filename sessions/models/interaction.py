"""A show's polls and questions (``sessions/shows/polls.py``, ``sessions/shows/questions.py``).

One vote per shopper and poll, one upvote per shopper and question: each is a unique
constraint, so the database refuses the second even when two nodes take it at once. Every
row keeps its time, so the replay shows it at its moment of the show."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from sessions.models.base import utc_field


class Poll(SQLModel, table=True):
    """A host's question to the audience, open from ``created_at`` to ``closes_at``."""

    __tablename__ = "polls"

    id: int | None = Field(default=None, primary_key=True)
    live_session_id: int = Field(foreign_key="live_sessions.id", index=True, ondelete="CASCADE")
    question: str = Field(max_length=200)
    created_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = utc_field(default_now=True)
    closes_at: datetime = utc_field(index=True)
    # Set once, by whoever closes it first: the host early, or the scheduler at closes_at.
    closed_at: datetime | None = utc_field(nullable=True)


class PollAnswer(SQLModel, table=True):
    __tablename__ = "poll_answers"
    __table_args__ = (UniqueConstraint("poll_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="polls.id", index=True, ondelete="CASCADE")
    position: int = Field(ge=0, le=4)
    label: str = Field(max_length=80)


class PollVote(SQLModel, table=True):
    __tablename__ = "poll_votes"
    __table_args__ = (UniqueConstraint("poll_id", "shopper_id", name="uq_poll_votes_shopper"),)

    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="polls.id", index=True, ondelete="CASCADE")
    answer_id: int = Field(foreign_key="poll_answers.id", ondelete="CASCADE")
    shopper_id: int = Field(foreign_key="shoppers.id", ondelete="CASCADE")
    created_at: datetime = utc_field(default_now=True)


class ShowQuestion(SQLModel, table=True):
    """A shopper's question to the host; ``upvotes`` is kept in step with its upvote rows
    (both written in one commit)."""

    __tablename__ = "show_questions"

    id: int | None = Field(default=None, primary_key=True)
    live_session_id: int = Field(foreign_key="live_sessions.id", index=True, ondelete="CASCADE")
    shopper_id: int | None = Field(default=None, foreign_key="shoppers.id", ondelete="SET NULL")
    author_name: str = Field(max_length=120)
    body: str = Field(sa_column=Column(Text, nullable=False))
    upvotes: int = Field(default=0, ge=0)
    created_at: datetime = utc_field(default_now=True)
    # Answered on air by a host: pinned over the video until another is.
    answered_at: datetime | None = utc_field(nullable=True)
    answered_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    hidden_at: datetime | None = utc_field(nullable=True)
    hidden_by: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")


class QuestionUpvote(SQLModel, table=True):
    __tablename__ = "question_upvotes"
    __table_args__ = (
        UniqueConstraint("question_id", "shopper_id", name="uq_question_upvotes_shopper"),
    )

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="show_questions.id", index=True, ondelete="CASCADE")
    shopper_id: int = Field(foreign_key="shoppers.id", ondelete="CASCADE")
    created_at: datetime = utc_field(default_now=True)
