"""Send a row's e-mail exactly once, on whichever node claims it first: the outbox, written once.

Every e-mail that must go out once across web nodes, CLI loops and restarts is a row
committed first and sent after: appointment e-mails (``Reminder``,
sessions/service/reminders.py), shoppers' sign-in links (``SignInLink``,
sessions/service/signin.py), show reminders (``ShowReminderMail``,
sessions/shows/reminders.py) and staff links (``StaffInvitation``, ``PasswordReset``,
sessions/accounts/outbox.py). Whoever sends it first claims it with a conditional
``UPDATE ... SET claimed_at WHERE sent_at IS NULL AND claimed_at IS NULL`` (or a claim
older than STALE_CLAIM, left by a process that died mid-send): only one process's update
matches. A send that fails releases the claim, so none is lost; ``sent_at`` marks it done.
The Message-ID is derived from the row, so a mail client shows that rare resend as one
message.

Why a module of its own, and not sessions/accounts/outbox.py: that one is the staff
links' (it knows their models, their expiry, their salt), while the pattern belongs to no
feature. Here it knows only the columns every outbox row has — ``id``, ``sent_at``,
``claimed_at``, ``attempts`` — and leaves to each feature which rows are due, what the
message says, its Message-ID and how its failure is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from sessions.mail import Mailer

log = logging.getLogger(__name__)
STALE_CLAIM = timedelta(minutes=10)


class OutboxRow(Protocol):
    """The columns the outbox reads and writes (each model keeps its own others)."""

    id: int | None
    sent_at: datetime | None
    claimed_at: datetime | None
    attempts: int


class ExpiringRow(OutboxRow, Protocol):
    """An e-mailed link, which is not worth sending once it has expired."""

    expires_at: datetime


Row = TypeVar("Row", bound=OutboxRow)
# Given the open session and the row: the message to send, or None (nothing to send now).
Compose = Callable[[Session, Any], EmailMessage | None]


def unclaimed(model: type[OutboxRow], now: datetime) -> ColumnElement[bool]:
    """Rows nobody holds: never claimed, or claimed so long ago the claimer must have died."""
    return or_(col(model.claimed_at).is_(None), col(model.claimed_at) < now - STALE_CLAIM)


def due_ids(
    engine: Engine,
    model: type[OutboxRow],
    now: datetime,
    *when: ColumnElement[bool],
    order_by: Any,
    max_attempts: int,
    limit: int = 100,
) -> list[int]:
    """The rows still to send (not sent, not held, fewer than ``max_attempts`` tries) that
    also meet the feature's ``when`` (due by now, not expired...), first ``order_by``."""
    with Session(engine) as db:
        rows = db.exec(
            select(col(model.id))
            .where(
                col(model.sent_at).is_(None),
                *when,
                col(model.attempts) < max_attempts,
                unclaimed(model, now),
            )
            .order_by(order_by)
            .limit(limit)
        ).all()
    return [r for r in rows if r is not None]


def link_ids(
    engine: Engine, model: type[ExpiringRow], now: datetime, *, max_attempts: int, limit: int = 100
) -> list[int]:
    """The e-mailed links still to send (not expired yet), oldest first."""
    return due_ids(
        engine,
        model,
        now,
        col(model.expires_at) > now,
        order_by=col(model.id),
        max_attempts=max_attempts,
        limit=limit,
    )


def claim(engine: Engine, model: type[OutboxRow], row_id: int, now: datetime) -> bool:
    """Take the row for this call (one attempt more); False if it is sent or held."""
    with Session(engine) as db:
        result = db.exec(
            update(model)
            .where(col(model.id) == row_id, col(model.sent_at).is_(None), unclaimed(model, now))
            .values(claimed_at=now, attempts=col(model.attempts) + 1)
        )
        db.commit()
        return bool(result.rowcount == 1)


def finish(
    engine: Engine,
    model: type[OutboxRow],
    row_id: int,
    *,
    sent: bool,
    now: datetime,
    own_claim_only: bool = False,
) -> None:
    """Mark the claim's outcome: sent (``sent_at``) or released (``claimed_at`` cleared).

    ``own_claim_only``: touch the row only while it still holds this call's claim — a row
    re-armed meanwhile (a resend cleared the claim for its new link) is left for the next run.
    """
    values = {"sent_at": now} if sent else {"claimed_at": None}
    condition = col(model.id) == row_id
    if own_claim_only:
        condition = condition & (col(model.claimed_at) == now)
    with Session(engine) as db:
        db.exec(update(model).where(condition).values(**values))
        db.commit()


def deliver(
    engine: Engine,
    mailer: Mailer,
    model: type[Row],
    row_id: int,
    now: datetime,
    compose: Callable[[Session, Row], EmailMessage | None],
    message_id: Callable[[Row], str],
    what: str,
    *,
    release_if_nothing: bool = False,
    own_claim_only: bool = False,
    logger: logging.Logger = log,
) -> bool:
    """Claim, compose and send one row's e-mail. True if this call sent it.

    ``compose(db, row)`` is called in a session of its own; when it returns None the row is
    done (nothing to say any more) or, with ``release_if_nothing``, released (not due now:
    a later run asks again). ``message_id(row)`` replaces the Message-ID, so a resend after a
    crash shows as the same message. A failure is logged as "<what> <id> could not be sent"
    on ``logger`` and releases the claim.
    """
    if not claim(engine, model, row_id, now):
        return False
    try:
        with Session(engine, expire_on_commit=False) as db:
            row = db.get(model, row_id)
            message = compose(db, row) if row is not None else None
        if message is None or row is None:
            finish(
                engine,
                model,
                row_id,
                sent=not release_if_nothing,
                now=now,
                own_claim_only=own_claim_only,
            )
            return False
        del message["Message-ID"]
        message["Message-ID"] = message_id(row)
        mailer.send(message)
    except Exception:
        logger.exception("%s %s could not be sent; it will be retried", what, row_id)
        finish(engine, model, row_id, sent=False, now=now, own_claim_only=own_claim_only)
        return False
    finish(engine, model, row_id, sent=True, now=now, own_claim_only=own_claim_only)
    return True
