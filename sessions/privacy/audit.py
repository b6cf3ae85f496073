"""The audit log of staff actions: who changed prices, stock, settings, sanctions, roles.

``record`` adds the entry to the caller's session without committing: the ``do_*`` action
commits it with the change itself, so a change and its entry are one transaction. Other
areas call ``record`` the same way (``sessions/accounts.py`` for invitations and roles)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from sessions.access import Actor
from sessions.accounts.audit import AccountAction, on_account_action
from sessions.models import AuditEntry, User

# The actions written today, for the admin page's filter (a new one is listed by its name).
ACTIONS = (
    "price.set",
    "product.update",
    "stock.set",
    "catalogue.import",
    "settings.update",
    "webhook_secret.rotate",
    "sanction.mute",
    "sanction.ban",
    "sanction.unmute",
    "user.create",
    "user.activate",
    "user.deactivate",
    "associate.update",
    "shopper.erase",
    "shopper.export",
    "user.role",
    "account.invited",
    "account.invitation_resent",
    "account.invitation_revoked",
    "account.invitation_accepted",
    "account.password_reset",
    "account.password_changed",
    "account.two_factor_on",
    "account.two_factor_off",
)


def record(
    db: Session,
    actor: Actor | None,
    action: str,
    target: str,
    detail: dict[str, Any] | None = None,
    *,
    brand_id: int | None = None,
) -> AuditEntry:
    """Add one entry to ``db``'s transaction (the caller commits it with its change).
    ``actor`` None is the system (the command line, the scheduler, the demo)."""
    entry = AuditEntry(
        brand_id=brand_id if brand_id is not None else (actor.brand_id if actor else None),
        actor_user_id=actor.user_id if actor else None,
        actor_name=(actor.name if actor and actor.user_id else "system")[:120],
        action=action[:48],
        target=target[:120],
        detail=json.dumps(detail or {}, default=str, sort_keys=True, ensure_ascii=False),
    )
    db.add(entry)
    return entry


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{"field": [before, after]} for the fields whose value changed."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    page: int
    pages: int
    total: int


def list_entries(
    db: Session,
    brand_id: int,
    *,
    action: str = "",
    actor_user_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    per_page: int = 50,
) -> AuditPage:
    """A brand's entries, newest first, filtered, one page of them."""
    where = [col(AuditEntry.brand_id) == brand_id]
    if action:
        where.append(col(AuditEntry.action) == action)
    if actor_user_id is not None:
        where.append(col(AuditEntry.actor_user_id) == actor_user_id)
    if since is not None:
        where.append(col(AuditEntry.created_at) >= since)
    if until is not None:
        where.append(col(AuditEntry.created_at) < until)
    total = db.exec(select(func.count()).select_from(AuditEntry).where(*where)).one()
    pages = max(1, -(-int(total) // per_page))
    page = min(max(1, page), pages)
    entries = db.exec(
        select(AuditEntry)
        .where(*where)
        .order_by(col(AuditEntry.created_at).desc(), col(AuditEntry.id).desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    db.commit()
    return AuditPage(list(entries), page, pages, int(total))


# Account actions written by their own do_* inside the change's transaction, not here.
_RECORDED_IN_PLACE = {"deactivated", "reactivated", "role_changed"}


@on_account_action
def _record_account_action(db: Session, action: AccountAction) -> None:
    """Invitations, resets, password changes and two-factor announce themselves after
    their commit (sessions/accounts/audit.py); their entry is its own small transaction."""
    if action.action in _RECORDED_IN_PLACE:
        return
    actor = db.get(User, action.actor_user_id) if action.actor_user_id else None
    db.add(
        AuditEntry(
            brand_id=action.brand_id,
            actor_user_id=action.actor_user_id,
            actor_name=(actor.name if actor else "system")[:120],
            action=f"account.{action.action}"[:48],
            target=f"user:{action.subject_user_id}" if action.subject_user_id else "",
            detail=json.dumps(action.detail, default=str, sort_keys=True, ensure_ascii=False),
        )
    )
    db.commit()
