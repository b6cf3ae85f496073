"""Which rows are about a shopper, found from the schema itself, and what erasure does to
each table.

A row is the shopper's when a foreign key leads to it from their ``shoppers`` row,
downwards: the tables with a ``shopper_id`` (threads, bags, appointments, chat messages,
votes...), then their children (a thread's messages, a bag's lines, an appointment's
reminders, a consultation's chat), and so on. A row that names another shopper in a
``shopper_id`` column is that shopper's, not this one's (someone else's upvote of their
question), and the walk does not pass it. Nothing here lists the tables to export: a new
table with a foreign key to a shopper's row is exported by itself. What erasure does must
be said per table (``RULES``); ``tests/privacy/test_coverage.py`` fails when a table the
walk can reach has no rule, or a text column of a kept table is neither scrubbed nor
declared as saying nothing about the shopper.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, select
from sqlmodel import Session, SQLModel

import sessions.models  # noqa: F401  (every table in the metadata)

ERASED = "[erased]"
# Placeholders resolved per erasure (a new random value, the same for all of one shopper's rows).
NEW_TOKEN = object()
NEW_VIEWER_KEY = object()


@dataclass(frozen=True)
class Keep:
    """The rows stay (the brand's records and counts); their personal columns are replaced.

    ``scrub`` applies to every row of the shopper's; ``own`` only to the ones they wrote
    themselves (a message whose side is the shopper's), so a staff message keeps its
    author. ``not_personal`` names the text columns that say nothing about the shopper."""

    scrub: Mapping[str, Any] = field(default_factory=dict)
    own: Mapping[str, Any] = field(default_factory=dict)
    not_personal: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Delete:
    """The rows go: they exist only for the shopper (a sign-in link, a reminder)."""

    reason: str


def _np(*names: str) -> frozenset[str]:
    return frozenset(names)


RULES: dict[str, Keep | Delete] = {
    "shoppers": Keep(
        scrub={"name": None, "email": None, "timezone": None, "token": NEW_TOKEN},
        not_personal=_np("language"),  # the page language they chose, naming nobody
    ),
    "signin_links": Delete("a link to sign in as them"),
    "reminders": Delete("an appointment e-mail still to send to them"),
    "waitlist_entries": Delete("their wish for an earlier time"),
    "waitlist_holds": Delete("a time held for them from the waitlist"),
    "show_reminders": Delete("their address, to remind them of a show"),
    "show_reminder_mails": Delete("an e-mail to that address"),
    "threads": Keep(not_personal=_np("status", "language", "declined_by")),
    "thread_messages": Keep(
        scrub={
            "body": ERASED,
            "note": "",
            "attachment_url": None,
            "context": "",
            "client_id": None,
        },
        own={"author_name": ERASED},
        # A snapshot's measured colours (no person in them).
        not_personal=_np("kind", "side", "colour_report"),
    ),
    "chat_messages": Keep(
        scrub={"body": ERASED, "attachment_path": None, "client_id": None},
        own={"author_name": ERASED},
        # A snapshot's measured colours (sessions/colour): a piece's, not the shopper's.
        not_personal=_np("kind", "colour_report"),
    ),
    "appointments": Keep(
        scrub={
            "shopper_name": ERASED,
            "shopper_email": "",
            "shopper_timezone": "UTC",
            "notes": "",
            "cancel_reason": "",
        },
        not_personal=_np("status", "language"),
    ),
    "appointment_slots": Keep(),
    "queue_requests": Keep(not_personal=_np("mode", "language", "status", "declined_by")),
    "offline_messages": Keep(scrub={"name": ERASED, "email": "", "body": ERASED, "answer": ""}),
    "ratings": Keep(scrub={"comment": ""}),
    "bags": Keep(not_personal=_np("status")),
    "bag_lines": Keep(not_personal=_np("currency")),
    "stock_reservations": Keep(),
    "checkout_handoffs": Keep(not_personal=_np("method", "currency", "target")),
    "orders": Keep(not_personal=_np("external_id", "attribution", "mode", "currency", "lines")),
    "analytics_events": Keep(
        scrub={"viewer_key": NEW_VIEWER_KEY},
        not_personal=_np("kind", "detail", "mode", "view_id"),
    ),
    "video_requests": Keep(not_personal=_np("asked_by", "status")),
    "live_sessions": Keep(not_personal=_np("kind", "room", "status", "relay_id")),
    "consultation_consents": Keep(),
    "room_sanctions": Keep(not_personal=_np("kind")),
    "pinned_products": Keep(),
    "flash_offers": Keep(),
    "polls": Keep(not_personal=_np("question")),
    "poll_answers": Keep(not_personal=_np("label")),
    "poll_votes": Keep(),
    "show_questions": Keep(scrub={"body": ERASED}, own={"author_name": ERASED}),
    "question_upvotes": Keep(),
}

# Never in an export, even the shopper's own: the guest credential (a staff export would
# hand it to staff) and the pseudonymous analytics key derived from the browser's cookie.
EXPORT_OMITS = {("shoppers", "token"), ("analytics_events", "viewer_key")}
# Rows found by the shopper's verified e-mail address too (asked before they had a row).
BY_EMAIL = {"show_reminders": "email", "offline_messages": "email"}


def tables() -> dict[str, Table]:
    return dict(SQLModel.metadata.tables)


def children_of(name: str) -> list[tuple[Table, str]]:
    """(table, column) pairs whose foreign key points at ``name``'s id."""
    found = []
    for table in SQLModel.metadata.sorted_tables:
        for column in table.columns:
            for fk in column.foreign_keys:
                if fk.column.table.name == name and fk.column.name == "id":
                    found.append((table, column.name))
    return found


def reachable_tables() -> set[str]:
    """Every table a row of which can be about a shopper (the walk's reach in the schema)."""
    seen, todo = {"shoppers"}, ["shoppers"]
    while todo:
        for child, _ in children_of(todo.pop()):
            if child.name not in seen:
                seen.add(child.name)
                todo.append(child.name)
    return seen


def shopper_columns(table: Table) -> list[str]:
    return [
        c.name
        for c in table.columns
        if any(fk.column.table.name == "shoppers" for fk in c.foreign_keys)
    ]


@dataclass
class Found:
    """The shopper's rows, table by table (as mappings), and the brand each row is of."""

    rows: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    brand: dict[tuple[str, int], int | None] = field(default_factory=dict)

    def ids(self, table: str) -> list[int]:
        return sorted(self.rows.get(table, {}))

    def add(self, table: str, row: dict[str, Any], brand_id: int | None) -> bool:
        rows = self.rows.setdefault(table, {})
        if row["id"] in rows:
            return False
        rows[row["id"]] = row
        self.brand[(table, row["id"])] = brand_id
        return True


def find_rows(
    db: Session, shopper_id: int, *, brand_id: int | None = None, chunk: int = 500
) -> Found:
    """Walk the foreign keys down from the shopper's row; with ``brand_id``, only the rows
    of that brand (a brand's staff act for the shopper at their brand only)."""
    meta = tables()
    shoppers = meta["shoppers"]
    me = db.execute(select(shoppers).where(shoppers.c.id == shopper_id)).mappings().first()
    found = Found()
    if me is None:
        return found
    found.add("shoppers", dict(me), None)
    todo: list[tuple[str, list[int]]] = [("shoppers", [shopper_id])]
    while todo:
        parent, ids = todo.pop(0)
        for child, column in children_of(parent):
            new = _take_children(db, found, child, column, parent, ids, shopper_id, brand_id, chunk)
            if new:
                todo.append((child.name, new))
    if me["email"] and me["email_verified_at"] is not None:
        for name, column in BY_EMAIL.items():
            table = meta[name]
            rows = db.execute(select(table).where(table.c[column] == me["email"])).mappings()
            new = [
                r["id"]
                for r in rows
                if _mine(table, r, shopper_id)
                and _in_brand(db, found, name, dict(r), None, brand_id)
            ]
            if new:
                todo.append((name, new))
        while todo:  # the children of rows found by e-mail (a reminder's mails)
            parent, ids = todo.pop(0)
            for child, column in children_of(parent):
                new = _take_children(
                    db, found, child, column, parent, ids, shopper_id, brand_id, chunk
                )
                if new:
                    todo.append((child.name, new))
    db.commit()  # end the reads: on SQLite they would hold the write lock
    return found


def _take_children(
    db: Session,
    found: Found,
    child: Table,
    column: str,
    parent: str,
    ids: list[int],
    shopper_id: int,
    brand_id: int | None,
    chunk: int,
) -> list[int]:
    new: list[int] = []
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        rows = db.execute(select(child).where(child.c[column].in_(part))).mappings().all()
        for row in rows:
            if not _mine(child, row, shopper_id):
                continue
            inherited = found.brand.get((parent, row[column]))
            if _in_brand(db, found, child.name, dict(row), inherited, brand_id):
                new.append(row["id"])
    return new


def _mine(table: Table, row: Any, shopper_id: int) -> bool:
    """Not a row another shopper wrote or owns (their vote, their upvote, their bag)."""
    return all(row[c] in (None, shopper_id) for c in shopper_columns(table))


def _in_brand(
    db: Session,
    found: Found,
    table: str,
    row: dict[str, Any],
    inherited: int | None,
    brand_id: int | None,
) -> bool:
    own_brand = row.get("brand_id", inherited)
    if own_brand is None and inherited is None and table != "shoppers":
        own_brand = _brand_through_parents(db, table, row)
    if brand_id is not None and own_brand != brand_id:
        return False
    return found.add(table, row, own_brand)


def _brand_through_parents(db: Session, name: str, row: dict[str, Any]) -> int | None:
    """A row without a brand column, reached from the shoppers row: its brand is its
    parents' (a chat message's session, a vote's poll's session)."""
    table = tables()[name]
    for column in table.columns:
        value = row.get(column.name)
        if value is None:
            continue
        for fk in column.foreign_keys:
            parent = fk.column.table
            if parent.name in ("shoppers", "users") or fk.column.name != "id":
                continue
            parent_row = db.execute(select(parent).where(parent.c.id == value)).mappings().first()
            if parent_row is None:
                continue
            if "brand_id" in parent_row:
                brand: int | None = parent_row["brand_id"]
                return brand
            brand = _brand_through_parents(db, parent.name, dict(parent_row))
            if brand is not None:
                return brand
    return None
