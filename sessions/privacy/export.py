"""Everything Vitrine holds about a shopper, as JSON (GDPR art. 15 and 20, PIPL art. 45).

Built from the schema (``tables.find_rows``), not from a list of tables: a table added
later with a foreign key to a shopper's row is in the export by itself."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import Any

from sqlmodel import Session

from sessions.access import Actor, access_shopper_data
from sessions.clock import utcnow
from sessions.errors import N_, NotFound
from sessions.models import Shopper
from sessions.privacy.tables import EXPORT_OMITS, find_rows

FORMAT = "vitrine-shopper-export/1"


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return value.hex()
    return value


def export_shopper(db: Session, shopper_id: int, *, brand_id: int | None = None) -> dict[str, Any]:
    """The shopper's rows, table by table, each row as its columns (secrets left out).
    With ``brand_id``, only that brand's rows (what its staff hand over on request)."""
    found = find_rows(db, shopper_id, brand_id=brand_id)
    if not found.rows:
        raise NotFound(N_("No shopper with id %(id)s."), params={"id": shopper_id})
    out: dict[str, list[dict[str, Any]]] = {}
    for table in sorted(found.rows):
        rows = found.rows[table]
        out[table] = [
            {
                column: _json_value(value)
                for column, value in rows[row_id].items()
                if (table, column) not in EXPORT_OMITS
            }
            for row_id in sorted(rows)
        ]
    return {
        "format": FORMAT,
        "generated_at": utcnow().isoformat(),
        "shopper_id": shopper_id,
        "brand_id": brand_id,
        "tables": out,
    }


def export_for(db: Session, actor: Actor, shopper_id: int, brand_id: int | None) -> dict[str, Any]:
    """The export a person may have: the shopper themself, everything; a brand's admin,
    the shopper's rows at their brand (a request made to the brand); a platform admin, all."""
    shopper = db.get(Shopper, shopper_id)
    db.commit()
    if shopper is None:
        raise NotFound(N_("No shopper with id %(id)s."), params={"id": shopper_id})
    scope = access_shopper_data(actor, shopper_id, brand_id)
    out = export_shopper(db, shopper_id, brand_id=scope)
    if scope is not None and set(out["tables"]) <= {"shoppers"}:
        # Never a stranger's name and e-mail to a brand they never dealt with.
        raise NotFound(N_("No shopper with id %(id)s at this brand."), params={"id": shopper_id})
    return out


def find_shoppers(db: Session, brand_id: int, email: str, limit: int = 20) -> list[Shopper]:
    """The shoppers of this brand known by this e-mail address (their own, or the one
    given on a booking or a message left), for the admin acting on a request."""
    from sqlmodel import col, func, or_, select

    from sessions.models import Appointment, OfflineMessage

    address = email.strip().lower()
    if not address:
        return []
    booked = select(Appointment.shopper_id).where(
        Appointment.brand_id == brand_id, func.lower(Appointment.shopper_email) == address
    )
    left = select(OfflineMessage.shopper_id).where(
        OfflineMessage.brand_id == brand_id, func.lower(OfflineMessage.email) == address
    )
    candidates = db.exec(
        select(Shopper)
        .where(
            or_(
                func.lower(col(Shopper.email)) == address,
                col(Shopper.id).in_(booked),
                col(Shopper.id).in_(left),
            )
        )
        .order_by(col(Shopper.id))
        .limit(limit)
    ).all()
    db.commit()
    return [
        s
        for s in candidates
        if s.id is not None and len(find_rows(db, s.id, brand_id=brand_id).rows) > 1
    ]
