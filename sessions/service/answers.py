"""Automatic answers when nobody is free (a placeholder: the grounded version replaces it).

The signature is the contract the thread code calls; this stand-in knows nothing and
says so honestly: an associate will confirm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from sessions.models import Brand


@dataclass(frozen=True)
class AutomaticAnswer:
    text: str
    facts: list[str] = field(default_factory=list)
    knows: bool = False


def automatic_answer(
    db: Session, brand: Brand, *, question: str, product_id: int | None, now: datetime
) -> AutomaticAnswer:
    return AutomaticAnswer(
        text=(
            "This is an automatic answer: nobody is free right now. "
            f"An associate of {brand.name} will read your question and confirm."
        ),
        facts=[],
        knows=False,
    )
