"""No table is forgotten: every table a shopper's row can reach (by foreign keys, as the
export walks them) has an erasure rule, and every text column of a kept table is either
scrubbed or declared as saying nothing about the shopper. A new table with a
``shopper_id`` fails here until someone decides what erasing does to it; one holding
people's names or addresses without a foreign key must be declared below."""

from __future__ import annotations

from sqlalchemy import JSON, String, Text
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from sessions.privacy.tables import RULES, Delete, Keep, reachable_tables

# Personal-looking columns of tables no shopper's row reaches: staff, brands, catalogue.
NOT_ABOUT_SHOPPERS = {
    "show_cohosts.display_name": "a show's co-host (staff or a guest on camera), not a shopper",
    "show_invitees.email": "a private show's invitee, entered by the brand (removed with the show)",
    "show_invitees.name": "a private show's invitee, entered by the brand (removed with the show)",
    "staff_invitations.email": "a staff member invited by the brand",
    "staff_invitations.name": "a staff member invited by the brand",
    "users.email": "a staff member's own account",
    "users.name": "a staff member's own account",
    "login_attempts.email": "staff sign-in throttling (shoppers have no password)",
    "associate_profiles.display_name": "the associate, shown to shoppers",
    "stores.name": "a store of the brand",
    "stores.address": "a store of the brand",
    "brands.name": "the brand",
    "products.name": "a product",
    "saved_replies.body": "a reply template (placeholders, never a shopper's words)",
    "audit_entries.detail": "staff actions name shoppers by id only",
    "audit_entries.actor_name": "the staff member who acted",
}
PERSONAL_HINTS = ("email", "name", "phone", "address", "body", "note", "comment", "detail")


def text_columns(table_name: str) -> set[str]:
    table = SQLModel.metadata.tables[table_name]
    return {c.name for c in table.columns if isinstance(c.type, String | Text | JSON | AutoString)}


def test_every_reachable_table_has_an_erasure_rule() -> None:
    reachable = reachable_tables()
    assert {"threads", "thread_messages", "bags", "orders", "chat_messages"} <= reachable
    missing = sorted(reachable - set(RULES))
    assert missing == [], (
        f"say what erasing a shopper does to: {missing} (sessions/privacy/tables.py)"
    )
    assert sorted(set(RULES) - reachable) == [], "a rule for a table no shopper's row reaches"


def test_every_text_column_of_a_kept_table_is_scrubbed_or_declared() -> None:
    undecided = []
    for name, rule in RULES.items():
        if isinstance(rule, Delete):
            continue
        assert isinstance(rule, Keep)
        decided = set(rule.scrub) | set(rule.own) | rule.not_personal
        undecided += [f"{name}.{c}" for c in sorted(text_columns(name) - decided)]
    assert undecided == [], f"scrub these on erasure, or declare them not personal: {undecided}"


def test_personal_columns_out_of_the_walks_reach_are_declared() -> None:
    reachable = reachable_tables()
    found = sorted(
        f"{table.name}.{column}"
        for table in SQLModel.metadata.sorted_tables
        if table.name not in reachable
        for column in text_columns(table.name)
        if any(hint in column for hint in PERSONAL_HINTS)
    )
    undeclared = [c for c in found if c not in NOT_ABOUT_SHOPPERS]
    assert undeclared == [], f"about shoppers? link them by a foreign key, or declare: {undeclared}"
