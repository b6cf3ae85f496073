"""The hook where account actions announce themselves, for an audit log of staff actions.

The accounts actions call :func:`note` after their commit; nothing listens by default.
The audit log registers a listener with :func:`on_account_action` and stores the rows
its own way; the accounts code neither knows nor waits for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session


@dataclass(frozen=True)
class AccountAction:
    # invited, invitation_resent, invitation_revoked, invitation_accepted, password_reset,
    # password_changed, deactivated, reactivated, role_changed, two_factor_on, two_factor_off
    action: str
    subject_user_id: int | None
    brand_id: int | None
    actor_user_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


Listener = Callable[[Session, AccountAction], None]
_listeners: list[Listener] = []


def on_account_action(listener: Listener) -> Listener:
    """Register a listener (usable as a decorator)."""
    _listeners.append(listener)
    return listener


def note(db: Session, action: AccountAction) -> None:
    for listener in list(_listeners):
        listener(db, action)
