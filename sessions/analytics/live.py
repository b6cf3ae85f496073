"""The host console's live panel: bag value and revenue so far, pushed as they change.

Counted from the store like every figure (docs/analytics.md), cheaply enough to run
after each add-to-bag and each order: two aggregate queries.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func
from sqlmodel import Session, select

from sessions.analytics.events import ADD_TO_BAG
from sessions.events import publish
from sessions.models import AnalyticsEvent, LiveSession, Order

# Built once with a parameter: sessions/db.py, "statements built once" (every add runs them).
_ADDS = select(func.count(), func.coalesce(func.sum(AnalyticsEvent.value_minor), 0)).where(
    AnalyticsEvent.live_session_id == bindparam("live"), AnalyticsEvent.kind == ADD_TO_BAG
)
_ORDERS = select(
    func.count(), func.coalesce(func.sum(Order.total_minor - Order.refunded_minor), 0)
).where(
    Order.live_session_id == bindparam("live"),
    Order.attribution == "attributed",
    Order.total_minor > Order.refunded_minor,
)


def live_figures(db: Session, live: LiveSession) -> dict[str, Any]:
    adds, value = db.exec(_ADDS, params={"live": live.id}).one()
    orders, revenue = db.exec(_ORDERS, params={"live": live.id}).one()
    return {
        "live_session_id": live.id,
        "adds": int(adds),
        "add_value_minor": int(value),
        "orders": int(orders),
        "revenue_minor": int(revenue),
    }


def publish_live_figures(db: Session, live: LiveSession | None) -> None:
    """Tell the session's hosts its new figures (after the caller's commit)."""
    if live is not None:
        publish("live_figures", live.room, audience="hosts", **live_figures(db, live))
