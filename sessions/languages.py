"""A staff member's console language: kept on their account, so it follows them to any
device and across sign-ins."""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import Session

from sessions.errors import InvalidInput
from sessions.models import User


def do_set_staff_language(
    db: Session, user: User, language: str | None, *, offered: Collection[str]
) -> None:
    """Keep ``language`` (one of ``offered``), or None to follow the browser again."""
    if language is not None and language not in offered:
        raise InvalidInput("Choose one of the languages offered.", field="language")
    user.language = language
    db.add(user)
    db.commit()
