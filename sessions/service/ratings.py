"""After a consultation: the shopper's rating.

An associate's record and the team's ranking (ratings among them) are computed with
every other per-associate figure in ``sessions.analytics.metrics`` (``associate_summary``,
``team``), defined once in docs/analytics.md.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from sessions.errors import Conflict, Forbidden, InvalidInput
from sessions.events import publish
from sessions.models import (
    LiveSession,
    Rating,
    SessionKind,
)


def do_rate(
    db: Session, live: LiveSession, *, shopper_id: int, score: int, comment: str = ""
) -> Rating:
    if live.kind is not SessionKind.CONSULTATION or live.associate_id is None:
        raise InvalidInput("Only a consultation can be rated.")
    if live.shopper_id != shopper_id:
        raise Forbidden("Only the shopper of this consultation may rate it.")
    if live.started_at is None:
        raise Conflict("This consultation has not taken place yet.")
    if not 1 <= score <= 5:
        raise InvalidInput("Give a score from 1 to 5.", field="score")
    assert live.id is not None
    rating = Rating(
        brand_id=live.brand_id,
        associate_id=live.associate_id,
        live_session_id=live.id,
        shopper_id=shopper_id,
        score=score,
        comment=comment.strip()[:2000],
    )
    db.add(rating)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise Conflict("You have already rated this consultation. Thank you!") from None
    publish("rated", None, audience=f"associate:{live.associate_id}", score=score)
    return rating
