"""Send each e-mailed staff link exactly once, on whichever node claims it first.

The same pattern as the shopper's sign-in link (sessions/service/signin.py), through the
one outbox every such e-mail shares (sessions/outbox.py): the row is committed first; a
conditional ``UPDATE`` claims it (``claimed_at``), the message goes, ``sent_at`` marks it
done. A node that died mid-send leaves a claim that goes stale and is retried, a few times
at most. What the message says is the caller's (the web layer writes it in the reader's
language); this module only says which staff links are due, their Message-ID, and that a
link re-armed by a resend meanwhile is left for the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from sessions import outbox
from sessions.mail import Mailer
from sessions.models import PasswordReset, StaffInvitation

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8

Row = TypeVar("Row", StaffInvitation, PasswordReset)
# Given the open session and the row: the message to send, or None (nothing to say any more).
Compose = Callable[[Session, Any], EmailMessage | None]


def _message_id(row: StaffInvitation | PasswordReset) -> str:
    return f"<{row.__tablename__}-{row.id}-{row.salt[:8]}@vitrine.local>"


def deliver(
    engine: Engine, mailer: Mailer, model: type[Row], row_id: int, compose: Compose, now: datetime
) -> bool:
    """Claim, compose and send one row's e-mail. True if this call sent it."""
    return outbox.deliver(
        engine,
        mailer,
        model,
        row_id,
        now,
        compose,
        _message_id,
        str(model.__tablename__),
        own_claim_only=True,  # a resend cleared the claim for its new link: not ours to mark
        logger=log,
    )


def due_ids(engine: Engine, model: type[Row], now: datetime, limit: int = 100) -> list[int]:
    return outbox.link_ids(engine, model, now, max_attempts=MAX_ATTEMPTS, limit=limit)


def run_due(
    engine: Engine, mailer: Mailer, model: type[Row], compose: Compose, now: datetime
) -> int:
    """Send every row of this kind not sent yet; returns how many this call sent."""
    return sum(deliver(engine, mailer, model, i, compose, now) for i in due_ids(engine, model, now))
